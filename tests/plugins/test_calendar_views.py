"""Calendar views: the month grid and the agenda of everything a reader may see, per chapter,
with the sub-spaces switchable; unknown or unreadable chapters are 404."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import Spaces, make_calendar_app, page_text, space_text, termin_block


def block(ident: str, title: str, start: str, end: str, **fields) -> str:
    return termin_block(ident, titel=title, beginn=start, ende=end, **fields)


EVENTS = {
    # page: (visibility, block)
    "lv/termine": ("public", block("lv-offen", "Landestreffen", "2026-12-03 18:00", "20:00")),
    "lv/kv-a/kalender": (
        None,
        block("kva-geheim", "Geheimes Treffen A", "2026-12-10 18:00", "20:00"),
    ),
    "lv/kv-a/fest": (
        "public",
        block("kva-offen", "Fest A", "2026-12-12", "2026-12-13", **{"ganztägig": "ja"}),
    ),
    "lv/kv-a/vorstand-termin": (
        "board",
        block("kva-vorstand", "Vorstandsrunde A", "2026-12-14 19:00", "20:00"),
    ),
    "lv/kv-b/kalender": (
        None,
        block("kvb-geheim", "Geheimes Treffen B", "2026-12-15 18:00", "20:00"),
    ),
    "lv/kv-a/nacht": (
        "public",
        block("kva-nacht", "Lange Nacht", "2026-12-18 22:00", '"2026-12-19 02:00"'),
    ),
    "lv/kv-a/new-york": (
        "public",
        block("kva-ny", "Anruf New York", "2026-12-21 12:00", "13:00", zeitzone="America/New_York"),
    ),
}
TITLES = {
    "lv-offen": "Landestreffen",
    "kva-geheim": "Geheimes Treffen A",
    "kva-offen": "Fest A",
    "kva-vorstand": "Vorstandsrunde A",
    "kvb-geheim": "Geheimes Treffen B",
}


@pytest.fixture(scope="module")
def cal(tmp_path_factory):
    app = make_calendar_app(tmp_path_factory.mktemp("calendar-views"))
    spaces = Spaces(app)
    files = {
        f"{path}.md": page_text(path.rsplit("/", 1)[-1], block, visibility)
        for path, (visibility, block) in EVENTS.items()
    }
    files["lv/kv-b/ak.md"] = space_text("lv/kv-b/ak", name="Arbeitskreis B", visibility="members")
    files["lv/kv-b/ak/termin.md"] = page_text(
        "AK", termin_block("ak-b", titel="AK-Sitzung", beginn="2026-12-16 18:00", ende="19:00")
    )
    spaces.commit(files)
    spaces.add_member("member_b", "lv/kv-b/ak")
    yield spaces
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture(scope="module")
def clients(cal):
    cache = {}

    def get(role):
        if role not in cache:
            cache[role] = cal.login(role)
        return cache[role]

    return get


def seen(html: str) -> set[str]:
    """The event ids linked from a calendar page."""
    return set(re.findall(r'#termin-([a-z0-9-]+)"', html))


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("anon", {"lv-offen", "kva-offen", "kva-nacht", "kva-ny"}),
        ("user", {"lv-offen", "kva-offen", "kva-nacht", "kva-ny"}),
        ("member_a", {"lv-offen", "kva-offen", "kva-nacht", "kva-ny", "kva-geheim"}),
        ("board_a", {"lv-offen", "kva-offen", "kva-nacht", "kva-ny", "kva-geheim", "kva-vorstand"}),
        ("member_b", {"lv-offen", "kva-offen", "kva-nacht", "kva-ny", "kvb-geheim", "ak-b"}),
        ("admin", {"lv-offen", "kva-offen", "kva-nacht", "kva-ny", "kva-geheim", "kva-vorstand",
                   "kvb-geheim", "ak-b"}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("view", ["", "&ansicht=liste"])
def test_calendar_shows_what_the_reader_may_see_and_nothing_else(clients, role, visible, view):
    response = clients(role).get(f"/-/calendar?monat=2026-12{view}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert seen(html) == visible
    for ident, title in TITLES.items():
        assert (title in html) == (ident in visible), (ident, role)


def test_space_calendar_with_and_without_sub_spaces(clients):
    member = clients("member_a")
    html = member.get("/-/calendar/lv?monat=2026-12").get_data(as_text=True)
    assert {"lv-offen", "kva-geheim", "kva-offen"} <= seen(html)
    assert "aus Untergliederungen" in html
    assert 'href="/-/calendar/lv?untergliederungen=0&amp;monat=2026-12"' in html
    own = member.get("/-/calendar/lv?monat=2026-12&untergliederungen=0").get_data(as_text=True)
    assert seen(own) == {"lv-offen"}
    assert "aus Untergliederungen" not in own
    assert 'href="/-/calendar/lv?monat=2026-12">Mit Untergliederungen' in own
    kv_a = member.get("/-/calendar/lv/kv-a?monat=2026-12").get_data(as_text=True)
    assert seen(kv_a) == {"kva-geheim", "kva-offen", "kva-nacht", "kva-ny"}
    assert "aus Untergliederungen" not in kv_a


def test_space_calendar_hides_members_events_from_others(clients):
    html = clients("member_b").get("/-/calendar/lv/kv-a?monat=2026-12").get_data(as_text=True)
    assert "kva-geheim" not in html and "Geheimes Treffen A" not in html
    assert "kva-offen" in seen(html)


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("anon", "/-/calendar/gibt-es-nicht", 404),
        ("anon", "/-/calendar/lv/rundbrief", 404),  # a page, not a space
        ("member_b", "/-/calendar/lv/Kaputt..Pfad", 404),
        ("anon", "/-/calendar/lv/kv-b/ak", 404),  # the space page is members-only
        ("member_a", "/-/calendar/lv/kv-b/ak", 404),
        ("member_b", "/-/calendar/lv/kv-b/ak", 200),
        ("anon", "/-/calendar/lv/kv-b/ak?monat=2026-12&ansicht=liste", 404),
    ],
)
def test_unknown_and_unreadable_spaces_are_404(clients, role, url, status):
    assert clients(role).get(url).status_code == status


def test_agenda_lists_occurrences_with_links_and_times(clients):
    html = (
        clients("member_a")
        .get("/-/calendar/lv/kv-a?monat=2026-12&ansicht=liste")
        .get_data(as_text=True)
    )
    assert 'href="/lv/kv-a/kalender#termin-kva-geheim"' in html
    assert "Donnerstag, 10. Dezember 2026, 18:00–20:00" in html
    # An event of another time zone is shown in Berlin time (12:00 in New York = 18:00 here).
    assert "Montag, 21. Dezember 2026, 18:00–19:00" in html
    # All-day and overnight events.
    assert "12.12.2026 – 13.12.2026" in html
    assert "<h2>Samstag, 19. Dezember 2026</h2>" in html  # the night goes on after midnight
    assert 'href="/-/calendar/lv/kv-a?monat=2026-12">Monatsansicht' in html


def test_month_grid_places_events_on_their_days(clients):
    html = clients("member_a").get("/-/calendar/lv/kv-a?monat=2026-12").get_data(as_text=True)
    cells = re.findall(r'<td class="calendar-day[^"]*">(.*?)</td>', html, re.S)
    assert len(cells) == 35  # 30 Nov – 3 Jan, Monday first
    by_date = {re.search(r'calendar-date">([^<]+)<', c)[1]: seen(c) for c in cells}
    assert by_date["Donnerstag, 10. Dezember 2026"] == {"kva-geheim"}
    assert by_date["Samstag, 12. Dezember 2026"] == {"kva-offen"}
    assert by_date["Sonntag, 13. Dezember 2026"] == {"kva-offen"}
    assert by_date["Freitag, 18. Dezember 2026"] == {"kva-nacht"}
    assert by_date["Samstag, 19. Dezember 2026"] == {"kva-nacht"}
    assert by_date["Montag, 14. Dezember 2026"] == set()  # the board's event stays hidden


def test_month_navigation_and_bad_months(clients):
    client = clients("anon")
    html = client.get("/-/calendar?monat=2027-01").get_data(as_text=True)
    assert 'href="/-/calendar?monat=2026-12" rel="prev"' in html
    assert 'href="/-/calendar?monat=2027-02" rel="next"' in html
    assert "Januar 2027" in html
    for bad in ("2026-13", "2026-1", "abc", "0999-01"):
        response = client.get(f"/-/calendar?monat={bad}")
        assert response.status_code == 400
        assert "Ungültiger Monat" in response.get_data(as_text=True)


def test_current_month_by_default(clients):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    month = datetime.now(ZoneInfo("Europe/Berlin")).date().replace(day=1)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    html = clients("anon").get("/-/calendar").get_data(as_text=True)
    assert f'href="/-/calendar?monat={following:%Y-%m}" rel="next"' in html


def test_no_inline_styles_and_a_stylesheet_of_its_own(clients):
    client = clients("member_a")
    for url in ("/-/calendar?monat=2026-12", "/-/calendar?monat=2026-12&ansicht=liste",
                "/lv/kv-a/kalender"):  # fmt: skip
        html = client.get(url).get_data(as_text=True)
        assert "style=" not in html and "<script>" not in html
    css = client.get("/-/calendar/static/calendar.css")
    assert css.status_code == 200 and "max-width: 40em" in css.get_data(as_text=True)
    assert "/-/calendar/static/calendar.css" in client.get("/-/calendar").get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert 'href="/-/calendar"' in client.get("/").get_data(as_text=True)  # the menu entry


def test_feed_urls_are_not_swallowed_by_the_space_calendar(cal):
    adapter = cal.app.url_map.bind("wiki.test")
    assert adapter.match("/-/calendar/lv/kv-a")[0] == "calendar.space"
    for url in ("/-/calendar/lv.ics", "/-/calendar/lv/kv-a.ics", "/-/calendar/event/x.ics",
                "/-/calendar/subscribe"):  # fmt: skip
        assert adapter.match(url)[0].startswith("calendar_feeds."), url


def test_links_to_the_subscription_page(clients):
    client = clients("anon")
    assert 'href="/-/calendar/subscribe"' in client.get("/-/calendar").get_data(as_text=True)
    html = client.get("/-/calendar/lv/kv-a").get_data(as_text=True)
    assert 'href="/-/calendar/subscribe?gliederung=lv/kv-a"' in html
    assert client.get("/-/calendar/subscribe?gliederung=lv/kv-a").status_code == 200
