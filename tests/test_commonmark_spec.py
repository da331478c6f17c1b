"""CommonMark 0.31.2 spec examples through the page renderer (wiki.markup.Renderer).

The spec examples come from markdown-it-py's source archive on PyPI (no wheel ships the spec),
fetched by ``make install-test`` (``tools/commonmark_spec.py``) next to the virtualenv; they are
never fetched at test time. Where they are looked for: ``$COMMONMARK_SPEC`` (a spec.txt or
spec.json), then ``.venv/share/commonmark-0.31.2.json``.

Deliberate differences are normalised or skipped, never counted as passes by accident:

* the sections "HTML blocks" and "Raw HTML" are skipped: raw HTML is shown escaped on purpose;
* headings carry ``id`` attributes and an anchor link (``<a class="anchor" …>#</a>``), removed
  before comparing.

Run ``python tests/test_commonmark_spec.py`` for the per-section table (``-v`` lists failures).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

from wiki.markup import Renderer  # noqa: E402

SPEC_LOCATIONS = (ROOT / ".venv" / "share" / "commonmark-0.31.2.json",)
SKIPPED_SECTIONS = frozenset({"HTML blocks", "Raw HTML"})
# Examples outside those sections whose expected output differs from ours on purpose. They are
# not counted as passes; test_deliberate_differences checks that each differs for its reason.
RAW_HTML_EXAMPLES = frozenset(
    {21, 31, 201, 308, 309, 344, 475, 476, 477, 491, 494, 524, 536, 642, 643}
)
GFM_AUTOLINK_EXAMPLES = frozenset({611, 612})  # bare URL and e-mail: GFM extended autolinks
DELIBERATE = RAW_HTML_EXAMPLES | GFM_AUTOLINK_EXAMPLES
# Issue 12 targets >= 97 % outside the raw-HTML sections. Measured: 571 of 588 (97.1 %) counting
# the deliberate differences as failures, 571 of 571 (100 %) without them. The thresholds are
# what passes today, so any regression fails.
THRESHOLD_STRICT = 0.971
THRESHOLD = 1.0
PAGE_PATH = "spec"

_EXAMPLE_RE = re.compile(r"^`{32} example\n([\s\S]*?)^\.\n([\s\S]*?)^`{32}$|^#{1,6} *(.*)$", re.M)
_HEADING_ANCHOR_RE = re.compile(r'<a class="anchor" href="#[^"]*" aria-hidden="true">#</a>')
_HEADING_ID_RE = re.compile(r'<(h[1-6]) id="[^"]*">')


def spec_path() -> Path | None:
    """The installed spec file, or None."""
    env = os.environ.get("COMMONMARK_SPEC")
    candidates = ([Path(env)] if env else []) + list(SPEC_LOCATIONS)
    return next((p for p in candidates if p.is_file()), None)


def parse_spec_txt(text: str) -> list[dict]:
    """The examples of spec.txt, as the spec's own ``index.js`` extracts them."""
    text = text.replace("\r\n", "\n")
    text = re.sub(r"^<!-- END TESTS -->[\s\S]*", "", text, flags=re.M)
    examples, section = [], ""
    for m in _EXAMPLE_RE.finditer(text):
        if m.group(3) is not None:
            section = m.group(3)
            continue
        examples.append(
            {
                "markdown": m.group(1).replace("\u2192", "\t"),
                "html": m.group(2).replace("\u2192", "\t"),
                "section": section,
                "example": len(examples) + 1,
            }
        )
    return examples


def load_examples() -> list[dict]:
    path = spec_path()
    if path is None:
        return []
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return parse_spec_txt(text)


class _Normaliser(HTMLParser):
    """Whitespace- and attribute-order-insensitive HTML, after the spec's normalize.py."""

    BLOCK = frozenset(
        "article header aside hgroup blockquote hr iframe body li map button object canvas ol "
        "caption output col p colgroup pre dd progress div section dl table td dt tbody embed "
        "textarea fieldset tfoot figcaption th figure thead footer tr form ul h1 h2 h3 h4 h5 h6 "
        "video script style".split()
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.in_pre = 0
        self.last = "starttag"
        self.last_tag = ""

    def handle_data(self, data: str) -> None:
        after_block = self.last in ("starttag", "endtag") and self.last_tag in self.BLOCK
        if not self.in_pre:
            data = re.sub(r"\s+", " ", data)
            if after_block:
                data = data.lstrip()
            if not data:
                return
        self.out.append(data.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        self.last = "data"

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], end: str) -> str:
        parts = [f"<{tag}"]
        for name, value in sorted(attrs):
            parts.append(
                f' {name}="{(value or "").replace("&", "&amp;").replace(chr(34), "&quot;")}"'
            )
        return "".join(parts) + end

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self.in_pre += 1
        if tag in self.BLOCK and self.out:
            self.out[-1] = self.out[-1].rstrip() if self.last == "data" else self.out[-1]
        self.out.append(self._tag(tag, attrs, ">"))
        self.last, self.last_tag = "starttag", tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._tag(tag, attrs, " />"))
        self.last, self.last_tag = "starttag", tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.in_pre -= 1
        if tag in self.BLOCK and self.last == "data" and not self.in_pre:
            self.out[-1] = self.out[-1].rstrip()
        self.out.append(f"</{tag}>")
        self.last, self.last_tag = "endtag", tag


_VOID_RE = re.compile(r"<(br|hr|img|input)((?:\s[^<>]*?)?)\s*/?>")


def normalise(html_text: str) -> str:
    """Comparable form of an HTML fragment; heading ids and anchors are removed."""
    html_text = _HEADING_ANCHOR_RE.sub("", html_text)
    html_text = _HEADING_ID_RE.sub(r"<\1>", html_text)
    # ``<br>`` and ``<br />`` are the same element.
    html_text = re.sub(_VOID_RE, r"<\1\2 />", html_text)
    parser = _Normaliser()
    parser.feed(html_text)
    parser.close()
    return "".join(parser.out).strip()


def run(examples: list[dict]) -> tuple[dict[str, Counter], list[dict]]:
    """Render every example outside the skipped sections: per-section counts and failures."""
    renderer = Renderer()
    sections: dict[str, Counter] = {}
    failures = []
    for ex in examples:
        if ex["section"] in SKIPPED_SECTIONS:
            continue
        counts = sections.setdefault(ex["section"], Counter())
        counts["total"] += 1
        try:
            got = renderer.render(ex["markdown"], PAGE_PATH).html
        except Exception as exc:  # a crash is a failure, reported like any other
            got = f"<crash {type(exc).__name__}: {exc}>"
        if normalise(got) == normalise(ex["html"]):
            counts["passed"] += 1
        else:
            failures.append({**ex, "got": got})
    return sections, failures


def table(sections: dict[str, Counter]) -> str:
    """The per-section table, worst sections (most failures) first."""
    rows = sorted(sections.items(), key=lambda kv: (kv[1]["passed"] - kv[1]["total"], kv[0]))
    lines = [f"{'section':<40} {'passed':>6} {'total':>5}"]
    for name, c in rows:
        lines.append(f"{name:<40} {c['passed']:>6} {c['total']:>5}")
    passed = sum(c["passed"] for c in sections.values())
    total = sum(c["total"] for c in sections.values())
    lines.append(f"{'overall':<40} {passed:>6} {total:>5}  {passed / max(total, 1):.1%}")
    left = total - len(DELIBERATE)
    lines.append(
        f"{'without deliberate differences':<40} {passed:>6} {left:>5}  {passed / max(left, 1):.1%}"
    )
    return "\n".join(lines)


EXAMPLES = load_examples()
needs_spec = pytest.mark.skipif(
    not EXAMPLES,
    reason="CommonMark spec examples not installed (make install-test fetches them)",
)


@needs_spec
def test_spec_version_and_count():
    """The runner reads the whole 0.31.2 spec (652 examples), not a truncated file."""
    assert len(EXAMPLES) == 652
    assert sum(ex["section"] in SKIPPED_SECTIONS for ex in EXAMPLES) == 64


@needs_spec
def test_commonmark_conformance(capsys):
    """Pass rate outside the raw-HTML sections stays at or above THRESHOLD."""
    sections, failures = run(EXAMPLES)
    passed = sum(c["passed"] for c in sections.values())
    total = sum(c["total"] for c in sections.values())
    with capsys.disabled():
        print("\nCommonMark 0.31.2 spec, page renderer:\n" + table(sections))
    unexpected = [f["example"] for f in failures if f["example"] not in DELIBERATE]
    assert passed / total >= THRESHOLD_STRICT, unexpected
    assert passed / (total - len(DELIBERATE)) >= THRESHOLD, unexpected


@needs_spec
def test_deliberate_differences():
    """Each deliberate difference is there for its reason: escaped HTML, GFM autolinks."""
    by_number = {ex["example"]: ex for ex in EXAMPLES}
    renderer = Renderer()
    for number in sorted(DELIBERATE):
        ex = by_number[number]
        assert ex["section"] not in SKIPPED_SECTIONS
        got = renderer.render(ex["markdown"], PAGE_PATH).html
        assert normalise(got) != normalise(ex["html"]), number  # else drop it from the list
        if number in RAW_HTML_EXAMPLES:
            assert "&lt;" in got, number
        else:
            url = ex["markdown"].strip()
            assert f'<a href="{"mailto:" if "@" in url else ""}{url}">' in got, number


def test_normalise_ignores_heading_ids_only():
    """Heading ids and anchors are normalised away; any other difference still counts."""
    ours = '<h2 id="foo">Foo<a class="anchor" href="#foo" aria-hidden="true">#</a></h2>\n'
    assert normalise(ours) == normalise("<h2>Foo</h2>")
    assert normalise("<p>a<br>\nb</p>") == normalise("<p>a<br />\nb</p>")
    assert normalise("<p>Foo</p>") != normalise("<p>Foo </p><p></p>")
    assert normalise("<pre><code>a\n</code></pre>") != normalise("<pre><code>a</code></pre>")


if __name__ == "__main__":
    if not EXAMPLES:
        sys.exit("commonmark-spec not installed")
    result, failed = run(EXAMPLES)
    print(table(result))
    if "-v" in sys.argv:
        for f in failed:
            print(f"\n--- example {f['example']} ({f['section']})")
            print(repr(f["markdown"]))
            print("want:", repr(f["html"]))
            print("got: ", repr(f["got"]))
