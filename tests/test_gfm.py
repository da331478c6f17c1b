"""GFM extension examples (tables, strikethrough, extended autolinks) through the page renderer.

No installable package ships the GFM spec (cmark-gfm keeps it in its sources only), so the
examples of the GFM spec 0.29-gfm sections "Tables (extension)", "Task list items (extension)",
"Strikethrough (extension)" and "Autolinks (extension)" are transcribed here, numbered as there.
Deliberate differences: cell alignment is written as ``style="text-align:…"`` (the ``align``
attribute is obsolete in HTML5); raw HTML stays escaped (so "Disallowed Raw HTML" does not
apply). Compared with the CommonMark runner's normaliser.
"""

from __future__ import annotations

import pytest

from tests.test_commonmark_spec import normalise
from wiki.gfm_table import PAD_LIMIT
from wiki.markup import Renderer


def _table(head: list[str], rows: list[list[str]], aligns: list[str] | None = None) -> str:
    aligns = aligns or [""] * len(head)

    def cell(tag: str, text: str, align: str) -> str:
        style = f' style="text-align:{align}"' if align else ""
        return f"<{tag}{style}>{text}</{tag}>"

    out = "<table><thead><tr>"
    out += "".join(cell("th", t, a) for t, a in zip(head, aligns, strict=True))
    out += "</tr></thead>"
    if rows:
        out += "<tbody>"
        for row in rows:
            out += "<tr>" + "".join(cell("td", t, a) for t, a in zip(row, aligns, strict=True))
            out += "</tr>"
        out += "</tbody>"
    return out + "</table>"


EXAMPLES = [
    # Tables (extension)
    (
        198,
        "| foo | bar |\n| --- | --- |\n| baz | bim |\n",
        _table(["foo", "bar"], [["baz", "bim"]]),
    ),
    (
        199,
        "| abc | defghi |\n:-: | -----------:\nbar | baz\n",
        _table(["abc", "defghi"], [["bar", "baz"]], ["center", "right"]),
    ),
    (
        200,
        "| f\\|oo  |\n| ------ |\n| b `\\|` az |\n| b **\\|** im |\n",
        _table(["f|oo"], [["b <code>|</code> az"], ["b <strong>|</strong> im"]]),
    ),
    (
        201,
        "| abc | def |\n| --- | --- |\n| bar | baz |\n> bar\n",
        _table(["abc", "def"], [["bar", "baz"]]) + "<blockquote><p>bar</p></blockquote>",
    ),
    (
        202,
        "| abc | def |\n| --- | --- |\n| bar | baz |\nbar\n\nbar\n",
        _table(["abc", "def"], [["bar", "baz"], ["bar", ""]]) + "<p>bar</p>",
    ),
    (203, "| abc | def |\n| --- |\n| bar |\n", "<p>| abc | def |\n| --- |\n| bar |</p>"),
    (
        204,
        "| abc | def |\n| --- | --- |\n| bar |\n| bar | baz | boo |\n",
        _table(["abc", "def"], [["bar", ""], ["bar", "baz"]]),
    ),
    (205, "| abc | def |\n| --- | --- |\n", _table(["abc", "def"], [])),
    # Task list items (extension)
    (
        279,
        "- [ ] foo\n- [x] bar\n",
        '<ul><li><input disabled="" type="checkbox"> foo</li>'
        '<li><input checked="" disabled="" type="checkbox"> bar</li></ul>',
    ),
    (
        280,
        "- [x] foo\n  - [ ] bar\n  - [x] baz\n- [ ] bim\n",
        '<ul><li><input checked="" disabled="" type="checkbox"> foo<ul>'
        '<li><input disabled="" type="checkbox"> bar</li>'
        '<li><input checked="" disabled="" type="checkbox"> baz</li></ul></li>'
        '<li><input disabled="" type="checkbox"> bim</li></ul>',
    ),
    # Strikethrough (extension)
    (491, "~~Hi~~ Hello, world!\n", "<p><del>Hi</del> Hello, world!</p>"),
    # (the current GFM text of example 491: one tilde strikes through too)
    (4910, "~~Hi~~ Hello, ~there~ world!\n", "<p><del>Hi</del> Hello, <del>there</del> world!</p>"),
    (492, "This ~~has a\n\nnew paragraph~~.\n", "<p>This ~~has a</p><p>new paragraph~~.</p>"),
    (493, "This will ~~~not~~~ strike.\n", "<p>This will ~~~not~~~ strike.</p>"),
    # Autolinks (extension)
    (
        621,
        "www.commonmark.org\n",
        '<p><a href="http://www.commonmark.org">www.commonmark.org</a></p>',
    ),
    (
        622,
        "Visit www.commonmark.org/help for more information.\n",
        '<p>Visit <a href="http://www.commonmark.org/help">www.commonmark.org/help</a> for more'
        " information.</p>",
    ),
    (
        623,
        "Visit www.commonmark.org.\n\nVisit www.commonmark.org/a.b.\n",
        '<p>Visit <a href="http://www.commonmark.org">www.commonmark.org</a>.</p>'
        '<p>Visit <a href="http://www.commonmark.org/a.b">www.commonmark.org/a.b</a>.</p>',
    ),
    (
        624,
        "www.google.com/search?q=Markup+(business)\n\n"
        "www.google.com/search?q=Markup+(business)))\n\n"
        "(www.google.com/search?q=Markup+(business))\n\n"
        "(www.google.com/search?q=Markup+(business)\n",
        '<p><a href="http://www.google.com/search?q=Markup+(business)">'
        "www.google.com/search?q=Markup+(business)</a></p>"
        '<p><a href="http://www.google.com/search?q=Markup+(business)">'
        "www.google.com/search?q=Markup+(business)</a>))</p>"
        '<p>(<a href="http://www.google.com/search?q=Markup+(business)">'
        "www.google.com/search?q=Markup+(business)</a>)</p>"
        '<p>(<a href="http://www.google.com/search?q=Markup+(business)">'
        "www.google.com/search?q=Markup+(business)</a></p>",
    ),
    (
        625,
        "www.google.com/search?q=(business))+ok\n",
        '<p><a href="http://www.google.com/search?q=(business))+ok">'
        "www.google.com/search?q=(business))+ok</a></p>",
    ),
    (
        626,
        "www.google.com/search?q=commonmark&hl=en\n\nwww.google.com/search?q=commonmark&hl;\n",
        '<p><a href="http://www.google.com/search?q=commonmark&amp;hl=en">'
        "www.google.com/search?q=commonmark&amp;hl=en</a></p>"
        '<p><a href="http://www.google.com/search?q=commonmark">'
        "www.google.com/search?q=commonmark</a>&amp;hl;</p>",
    ),
    (
        627,
        "www.commonmark.org/he<lp\n",
        '<p><a href="http://www.commonmark.org/he">www.commonmark.org/he</a>&lt;lp</p>',
    ),
    (
        628,
        "http://commonmark.org\n\n(Visit https://encrypted.google.com/search?q=Markup+(business))\n\n"
        "Anonymous FTP is available at ftp://foo.bar.baz.\n",
        '<p><a href="http://commonmark.org">http://commonmark.org</a></p>'
        '<p>(Visit <a href="https://encrypted.google.com/search?q=Markup+(business)">'
        "https://encrypted.google.com/search?q=Markup+(business)</a>)</p>"
        '<p>Anonymous FTP is available at <a href="ftp://foo.bar.baz">ftp://foo.bar.baz</a>.</p>',
    ),
    (629, "foo@bar.baz\n", '<p><a href="mailto:foo@bar.baz">foo@bar.baz</a></p>'),
    (
        630,
        "hello@mail+xyz.example isn't valid, but hello+xyz@mail.example is.\n",
        "<p>hello@mail+xyz.example isn't valid, but "
        '<a href="mailto:hello+xyz@mail.example">hello+xyz@mail.example</a> is.</p>',
    ),
    (
        631,
        "a.b-c_d@a.b\n\na.b-c_d@a.b.\n\na.b-c_d@a.b-\n\na.b-c_d@a.b_\n",
        '<p><a href="mailto:a.b-c_d@a.b">a.b-c_d@a.b</a></p>'
        '<p><a href="mailto:a.b-c_d@a.b">a.b-c_d@a.b</a>.</p>'
        "<p>a.b-c_d@a.b-</p><p>a.b-c_d@a.b_</p>",
    ),
]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize(("number", "markdown", "expected"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_gfm_example(renderer: Renderer, number: int, markdown: str, expected: str):
    assert normalise(renderer.render(markdown, "spec").html) == normalise(expected), number


def test_wide_table_padding_is_bounded(renderer: Renderer):
    """Short rows under a very wide header end the table instead of growing the output."""
    columns = 2 * PAD_LIMIT
    text = "|" + " a |" * columns + "\n|" + " - |" * columns + "\n" + "x\n" * 50
    html = renderer.render(text, "spec").html
    assert html.count("<td></td>") < 2 * PAD_LIMIT
    assert "<p>x" in html  # the rest is read as a paragraph


def test_autolinks_keep_unsafe_text_inert(renderer: Renderer):
    """Extended autolinks never produce a scheme outside http(s)/ftp/mailto."""
    html = renderer.render("www.x.de/javascript:alert(1) javascript:alert(1)@x.de\n", "s").html
    assert html == (
        '<p><a href="http://www.x.de/javascript:alert(1)">www.x.de/javascript:alert(1)</a>'
        " javascript:alert(1)@x.de</p>\n"
    )
