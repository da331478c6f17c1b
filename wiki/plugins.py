"""The plugin manager: hook specs, built-in plugins and those named in ``WIKI_PLUGINS``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pluggy

from wiki import hookspecs

#: Core features implemented as plugins of the public hook API, always enabled.
BUILTIN_PLUGINS = ("wiki.builtins",)


@dataclass(frozen=True)
class NavItem:
    """A header menu entry offered by a plugin."""

    label: str
    url: str


def make_plugin_manager(plugin_names) -> pluggy.PluginManager:
    """A fresh plugin manager with the built-ins and ``plugin_names`` registered, in order."""
    pm = pluggy.PluginManager("verbandswiki")
    pm.add_hookspecs(hookspecs)
    for name in (*BUILTIN_PLUGINS, *plugin_names):
        module = importlib.import_module(name)
        if pm.get_plugin(name) is None:
            pm.register(module, name=name)
    pm.check_pending()
    return pm
