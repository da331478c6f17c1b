"""The parts of a page view kept per read filter and HEAD (issue 13): readers who may see
different pages never share them, and a change of membership (no new commit) shows at once.
Whole pages kept for anonymous readers leave out pages whose plugin blocks change without a
commit (the next events on a chapter's page)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import Spaces, make_calendar_app, page_text, termin_block

SECRET = "lv/kv-a/protokoll"  # members of lv/kv-a only


def red(body: str, path: str) -> bool:
    """Whether the wikilink to ``path`` is marked as missing (to the editor)."""
    if f'class="wikilink new" href="/-/edit/{path}"' in body:
        return True
    assert f'href="/{path}"' in body, body[:2000]
    return False


def test_red_links_follow_the_readers_memberships(spaces, login):
    spaces.commit(
        {"lv/uebersicht.md": page_text("Übersicht", f"Siehe [[{SECRET}]] und [[hilfe]].")}
    )
    member, user = login("member_a"), login("user")
    for _ in range(3):  # served from the cache from the second view on
        shown = member.get("/lv/uebersicht")
        assert shown.status_code == 200
        assert not red(shown.get_data(as_text=True), SECRET)
        hidden = user.get("/lv/uebersicht")
        assert hidden.status_code == 200
        assert red(hidden.get_data(as_text=True), SECRET)
        assert not red(hidden.get_data(as_text=True), "hilfe")
    head = spaces.head()
    spaces.add_member("user", "lv/kv-a")
    assert spaces.head() == head  # memberships live in SQL: HEAD stays
    assert not red(user.get("/lv/uebersicht").get_data(as_text=True), SECRET)
    assert not red(member.get("/lv/uebersicht").get_data(as_text=True), SECRET)


def test_a_new_commit_updates_the_cached_parts(spaces, login):
    spaces.commit({"lv/uebersicht.md": page_text("Übersicht", "Siehe [[lv/neu]].")})
    user = login("user")
    assert red(user.get("/lv/uebersicht").get_data(as_text=True), "lv/neu")
    assert red(user.get("/lv/uebersicht").get_data(as_text=True), "lv/neu")
    spaces.commit({"lv/neu.md": page_text("Neu", "Jetzt gibt es sie.", "internal")})
    assert not red(user.get("/lv/uebersicht").get_data(as_text=True), "lv/neu")


def test_anonymous_chapter_page_drops_events_that_are_over(tmp_path, monkeypatch):
    from plugins.calendar import feeds

    app = make_calendar_app(tmp_path)
    spaces = Spaces(app)
    start = datetime.now(ZoneInfo("Europe/Berlin")).replace(second=0, microsecond=0)
    start += timedelta(hours=1)
    block = termin_block(
        "bald",
        titel="Gleich-Treffen",
        beginn=f"{start:%Y-%m-%d %H:%M}",
        ende=f"{start + timedelta(hours=1):%Y-%m-%d %H:%M}",
    )
    spaces.commit({"lv/kv-a/treffen.md": page_text("Treffen", block, "public")})
    anon = app.test_client()

    def upcoming() -> str:
        body = anon.get("/lv/kv-a").get_data(as_text=True)
        return body[body.index('class="calendar-upcoming"') :]

    assert "Gleich-Treffen" in upcoming()
    assert "Gleich-Treffen" in upcoming()  # a second anonymous view, same HEAD

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(hours=3)

    monkeypatch.setattr(feeds, "datetime", Later)
    assert "Gleich-Treffen" not in upcoming()  # same HEAD, but the event is over
