"""XSS vectors from tests/fixtures/xss/*.txt against wiki.markup.

Each vector is rendered and the HTML is parsed with :class:`html.parser.HTMLParser`; every
start tag must be one the markdown renderer produces, with allowed attributes only, no ``on*``
attribute and only safe URLs in ``href``/``src``. The URL rule here is written independently of
``wiki.markup.is_safe_url`` on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from wiki.markup import Renderer, fill_widgets, mark_links

FIXTURES = Path(__file__).parent / "fixtures" / "xss"
MARKER = "@@@ "
WIDGET_KINDS = ("poll", "event")

COMMON_ATTRS = {"class", "id"}
ALLOWED: dict[str, set[str]] = {
    "a": {"href", "title", "data-page", "aria-hidden"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
    "input": {"type", "disabled", "checked"},
    "div": {"data-widget-index"},
    **{
        tag: set()
        for tag in (
            "p h1 h2 h3 h4 h5 h6 em strong code pre ul li blockquote hr br table thead tbody "
            "tr del mark sup section dl dt dd"
        ).split()
    },
}
ALLOWED_CLASSES = {
    "wikilink",
    "new",
    "anchor",
    "footnote",
    "footnote-ref",
    "footnotes",
    "task-list-item",
    "task-list-item-checkbox",
    "widget",
}
FORBIDDEN_SNIPPETS = ("<script", "<iframe", "<svg", "<style", "<object", "<embed", "<math")
# Schemes that run script or read local data, in any spelling a browser accepts.
CODE_SCHEMES = re.compile(r"(?:java|vb|live)script:|data:|file:|blob:|ms-[a-z-]*:|search-ms:")


def url_is_safe(value: str) -> bool:
    """Independent URL rule: no scheme that runs script or reads local data."""
    value = re.sub(r"[\x00-\x20\x7f-\x9f]", "", value).lower()
    return not CODE_SCHEMES.match(value)


class Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}>")
            return
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            elif name not in ALLOWED[tag] | COMMON_ATTRS:
                self.problems.append(f"attribute {name} on <{tag}>")
            elif name in ("href", "src") and not url_is_safe(value):
                self.problems.append(f"unsafe {name}={value!r}")
            elif name == "style" and not re.fullmatch(r"text-align:(left|center|right)", value):
                self.problems.append(f"style={value!r}")
            elif name == "class":
                for cls in value.split():
                    if cls not in ALLOWED_CLASSES and not re.fullmatch(r"language-\S+", cls):
                        self.problems.append(f"class {cls!r}")
            elif name == "type" and value != "checkbox":
                self.problems.append(f"input type {value!r}")
        if tag == "input" and "disabled" not in dict(attrs):
            self.problems.append("enabled input")

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration {data!r}")


def problems_in(html_text: str) -> list[str]:
    checker = Checker()
    checker.feed(html_text)
    checker.close()
    lowered = html_text.lower()
    found = [f"contains {s}" for s in FORBIDDEN_SNIPPETS if s in lowered]
    return found + checker.problems


@dataclass
class Vector:
    name: str
    source: list[str] = field(default_factory=list)
    contains: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)


def parse_vectors(text: str) -> list[Vector]:
    vectors: list[Vector] = []
    for line in text.splitlines():
        if not line.startswith(MARKER):
            if vectors:
                vectors[-1].source.append(line)
            continue
        key, _, value = line[len(MARKER) :].partition(":")
        key, value = key.strip(), value.strip()
        if key == "vector":
            vectors.append(Vector(name=value))
        elif not vectors:
            raise ValueError(f"marker before the first vector: {line!r}")
        elif key == "contains":
            vectors[-1].contains.append(value)
        elif key == "absent":
            vectors[-1].absent.append(value)
        else:
            raise ValueError(f"unknown marker: {line!r}")
    return vectors


def load_vectors() -> list:
    params = []
    for file in sorted(FIXTURES.glob("*.txt")):
        for vector in parse_vectors(file.read_text(encoding="utf-8")):
            params.append(pytest.param(vector, id=f"{file.stem}: {vector.name}"))
    return params


VECTORS = load_vectors()


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(widget_kinds=WIDGET_KINDS)


def test_enough_vectors():
    assert len(VECTORS) >= 30
    assert len({p.id.split(":")[0] for p in VECTORS}) >= 7


@pytest.mark.parametrize("vector", VECTORS)
def test_vector(vector: Vector, renderer: Renderer):
    source = "\n".join(vector.source).strip("\n") + "\n"
    result = renderer.render(source, "verein/sicherheit")
    assert problems_in(result.html) == [], result.html
    for text in vector.contains:
        assert text in result.html, result.html
    for text in vector.absent:
        assert text not in result.html, result.html
    # the per-request steps keep the output clean
    marked = mark_links(result.html, lambda path: False)
    filled = fill_widgets(marked, lambda n: f'<div class="widget">{n}</div>')
    assert problems_in(filled) == [], filled
    assert filled.count('<div class="widget">') == len(result.widgets)


def test_widget_payloads_are_data(renderer: Renderer):
    source = "```poll\nfrage: <script>alert(1)</script>\n```\n"
    result = renderer.render(source, "start")
    assert result.widgets[0].data == {"frage": "<script>alert(1)</script>"}
    tagged = renderer.render("```poll\n!!python/object/apply:os.system [echo]\n```\n", "start")
    assert tagged.widgets[0].data is None and tagged.widgets[0].error


@pytest.mark.parametrize(
    "bad",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVaScRiPt:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<img src="data:image/png;base64,AAAA">',
        '<p style="color:red">x</p>',
        '<p class="evil">x</p>',
        "<!-- x -->",
        '<input type="text" disabled>',
        '<input type="checkbox">',
        "<iframe></iframe>",
        "<form></form>",
        '<div onclick="x"></div>',
    ],
)
def test_checker_catches(bad: str):
    assert problems_in(bad)


@pytest.mark.parametrize(
    "good",
    [
        '<p><a href="https://example.org">x</a> <a href="#harmful-link">y</a></p>',
        '<a class="wikilink new" href="/-/edit/a" data-page="a" title="t">a</a>',
        '<img src="/-/files/a/b.png" alt="x" />',
        '<pre><code class="language-python">x</code></pre>',
    ],
)
def test_checker_accepts(good: str):
    assert problems_in(good) == []
