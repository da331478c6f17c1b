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


@dataclass(frozen=True)
class PageSection:
    """A block a plugin adds to a page view (``wiki_page_sections``) with its place."""

    html: str
    place: str = "before"  # "before" or "after" the page text
    #: True when the block depends on nothing but the pages at HEAD and what the reader may
    #: read (not on the clock, nor on member data in the database): only pages whose every
    #: block is cacheable are kept whole for anonymous readers.
    cacheable: bool = False

    def __html__(self) -> str:
        return str(self.html)


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


def register_plugin_objects(pm: pluggy.PluginManager, state) -> None:
    """Plugins that keep per-app state define ``make_plugin(state)``; register what it returns.

    This keeps plugin state inside the app (no module globals), like the core's own services.
    The module itself stays registered for its stateless hooks (CLI commands, template and
    migration folders), which the command line needs before any app exists.
    """
    for name in (*BUILTIN_PLUGINS, *state.config["WIKI_PLUGINS"]):
        module = importlib.import_module(name)
        if hasattr(module, "make_plugin") and pm.get_plugin(f"{name}:app") is None:
            pm.register(module.make_plugin(state), name=f"{name}:app")
    pm.check_pending()
