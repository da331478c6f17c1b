"""Tests for wiki.markup: data-driven cases from tests/fixtures/markup/*.txt plus API tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wiki.markup import (
    RenderCache,
    Rendered,
    Renderer,
    Widget,
    fill_widgets,
    is_safe_url,
    mark_links,
)
from wiki.pages import BadName

FIXTURES = Path(__file__).parent / "fixtures" / "markup"
MARKER = "@@@ "
DEFAULT_PATH = "verein/protokolle"
WIDGET_KINDS = ("poll", "event")


@dataclass
class Case:
    name: str
    source: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    path: str = DEFAULT_PATH
    links: set[str] | None = None
    documents: set[str] | None = None


def parse_fixture(text: str) -> list[Case]:
    """Parse the ``@@@ case:`` / ``@@@ expected`` format described in wikilinks.txt."""
    cases: list[Case] = []
    target: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith(MARKER):
            if target is not None:
                target.append(line)
            continue
        key, _, value = line[len(MARKER) :].partition(":")
        key, value = key.strip(), value.strip()
        if key == "case":
            cases.append(Case(name=value))
            target = cases[-1].source
        elif not cases:
            raise ValueError(f"marker before the first case: {line!r}")
        elif key == "expected":
            target = cases[-1].expected
        elif key == "path":
            cases[-1].path = value
        elif key == "links":
            cases[-1].links = set(value.split())
        elif key == "documents":
            cases[-1].documents = set(value.split())
        else:
            raise ValueError(f"unknown marker: {line!r}")
    return cases


def load_cases() -> list:
    params = []
    for file in sorted(FIXTURES.glob("*.txt")):
        for case in parse_fixture(file.read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"{file.stem}: {case.name}"))
    return params


CASES = load_cases()


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(widget_kinds=WIDGET_KINDS)


def test_fixtures_found():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: Case, renderer: Renderer):
    result = renderer.render("\n".join(case.source).strip("\n") + "\n", case.path)
    assert result.html.strip() == "\n".join(case.expected).strip()
    if case.links is not None:
        assert result.links == case.links
    if case.documents is not None:
        assert result.documents == case.documents


def test_parse_fixture_format():
    cases = parse_fixture(
        "intro\n@@@ case: a\n@@@ path: x/y\nin\n@@@ expected\nout\n@@@ links: p q\n"
        "@@@ documents:\n@@@ case: b\nz\n@@@ expected\n"
    )
    assert [c.name for c in cases] == ["a", "b"]
    assert cases[0].source == ["in"] and cases[0].expected == ["out"]
    assert cases[0].path == "x/y" and cases[0].links == {"p", "q"} and cases[0].documents == set()
    assert cases[1].links is None and cases[1].path == DEFAULT_PATH
    with pytest.raises(ValueError):
        parse_fixture("@@@ bogus: 1\n")


# -- result fields ---------------------------------------------------------------------------


def test_toc(renderer: Renderer):
    text = "# Titel\n\nText\n\n## Beschlüsse *2024*\n\n### Termine\n\n## Termine\n\n#### ???\n"
    result = renderer.render(text, "start")
    assert result.toc == [
        (1, "titel", "Titel"),
        (2, "beschluesse-2024", "Beschlüsse 2024"),
        (3, "termine", "Termine"),
        (2, "termine-2", "Termine"),
        (4, "abschnitt", "???"),
    ]


def test_toc_text_is_plain_text(renderer: Renderer):
    result = renderer.render("# A &amp; <b> `x<y`\n", "start")
    assert result.toc == [(1, "a-b-x-y", "A & <b> x<y")]


def test_widgets_data_and_errors(renderer: Renderer):
    text = (
        "```poll\nfrage: Sommerfest?\noptionen: [Ja, Nein]\n```\n\n"
        "```event\ntitel: [kaputt\n```\n\n"
        "```poll\n```\n\n"
        "```event\n!!python/object/apply:os.system [echo]\n```\n\n"
        "```python\nx = 1\n```\n"
    )
    result = renderer.render(text, "start")
    assert len(result.widgets) == 4
    assert result.widgets[0] == Widget("poll", {"frage": "Sommerfest?", "optionen": ["Ja", "Nein"]})
    broken = result.widgets[1]
    assert broken.kind == "event" and broken.data is None
    assert broken.error and "YAML" in broken.error and "„event“" in broken.error
    assert result.widgets[2] == Widget("poll", None, None)
    assert result.widgets[3].kind == "event" and result.widgets[3].error
    assert result.widgets[3].data is None
    assert result.html.count('<div class="widget"') == 4
    assert '<code class="language-python">' in result.html


def test_widget_info_string_with_extra_words(renderer: Renderer):
    result = renderer.render("```poll  abstimmung\na: 1\n```\n", "start")
    assert result.widgets == [Widget("poll", {"a": 1})]


def test_widget_kinds_are_per_renderer():
    result = Renderer().render("```poll\na: 1\n```\n", "start")
    assert result.widgets == []
    assert '<code class="language-poll">' in result.html


def test_widget_yaml_error_mentions_line(renderer: Renderer):
    result = renderer.render("```poll\na: 1\nb: [\n```\n", "start")
    assert "Zeile" in (result.widgets[0].error or "")


def test_empty_text(renderer: Renderer):
    result = renderer.render("", "start")
    assert result == Rendered(html="", toc=[], links=set(), documents=set(), widgets=[])


def test_invalid_page_path_is_refused(renderer: Renderer):
    with pytest.raises(BadName):
        renderer.render("x", "../etc")


def test_extra_plugin():
    def shout(md):
        def parse(inline, m, state):
            state.append_token({"type": "shout", "raw": m.group("shout_text")})
            return m.end()

        def render(renderer, text):
            assert renderer.context is not None
            return "<strong>" + text.upper() + "@" + renderer.context.path + "</strong>"

        md.inline.register("shout", r"!!(?P<shout_text>[a-z]+)!!", parse, before="link")
        md.renderer.register("shout", render)

    result = Renderer(plugins=[shout]).render("hallo !!welt!! [[Seite]]", "a/b")
    assert result.html == (
        '<p>hallo <strong>WELT@a/b</strong> <a class="wikilink" href="/seite" '
        'data-page="seite">Seite</a></p>\n'
    )


# -- URL policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org",
        "HTTPS://example.org/a?b=c#d",
        "mailto:a@example.org",
        "tel:+49301234",
        "/verein/satzung",
        "#termine",
        "?q=1",
        "unterseite",
        "../nachbar",
        "//example.org/x",
        "bild.png",
        "ftp://example.org",
        "irc://foo.bar:2233/baz",
        "webcal://wiki.example.org/-/calendar.ics",
        "xmpp:verein@example.org",
        "foo):",  # no scheme syntax: a relative link (CommonMark example 500)
    ],
)
def test_safe_urls(url: str):
    assert is_safe_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "\x00javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)",
        "&#X6a;avascript:alert(1)",
        "&#0000106avascript:alert(1)",
        "javascript&colon;alert(1)",
        "%6Aavascript:alert(1)",
        "%256Aavascript:alert(1)",
        "java%09script:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "blob:https://example.org/1",
        "view-source:https://example.org",
        "ms-msdt:/id PCWDiagnostic",
        "MS-OFFICECMD:x",
        "search-ms:query=x",
        "livescript:x",
        "\u200bjavascript:alert(1)",
    ],
)
def test_unsafe_urls(url: str):
    assert not is_safe_url(url)


# -- per-request helpers ---------------------------------------------------------------------


def test_mark_links(renderer: Renderer):
    result = renderer.render(
        "[[Da]] [[Fehlt#Teil|fehlt]] [[Da|nochmal]] [[Fehlt]] [normal](/fehlt)", "start"
    )
    calls: list[str] = []

    def visible(path: str) -> bool:
        calls.append(path)
        return path == "da"

    marked = mark_links(result.html, visible)
    assert sorted(calls) == ["da", "fehlt"]  # asked once per page
    assert marked.count('<a class="wikilink" href="/da" data-page="da">') == 2
    new = (
        '<a class="wikilink new" href="/-/edit/fehlt" data-page="fehlt" '
        'title="Seite existiert noch nicht">'
    )
    assert marked.count(new) == 2
    assert '<a href="/fehlt">normal</a>' in marked
    assert mark_links(result.html, lambda p: True) is result.html  # unchanged: no copy


def test_mark_links_ignores_text_that_looks_like_a_link(renderer: Renderer):
    text = '<a class="wikilink" href="/x" data-page="x">x</a>\n\n`<a class="wikilink">`'
    result = renderer.render(text, "start")
    assert mark_links(result.html, lambda p: False) == result.html


def test_fill_widgets(renderer: Renderer):
    result = renderer.render("```poll\na: 1\n```\n\nText\n\n```event\nb: 2\n```\n", "start")
    filled = fill_widgets(result.html, lambda n: f"<form id=w{n}>{result.widgets[n].kind}</form>")
    assert filled == "<form id=w0>poll</form>\n<p>Text</p>\n<form id=w1>event</form>\n"


def test_fill_widgets_ignores_forged_placeholders(renderer: Renderer):
    text = '<div class="widget" data-widget-index="0"></div>\n\n    <div class="widget"></div>\n'
    result = renderer.render(text, "start")
    assert result.widgets == []
    assert fill_widgets(result.html, lambda n: "FILLED") == result.html


# -- cache -----------------------------------------------------------------------------------


def test_cache_keyed_by_path_blob_and_version(renderer: Renderer):
    cache = RenderCache()
    one = renderer.render("eins", "a")
    two = renderer.render("zwei", "a")
    cache.put(("a", "sha1", Renderer.VERSION), one)
    cache.put(("a", "sha2", Renderer.VERSION), two)
    assert cache.get(("a", "sha1", Renderer.VERSION)) is one
    assert cache.get(("a", "sha2", Renderer.VERSION)) is two
    assert cache.get(("b", "sha1", Renderer.VERSION)) is None
    assert cache.get(("a", "sha1", Renderer.VERSION + 1)) is None
    assert len(cache) == 2
    cache.clear()
    assert cache.get(("a", "sha1", Renderer.VERSION)) is None and len(cache) == 0


def test_cache_is_lru():
    cache = RenderCache(maxsize=3)
    values = {k: Rendered(html=k) for k in "abcd"}
    for k in "abc":
        cache.put((k, "s", 1), values[k])
    assert cache.get(("a", "s", 1)) is values["a"]  # a is now the most recent
    cache.put(("d", "s", 1), values["d"])  # evicts b
    assert cache.get(("b", "s", 1)) is None
    assert [cache.get((k, "s", 1)) for k in "acd"] == [values[k] for k in "acd"]
    assert len(cache) == 3


def test_cache_default_size():
    assert RenderCache().maxsize == 2000


def test_cache_threads():
    cache = RenderCache(maxsize=50)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(500):
                key = (f"p{n}", str(i % 70), 1)
                cache.put(key, Rendered(html=str(i)))
                got = cache.get(key)
                assert got is None or isinstance(got, Rendered)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache) == 50


# -- threads and speed -----------------------------------------------------------------------


def _document(n: int) -> str:
    return (
        f"# Dokument {n}\n\n## Abschnitt\n\n## Abschnitt\n\n"
        f"Siehe [[Seite {n}]] und [[./Unter {n}|unten]] sowie [Datei](_files/datei-{n}.pdf).\n\n"
        f"Fußnote[^a] zu {n}.\n\n[^a]: Notiz {n}\n\n"
        f"```poll\nfrage: Frage {n}\n```\n\n"
        + "".join(f"### Punkt {i}\n\nText {i} mit [[Ziel {n} {i}]].\n\n" for i in range(n % 5))
    )


def test_render_from_many_threads():
    renderer = Renderer(widget_kinds=WIDGET_KINDS)
    docs = [(_document(n), f"bereich/seite-{n}") for n in range(16)]
    expected = [Renderer(widget_kinds=WIDGET_KINDS).render(text, path) for text, path in docs]
    results: dict[tuple[int, int], Rendered] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for rnd in range(20):
                for k in range(len(docs)):
                    i = (k + t + rnd) % len(docs)
                    result = renderer.render(*docs[i])
                    if result != expected[i]:
                        errors.append(AssertionError(f"thread {t}: document {i} differs"))
                    results[(t, i)] = result
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(results) == 8 * len(docs)
    sample = expected[3]
    assert sample.links == {"seite-3", "bereich/seite-3/unter-3"} | {
        f"ziel-3-{i}" for i in range(3)
    }
    assert sample.documents == {"datei-3.pdf"}
    assert sample.widgets == [Widget("poll", {"frage": "Frage 3"})]
    assert [t[1] for t in sample.toc[:3]] == ["dokument-3", "abschnitt", "abschnitt-2"]


def test_link_projection_agrees_with_the_renderer():
    """The links table is filled without rendering; it must find what the renderer links."""
    from wiki.linkedit import extract_links

    text = (
        "[[Start]] und [[./unter|Text]], [[../nachbar#abschnitt]], [[Beschlüsse 2024]]\n\n"
        "`[[nicht-im-code]]`\n\n```\n[[auch-nicht]]\n```\n\n- [[in-liste]]\n"
        "| a | b |\n|---|---|\n| [[in-tabelle]] | x |\n"
    )
    rendered = Renderer().render(text, "a/b")
    assert extract_links(text, "a/b") == rendered.links


def test_wikilink_syntax_yields_to_commonmark_links():
    """``[[x]](url)`` is a link with the text ``[x]`` (CommonMark), and a rename leaves it alone."""
    from wiki.linkedit import rewrite_links

    html = Renderer().render("[[x]](https://example.org) und [[x]]\n", "p").html
    assert html == (
        '<p><a href="https://example.org">[x]</a> und '
        '<a class="wikilink" href="/x" data-page="x">x</a></p>\n'
    )
    assert rewrite_links("[[x]](https://example.org) [[x]]", "p", "x", "y") == (
        "[[x]](https://example.org) [[y|x]]"
    )
