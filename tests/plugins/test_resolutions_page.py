"""A resolution's page: the header table, typed links both ways (as the reader may see them), the
last versions, and the Beschlusstext with stable line numbers (``?zeilen=1``)."""

from __future__ import annotations

import html
import re

import pytest
from conftest import Spaces, log_in, make_resolutions_app, resolution_text, space_text

from plugins.resolutions.page import LINE_WIDTH, line_url, text_blocks, wrap

A1 = "lv/beschluesse/2022/lako-2022-a1"
A3 = "lv/beschluesse/2019/lako-2019-a3"
B1 = "lv/kv-b/beschluesse/2023/kvb-2023-a1"
HIDDEN_TITLE = "Geheimer Titel aus Kreisverband B"
#: 20 words of 9 letters: 8 fit into a line of 80 characters (79), so 3 lines (8, 8, 4).
WORDS = "abcdefghi " * 20
KNOWN_TEXT = f"{WORDS.strip()}\n\n- eins\n- zwei\n\n### Teil\n\n3. drei"
EIGHT, FOUR = "abcdefghi " * 7 + "abcdefghi", "abcdefghi " * 3 + "abcdefghi"
KNOWN_LINES = [EIGHT, EIGHT, FOUR, "– eins", "– zwei", "Teil", "3. drei"]

FILES = {
    f"{A1}.md": resolution_text(
        "LaKo-2022-A1",
        title="Kostenloser Nahverkehr",
        number="A1",
        event="Landeskonferenz 2022",
        agenda_item="TOP 6 Antragsberatung",
        submitted="2022-03-01 18:00",
        initiators=["Landesvorstand", "Max Muster"],
        outcome_detail="mit Änderungen aus Ä2",
        votes={"yes": 40, "no": 3, "abstain": 2},
        valid_until="2026-12-31",
        topics=["Verkehr", "Soziales"],
        links={
            "replaces": ["LaKo-2019-A3"],
            "related": ["KVB-2023-A1"],
            "amends": ["Gibt-Es-Nicht-1"],
        },
        source={
            "system": "antragsgruen",
            "url": "https://antraege.example.org/a1?x=1&y=2",
            "id": "123",
        },
        visibility="public",
        text=KNOWN_TEXT,
    ),
    f"{A3}.md": resolution_text(
        "LaKo-2019-A3",
        title="Azubiticket",
        decided="2019-03-16",
        validity="ersetzt",
        visibility="public",
    ),
    # Members of lv/kv-b only (the space's default visibility).
    f"{B1}.md": resolution_text(
        "KVB-2023-A1",
        title=HIDDEN_TITLE,
        body="Kreismitgliederversammlung",
        decided="2023-05-01",
        links={"implements": ["LaKo-2022-A1"]},
    ),
}


@pytest.fixture
def app(tmp_path):
    app = make_resolutions_app(tmp_path)
    yield app
    app.extensions["wiki"].search.wait_idle()
    app.extensions["wiki"].search.close()
    app.extensions["wiki"].store.close()
    app.extensions["wiki"].engine.dispose()


@pytest.fixture
def wiki(app):
    spaces = Spaces(app)
    spaces.commit(FILES, message="Beschlüsse angelegt")
    return spaces


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def header_rows(page: str) -> dict[str, str]:
    """{row heading: cell HTML} of the header table."""
    table = page.split('<table class="resolution-data">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td></tr>', table, re.S)
    return {text_of(th): td for th, td in rows}


def section(page: str, css_class: str) -> str:
    parts = page.split(f'<section class="{css_class}"', 1)
    return parts[1].split("</section>", 1)[0] if len(parts) > 1 else ""


def lines_of(page: str) -> list[tuple[int, str]]:
    """(number, text) of every numbered line, checking the markup of each line."""
    found = re.findall(
        r'<span class="line" id="z(\d+)"><a class="line-number" href="#z(\d+)" '
        r'aria-label="Zeile (\d+)">(\d+)</a> (.*?)</span>',
        page,
    )
    assert len(found) == page.count('class="line"')
    for anchor, href, label, shown, _text in found:
        assert anchor == href == label == shown
    return [(int(n), html.unescape(text)) for n, _h, _l, _s, text in found]


# -- header -------------------------------------------------------------------------------------


def test_header_shows_the_data_of_the_resolution(app, wiki):
    page = get(app.test_client(), f"/{A1}")
    rows = header_rows(page)
    assert list(rows) == [
        "Kennung", "Antragsnummer", "Veranstaltung", "Tagesordnungspunkt", "Antragsteller*innen",
        "Status", "Gültigkeit", "Beschluss durch", "Gliederung", "Eingereicht", "Beschlossen am",
        "Abstimmungsergebnis", "Themen", "Quelle",
    ]  # fmt: skip
    values = {name: text_of(cell) for name, cell in rows.items()}
    assert values["Kennung"] == "LaKo-2022-A1"
    assert values["Antragsnummer"] == "A1"
    assert values["Veranstaltung"] == "Landeskonferenz 2022"
    assert values["Tagesordnungspunkt"] == "TOP 6 Antragsberatung"
    assert values["Antragsteller*innen"] == "Landesvorstand, Max Muster"
    assert values["Status"] == "angenommen mit Änderungen aus Ä2"
    assert values["Gültigkeit"] == "in Kraft, bis 31.12.2026"
    assert values["Beschluss durch"] == "Landeskonferenz"
    assert values["Gliederung"] == "Landesverband Beispiel"
    assert '<a href="/lv">' in rows["Gliederung"]
    assert values["Eingereicht"] == "01.03.2022, 18:00"  # as written, no time zone shift
    assert values["Beschlossen am"] == "19.03.2022"
    assert values["Abstimmungsergebnis"] == "Ja: 40 Nein: 3 Enthaltungen: 2"
    assert values["Themen"] == "Verkehr Soziales"
    assert 'href="/-/resolutions/?topic=Verkehr"' in rows["Themen"]
    assert 'href="/-/resolutions/?topic=Soziales"' in rows["Themen"]
    assert (
        '<a class="external" href="https://antraege.example.org/a1?x=1&amp;y=2" '
        'rel="noopener nofollow">'
    ) in rows["Quelle"]
    assert "antragsgruen, Nr. 123" in values["Quelle"]
    # The header comes before the text, the toggle and the citation link with it.
    assert page.index("resolution-data") < page.index('<div class="markup">')
    assert f'<a href="/{A1}?zeilen=1" rel="nofollow">Zeilennummern anzeigen</a>' in page
    assert f'href="/{A1}?rev={wiki.head()}"' in page
    assert "Zitierlink" in page


def test_header_skips_empty_rows_and_words_referrals_and_unanimous_votes(app, wiki):
    path = "lv/beschluesse/2023/lako-2023-a9"
    wiki.commit(
        {
            f"{path}.md": resolution_text(
                "LaKo-2023-A9",
                title="Jugendarbeit",
                outcome="ueberwiesen",
                referred_to="Landesvorstand",
                votes="unanimous",
                visibility="public",
            )
        }
    )
    page = get(app.test_client(), f"/{path}")
    rows = {name: text_of(cell) for name, cell in header_rows(page).items()}
    assert list(rows) == [
        "Kennung", "Status", "Beschluss durch", "Gliederung", "Beschlossen am",
        "Abstimmungsergebnis",
    ]  # fmt: skip
    assert rows["Status"] == "überwiesen an Landesvorstand"
    assert rows["Abstimmungsergebnis"] == "einstimmig"


def test_unreadable_space_is_named_but_not_linked(app, wiki):
    wiki.commit({"lv/kv-b.md": space_text("lv/kv-b", visibility="members")})
    wiki.commit(
        {
            "lv/kv-b/beschluesse/2023/kvb-2023-a2.md": resolution_text(
                "KVB-2023-A2", title="Öffentlich in B", visibility="public"
            )
        }
    )
    page = get(app.test_client(), "/lv/kv-b/beschluesse/2023/kvb-2023-a2")
    cell = header_rows(page)["Gliederung"]
    assert "<a " not in cell and text_of(cell) == "lv/kv-b"
    member = get(log_in(app, "member_b"), "/lv/kv-b/beschluesse/2023/kvb-2023-a2")
    assert '<a href="/lv/kv-b">Kreisverband B</a>' in header_rows(member)["Gliederung"]


def test_invalid_resolution_gets_no_sections(app, wiki):
    path = "lv/beschluesse/kaputt"
    text = resolution_text("LaKo-2022-K1", title="Kaputt", visibility="public")
    wiki.commit({f"{path}.md": text.replace("outcome: angenommen", "outcome: vielleicht")})
    client = app.test_client()
    page = get(client, f"/{path}")
    assert "Der Landesverband setzt sich für mehr Beteiligung ein." in page
    assert "resolution-data" not in page
    assert "Verknüpfte Beschlüsse" not in page and "resolution-versions" not in page
    numbered = get(client, f"/{path}?zeilen=1")
    assert 'class="line"' not in numbered
    assert "Der Landesverband setzt sich für mehr Beteiligung ein." in numbered


def test_plain_pages_are_untouched(app, wiki):
    page = get(app.test_client(), "/lv/kv-a/oeffentlich")
    assert "resolution-data" not in page and "resolution-versions" not in page


# -- links --------------------------------------------------------------------------------------


def link_groups(page: str) -> dict[str, str]:
    """{label: HTML of its entries} of the linked resolutions."""
    block = section(page, "resolution-links")
    return {
        text_of(dt): dd for dt, dd in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", block, re.S)
    }


def test_links_show_in_both_directions_with_inverse_labels(app, wiki):
    client = app.test_client()
    a1 = link_groups(get(client, f"/{A1}"))
    assert f'<a href="/{A3}">Azubiticket</a>' in a1["ersetzt"]
    assert "LaKo-2019-A3" in a1["ersetzt"]
    assert 'class="badge outcome outcome-angenommen"' in a1["ersetzt"]
    a3 = link_groups(get(client, f"/{A3}"))
    assert list(a3) == ["ersetzt durch"]
    assert f'<a href="/{A1}">Kostenloser Nahverkehr</a>' in a3["ersetzt durch"]
    assert "LaKo-2022-A1" in a3["ersetzt durch"]
    # The links section comes after the text.
    page = get(client, f"/{A3}")
    assert page.index('<div class="markup">') < page.index("Verknüpfte Beschlüsse")


def test_link_to_unknown_id_shows_the_id_only(app, wiki):
    groups = link_groups(get(app.test_client(), f"/{A1}"))
    assert text_of(groups["ändert"]) == "Gibt-Es-Nicht-1"
    assert "<a " not in groups["ändert"]


@pytest.mark.parametrize("role", ["anon", "member_a", "user"])
def test_link_to_hidden_resolution_looks_like_an_unknown_id(app, wiki, role):
    client = log_in(app, role)
    page = get(client, f"/{A1}")
    groups = link_groups(page)
    assert HIDDEN_TITLE not in page
    assert B1 not in page
    related = groups["siehe auch"]
    assert text_of(related) == "KVB-2023-A1" and "<a " not in related
    # The same markup as an id no resolution has.
    assert related.replace("KVB-2023-A1", "X") == groups["ändert"].replace("Gibt-Es-Nicht-1", "X")
    # Incoming links from hidden resolutions are left out.
    assert "umgesetzt durch" not in groups


def test_link_to_resolution_readable_by_member(app, wiki):
    page = get(log_in(app, "member_b"), f"/{A1}")
    groups = link_groups(page)
    assert f'<a href="/{B1}">{HIDDEN_TITLE}</a>' in groups["siehe auch"]
    assert f'<a href="/{B1}">{HIDDEN_TITLE}</a>' in groups["umgesetzt durch"]
    b1 = link_groups(get(log_in(app, "member_b"), f"/{B1}"))
    assert f'<a href="/{A1}">Kostenloser Nahverkehr</a>' in b1["setzt um"]
    assert f'<a href="/{A1}">Kostenloser Nahverkehr</a>' in b1["siehe auch"]  # A1 → B1 related


def test_link_labels_cover_every_kind():
    from plugins.resolutions import labels
    from plugins.resolutions import schema as S

    assert set(labels.LINK_LABELS) == set(S.LINK_TYPES) == set(labels.INVERSE_LINK_LABELS)
    assert set(labels.OUTCOME_LABELS) == set(S.OUTCOMES)
    assert set(labels.VALIDITY_LABELS) == set(S.VALIDITIES)
    assert set(labels.VOTE_LABELS) == set(S.VOTE_KEYS)


# -- versions -----------------------------------------------------------------------------------


def test_versions_list_the_last_changes(app, wiki):
    old = wiki.head()
    text = FILES[f"{A3}.md"]
    shas = [old]
    for n in range(1, 6):
        shas.append(
            wiki.commit(
                {f"{A3}.md": text.replace("mehr Beteiligung ein", f"Beteiligung {n} ein")},
                message=f"Fassung {n}",
            )
        )
    client = app.test_client()
    page = get(client, f"/{A3}")
    versions = section(page, "resolution-versions")
    assert versions.count("<li>") == 5
    for sha in shas[1:]:
        assert f'href="/-/diff/{A3}?to={sha}"' in versions
        assert f'href="/{A3}?rev={sha}"' in versions
    assert shas[0] not in versions  # the sixth version is on the history page
    assert f'href="/-/history/{A3}"' in versions
    assert "Fassung 5" in versions and "System" in versions
    assert page.index('<div class="markup">') < page.index("resolution-versions")


def test_versions_hide_messages_of_commits_with_hidden_pages(app, wiki):
    # The first commit also created the members-only B1: its message is withheld.
    page = get(app.test_client(), f"/{A3}")
    assert "Beschlüsse angelegt" not in section(page, "resolution-versions")
    page = get(log_in(app, "admin"), f"/{A3}")
    assert "Beschlüsse angelegt" in section(page, "resolution-versions")


# -- line numbers -------------------------------------------------------------------------------


def test_line_numbers_of_a_known_text(app, wiki):
    client = app.test_client()
    plain = get(client, f"/{A1}")
    assert 'class="line"' not in plain
    page = get(client, f"/{A1}?zeilen=1")
    lines = lines_of(page)
    assert [n for n, _text in lines] == list(range(1, len(KNOWN_LINES) + 1))
    assert [text for _n, text in lines] == KNOWN_LINES
    assert 'id="z1"' in page and f'id="z{len(KNOWN_LINES)}"' in page
    assert f'id="z{len(KNOWN_LINES) + 1}"' not in page
    assert all(len(text) <= LINE_WIDTH for _n, text in lines)
    assert f'<a href="/{A1}" rel="nofollow">ohne Zeilennummern</a>' in page
    # The citation link of this revision.
    assert f'href="/{A1}?rev={wiki.head()}&amp;zeilen=1"' in page


def test_long_paragraphs_wrap_at_the_line_width(app, wiki):
    words = [f"Wort{n}" + "x" * (n % 7) for n in range(120)]
    path = "lv/beschluesse/2022/lako-2022-a2"
    wiki.commit(
        {
            f"{path}.md": resolution_text(
                "LaKo-2022-A2", title="Lang", visibility="public", text=" ".join(words)
            )
        }
    )
    lines = lines_of(get(app.test_client(), f"/{path}?zeilen=1"))
    assert len(lines) > 8
    assert all(len(text) <= LINE_WIDTH for _n, text in lines)
    assert all(len(text) > LINE_WIDTH - 15 for _n, text in lines[:-1])  # filled, not short
    assert " ".join(text for _n, text in lines).split() == words


def test_same_revision_same_anchors(app, wiki):
    client = app.test_client()
    head = wiki.head()
    first = lines_of(get(client, f"/{A1}?zeilen=1"))
    assert lines_of(get(client, f"/{A1}?zeilen=1")) == first
    assert lines_of(get(client, f"/{A1}?rev={head}&zeilen=1")) == first
    # A new version with another text: the old revision keeps its lines.
    text = FILES[f"{A1}.md"].replace("- eins\n", "Neuer Absatz.\n\n- eins\n")
    new_head = wiki.commit({f"{A1}.md": text})
    current = lines_of(get(client, f"/{A1}?zeilen=1"))
    assert current != first and current[3] == (4, "Neuer Absatz.")
    page = get(client, f"/{A1}?rev={head}&zeilen=1")
    assert lines_of(page) == first
    assert f'href="/{A1}?rev={head}&amp;zeilen=1"' in page  # cited as the revision viewed
    numbered = page.split('<div class="numbered-text">', 1)[1].split("</div>", 1)[0]
    assert f"rev={new_head}" not in numbered


def test_line_text_is_escaped(app, wiki):
    path = "lv/beschluesse/2022/lako-2022-a5"
    text = 'Vorsicht <script>alert("x")</script> & <b>fett</b>\n\n## Begründung\n\nWeil **so**.'
    wiki.commit(
        {
            f"{path}.md": resolution_text(
                "LaKo-2022-A5", title="Escape", visibility="public", text=text
            )
        }
    )
    page = get(app.test_client(), f"/{path}?zeilen=1")
    assert "<script>alert" not in page and "<b>fett" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;fett&lt;/b&gt;" in page
    assert lines_of(page) == [(1, 'Vorsicht <script>alert("x")</script> & <b>fett</b>')]
    # The other sections are rendered as usual, after the numbered text.
    assert '<h2 id="begruendung">' in page and "<strong>so</strong>" in page
    assert page.index('id="z1"') < page.index('<h2 id="begruendung">')


def test_line_url(app):
    with app.test_request_context():
        assert line_url("lv/a", "abc123", 12) == "/lv/a?rev=abc123&zeilen=1#z12"


# -- the plain text of the Beschlusstext ----------------------------------------------------


def test_text_blocks_reduce_markdown_to_plain_lines():
    markdown = (
        "Ein *betonter* Satz mit [[lv/seite|Verweis]], [Link](https://x.example) und `Code`.\n"
        "Zweite Zeile im selben Absatz.\n\n"
        "# Überschrift\n\n"
        "1. erstens\n2. zweitens\n   - darunter\n\n"
        "> Zitat\n\n"
        "    eingerückter Code\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    blocks = text_blocks(markdown, "lv/beschluss")
    assert [(b.kind, b.lines) for b in blocks] == [
        ("paragraph", [
            "Ein betonter Satz mit Verweis, Link und Code. Zweite Zeile im selben Absatz.",
        ]),
        ("heading", ["Überschrift"]),
        ("item", ["1. erstens"]),
        ("item", ["2. zweitens"]),
        ("item", ["   – darunter"]),
        ("quote", ["  Zitat"]),
        ("code", ["eingerückter Code"]),
        ("paragraph", ["a | b"]),
        ("paragraph", ["1 | 2"]),
    ]  # fmt: skip


def test_list_items_hang_under_their_text():
    blocks = text_blocks("- " + WORDS, "lv/x")
    seven = "abcdefghi " * 6 + "abcdefghi"  # 8 words and the marker would be 81 characters
    assert blocks[0].lines == ["– " + seven, "  " + seven, "  " + "abcdefghi " * 5 + "abcdefghi"]


def test_hard_line_breaks_start_new_lines():
    assert text_blocks("eins  \nzwei\\\ndrei", "lv/x")[0].lines == ["eins", "zwei", "drei"]
    assert wrap("a\n\nb") == ["a", "b"]
