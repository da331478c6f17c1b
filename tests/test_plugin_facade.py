"""Plugins use the core only through ``wiki.api``; every facade name is documented, also in the
plugin author's guide (``docs/plugins.md``), and so is every hook."""

from __future__ import annotations

import ast
import inspect
import io
import tokenize
from pathlib import Path

import pytest

from wiki import api, hookspecs

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
GUIDE = ROOT / "docs" / "plugins.md"


def core_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of a ``wiki`` module other than ``wiki.api``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "wiki" or alias.name.startswith("wiki."):
                    if alias.name != "wiki.api":
                        found.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "wiki":
                found += [(node.lineno, f"wiki.{a.name}") for a in node.names if a.name != "api"]
            elif node.module.startswith("wiki.") and node.module != "wiki.api":
                found.append((node.lineno, node.module))
    return found


def plugin_modules() -> list[Path]:
    return sorted(p for p in PLUGINS.rglob("*.py") if "tests" not in p.relative_to(PLUGINS).parts)


def test_the_import_check_catches_view_and_internal_imports():
    source = (
        "from wiki.views.common import can\n"
        "import wiki.db\n"
        "from wiki import acl as A\n"
        "def f():\n"
        "    from wiki.views.pages import conflict_page\n"
        "from wiki.api import can\n"
        "from wiki import api as P\n"
    )
    assert [m for _line, m in core_imports(ast.parse(source))] == [
        "wiki.views.common",
        "wiki.db",
        "wiki.acl",
        "wiki.views.pages",
    ]


def test_plugins_import_the_core_only_through_the_facade():
    modules = plugin_modules()
    assert len(modules) > 20  # spaces and resolutions, their migrations included
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in modules
        for line, module in core_imports(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not offenders, "plugins must import the core only from wiki.api:\n" + "\n".join(
        offenders
    )


def commented_names() -> set[str]:
    """Names in wiki/api.py that carry a comment on their own line (re-exported constants)."""
    source = Path(api.__file__).read_text(encoding="utf-8")
    lines = source.splitlines()
    names = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            code = lines[token.start[0] - 1][: token.start[1]]
            names.update(word.strip(" ,()") for word in code.replace(" as ", " ").split())
    return names


@pytest.mark.parametrize("name", api.__all__)
def test_every_facade_name_exists_and_is_documented(name):
    assert hasattr(api, name), f"wiki.api.__all__ lists {name!r}, which it does not define"
    obj = getattr(api, name)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        own = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
        generated = bool(own) and own.startswith(f"{obj.__name__}(")  # a dataclass's signature
        documented = bool(own and own.strip() and not generated) or name in commented_names()
    else:
        documented = name in commented_names()
    assert documented, f"wiki.api.{name} needs a docstring or a comment where it is imported"


def test_the_facade_lists_no_name_twice():
    assert len(api.__all__) == len(set(api.__all__))


@pytest.mark.parametrize("name", api.__all__)
def test_every_facade_name_is_in_the_guide(name):
    assert f"`{name}`" in GUIDE.read_text(encoding="utf-8"), f"docs/plugins.md lacks `{name}`"


@pytest.mark.parametrize(
    "name", [n for n, obj in vars(hookspecs).items() if n.startswith("wiki_") and callable(obj)]
)
def test_every_hook_is_in_the_guide(name):
    assert f"`{name}`" in GUIDE.read_text(encoding="utf-8"), f"docs/plugins.md lacks `{name}`"


def test_the_guides_references_are_generated_from_the_code():
    """The hook and facade references in docs/plugins.md match the docstrings of today."""
    from tools import plugin_docs

    text = GUIDE.read_text(encoding="utf-8")
    assert plugin_docs.render(text) == text, (
        "docs/plugins.md is out of date: run .venv/bin/python tools/plugin_docs.py"
    )


def test_render_markdown_escapes_and_marks_missing_links(app):
    with app.test_request_context("/"):
        html = api.render_markdown("<b>x</b> [[start]] [[fehlt]] [x](javascript:alert(1))", "a/b")
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert 'href="/start"' in html or 'data-page="start"' in html
    assert 'class="wikilink new"' in html and 'data-page="fehlt"' in html
    assert "javascript:" not in html
