"""Every hook is documented, and the sample plugin proves the API end to end."""

import inspect

import pytest

from wiki import hookspecs
from wiki.plugins import make_plugin_manager


def all_hooks():
    return [
        (name, obj)
        for name, obj in vars(hookspecs).items()
        if name.startswith("wiki_") and callable(obj)
    ]


def test_hooks_exist_with_prefix():
    assert len(all_hooks()) >= 15


@pytest.mark.parametrize("name,hook", all_hooks())
def test_every_hook_is_documented(name, hook):
    doc = inspect.getdoc(hook)
    assert doc and len(doc) > 30, f"hook {name} lacks documentation"


def test_every_registered_spec_is_in_hookspecs():
    pm = make_plugin_manager([])
    names = {name for name in dir(pm.hook) if name.startswith("wiki_")}
    assert names == {name for name, _ in all_hooks()}


def test_unknown_plugin_fails_loudly():
    with pytest.raises(ImportError):
        make_plugin_manager(["no_such_plugin_anywhere"])
