"""Regenerate the reference parts of ``docs/plugins.md`` from the code, so they cannot drift.

    .venv/bin/python tools/plugin_docs.py

The hook reference comes from the docstrings in ``wiki/hookspecs.py``, the facade reference from
``wiki.api.__all__`` (first paragraph of each docstring, or the comment where a value is
imported). Each part sits between ``<!-- BEGIN generated: NAME -->`` and ``<!-- END generated:
NAME -->``; ``tests/test_plugin_facade.py`` fails when the file differs from what this writes.
"""

from __future__ import annotations

import inspect
import io
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def hooks_markdown() -> str:
    """One section per hook: signature, call semantics and the docstring."""
    from wiki import hookspecs

    parts = []
    for name, obj in vars(hookspecs).items():
        if not (name.startswith("wiki_") and callable(obj)):
            continue
        options = getattr(obj, "verbandswiki_spec", None) or {}
        how = (
            " — *firstresult*: the first non-None answer wins."
            if options.get("firstresult")
            else " — every implementation is called; the answers are collected."
        )
        parts.append(
            f"#### `{name}`\n\n`{name}{inspect.signature(obj)}`{how}\n\n{inspect.getdoc(obj)}\n"
        )
    return "\n".join(parts)


def _comments(source: str) -> dict[str, str]:
    """Name → the comment on its line in ``wiki/api.py`` (re-exported values)."""
    lines = source.splitlines()
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            code = lines[token.start[0] - 1][: token.start[1]]
            for word in code.replace(" as ", " ").split():
                found[word.strip(" ,()")] = token.string.lstrip("# ").strip()
    return found


def own_doc(obj) -> str | None:
    """The object's own docstring (not a dataclass's generated signature), or None."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return None
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    if not doc or not doc.strip() or doc.startswith(f"{obj.__name__}("):
        return None
    return doc


def facade_markdown() -> str:
    """A table row per name of ``wiki.api.__all__``."""
    from wiki import api

    comments = _comments(Path(api.__file__).read_text(encoding="utf-8"))
    rows = ["| name | kind | what it is |", "|---|---|---|"]
    for name in api.__all__:
        obj = getattr(api, name)
        doc = own_doc(obj)
        text = inspect.cleandoc(doc).split("\n\n")[0] if doc else comments.get(name, "")
        kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "value"
        text = " ".join(text.split()).replace("|", "\\|")
        rows.append(f"| `{name}` | {kind} | {text} |")
    return "\n".join(rows) + "\n"


PARTS = {"hooks": hooks_markdown, "facade": facade_markdown}


def render(text: str) -> str:
    """``text`` with every generated part replaced by what the code says now."""
    for name, build in PARTS.items():
        pattern = re.compile(
            rf"(<!-- BEGIN generated: {name} -->\n).*?(<!-- END generated: {name} -->)", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"docs/plugins.md lacks the markers of the generated part {name!r}")
        body = build()
        text = pattern.sub(lambda m, body=body: f"{m[1]}\n{body}\n{m[2]}", text)
    return text


def main() -> int:
    old = GUIDE.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        GUIDE.write_text(new, encoding="utf-8")
        print(f"updated {GUIDE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
