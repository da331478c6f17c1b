"""End-to-end in a real browser: a member adds a ``termin`` block in the page editor, finds the
event in the chapter's month view, follows it to its page and downloads its .ics ("In meinen
Kalender"), which icalendar parses; the subscription page's copy button works. Drives Debian's
Chromium through Playwright exactly as ``tests/test_browser.py``; skipped without it."""

from __future__ import annotations

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, serve, watch
from conftest import HANDLES, PASSWORD, make_calendar_app

PAGE = "lv/kv-a/oeffentlich"
BLOCK = """
```termin
id: herbstfest-browser
titel: Herbstfest mit Äpfeln 🍎
beginn: 2027-02-10 18:00
ende: 21:30
ort: Gemeindehaus
wiederholung: wöchentlich
anzahl: 3
```
"""


@pytest.fixture
def live_server(tmp_path):
    with serve(make_calendar_app(tmp_path)) as base:
        yield base


@pytest.mark.browser
def test_event_from_editor_to_month_view_and_ics(live_server, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from icalendar import Calendar
    from playwright.sync_api import expect, sync_playwright

    base = live_server
    problems: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="de-DE", accept_downloads=True)
            context.set_default_timeout(5000)
            page = context.new_page()
            watch(page, problems)

            page.goto(f"{base}/-/login")
            page.fill("#f-handle", HANDLES["member_a"])
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.click("form.login-form button[type=submit]")

            # The page editor: append a termin block and save.
            page.goto(f"{base}/-/edit/{PAGE}")
            editor = page.locator("#editor-text")
            editor.fill(editor.input_value() + BLOCK)
            page.fill("#f-message", "Herbstfest eingetragen")
            with page.expect_navigation():
                page.click("form.editor button[name=save]")
            assert page.url == f"{base}/{PAGE}"
            widget = page.locator("#termin-herbstfest-browser")
            expect(widget.get_by_role("heading", name="Herbstfest mit Äpfeln 🍎")).to_be_visible()

            # The chapter's month view lists it on each of its three Wednesdays.
            page.goto(f"{base}/-/calendar/lv/kv-a?monat=2027-02")
            links = page.locator("table.calendar-month a[href$='#termin-herbstfest-browser']")
            expect(links).to_have_count(3)
            expect(links.first).to_contain_text("18:00")
            with page.expect_navigation():
                links.first.click()
            assert page.url == f"{base}/{PAGE}#termin-herbstfest-browser"

            # "In meinen Kalender" downloads the event; a calendar program can read it.
            with page.expect_download() as info:
                widget.get_by_role("link", name="In meinen Kalender").click()
            download = info.value
            assert download.suggested_filename == "herbstfest-browser.ics"
            target = tmp_path / download.suggested_filename
            download.save_as(target)
            calendar = Calendar.from_ical(target.read_bytes())
            (event,) = calendar.walk("VEVENT")
            assert str(event["SUMMARY"]) == "Herbstfest mit Äpfeln 🍎"
            assert str(event["UID"]).startswith("herbstfest-browser@")
            assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=3"
            assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]

            # The subscription page: the copy button appears with the script and copies.
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page.goto(f"{base}/-/calendar/subscribe?gliederung=lv/kv-a")
            button = page.locator("button[data-copy='feed-1-https']")
            expect(button).to_be_visible()
            button.click()
            expect(page.locator("#feed-1-status")).to_have_text("Adresse kopiert.")
            copied = page.evaluate("() => navigator.clipboard.readText()")
            assert copied.endswith("/-/calendar.ics")

            # On a 390 px phone the page (long addresses included) needs no sideways scrolling.
            page.set_viewport_size({"width": 390, "height": 844})
            page.reload()
            widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            assert widths[0] <= widths[1] + 1, f"horizontal scroll at 390 px: {widths}"
        finally:
            browser.close()
    assert not problems, problems
