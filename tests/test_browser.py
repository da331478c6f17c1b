"""End-to-end check in a real browser: log in, create a page, live preview, edit conflict, phone
layout. Drives Debian's Chromium through Playwright; skipped where it is not installed."""

from __future__ import annotations

import re

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, serve, watch
from conftest import PASSWORD, make_test_app

TITLE = "Sommerfest Planung Größe"
SLUG = "sommerfest-planung-groesse"
TEXT = (
    "# Sommerfest im Juli\n"
    "\n"
    "Wir treffen uns im Gemeindegarten.\n"
    "\n"
    "- Getränke: Wasser\n"
    "- Grill: Bratwurst\n"
    "- Musik: offen\n"
    "\n"
    "Mehr dazu in der [[Hilfe]].\n"
)
LINE = "- Getränke: Wasser"
FIRST = "- Getränke: Apfelschorle (Alice)"
SECOND = "- Getränke: Limonade (Bob)"


@pytest.fixture
def live_server(tmp_path):
    """The wiki served on a free port of 127.0.0.1 in a background thread → its base URL."""
    with serve(make_test_app(tmp_path)) as base:
        yield base


def log_in(page, base: str, handle: str) -> None:
    page.goto(f"{base}/-/login")
    page.fill("#f-handle", handle)
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login-form button[type=submit]")
    assert "/-/login" not in page.url
    assert page.locator(".site-nav-user").count() == 1


@pytest.mark.browser
def test_create_preview_conflict_and_phone_layout(live_server, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import expect, sync_playwright

    base = live_server
    problems: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            alice_context = browser.new_context(locale="de-DE")
            bob_context = browser.new_context(locale="de-DE")
            alice_context.set_default_timeout(5000)
            bob_context.set_default_timeout(5000)
            alice = alice_context.new_page()
            watch(alice, problems)

            # Log in through the form, then create a page through "Neue Seite".
            log_in(alice, base, "alice")
            alice.click("nav.site-nav a[href$='/-/new']")
            expect(alice.locator("h1")).to_have_text("Neue Seite")
            alice.fill("#f-title", TITLE)
            with alice.expect_navigation():
                alice.click("form.new-page-form button[type=submit]")
            assert alice.url.split("?")[0] == f"{base}/-/edit/{SLUG}"
            editor = alice.locator("#editor-text")
            expect(editor).to_have_value(re.compile(r"^# Sommerfest Planung Größe\n"))

            # Typing fills the live preview (the script posts to /-/preview).
            preview = alice.locator("#live-preview")
            expect(preview).to_be_hidden()
            with alice.expect_response(
                lambda r: r.url == f"{base}/-/preview" and r.request.method == "POST"
            ) as preview_info:
                editor.fill(TEXT)
            assert preview_info.value.status == 200
            expect(preview).to_be_visible()
            expect(
                preview.get_by_role("heading", name="Sommerfest im Juli", level=1)
            ).to_be_visible()
            expect(preview.locator("li")).to_have_count(3)
            expect(preview.locator("a.wikilink[data-page='hilfe']")).to_have_count(1)

            alice.fill("#f-message", "Sommerfest angelegt")
            with alice.expect_navigation() as saved:
                alice.click("form.editor button[name=save]")
            assert saved.value is not None and saved.value.status == 200
            assert alice.url == f"{base}/{SLUG}"

            # The saved page is rendered.
            main = alice.locator("main")
            expect(main.locator(".flash-success")).to_be_visible()
            expect(main.get_by_role("heading", name="Sommerfest im Juli")).to_be_visible()
            expect(main.get_by_text("Getränke: Wasser", exact=True)).to_be_visible()
            link = main.locator("a.wikilink[data-page='hilfe']")
            expect(link).to_be_visible()
            expect(link).to_have_attribute("href", "/hilfe")

            # Phone width: no sideways scrolling.
            alice.set_viewport_size({"width": 360, "height": 740})
            alice.reload()
            expect(main.get_by_role("heading", name="Sommerfest im Juli")).to_be_visible()
            shot = tmp_path / "page-360.png"
            alice.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0
            overflow = alice.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert overflow[0] <= overflow[1] + 1, f"horizontal scroll at 360 px: {overflow}"
            alice.set_viewport_size({"width": 1280, "height": 800})

            # Both open the editor on the same version …
            bob = bob_context.new_page()
            watch(bob, problems)
            log_in(bob, base, "bob")
            edit_url = f"{base}/-/edit/{SLUG}"
            alice.goto(edit_url)
            bob.goto(edit_url)
            for page in (alice, bob):
                expect(page.locator("#editor-text")).to_have_value(TEXT)
            assert (
                alice.locator("input[name=base]").input_value()
                == bob.locator("input[name=base]").input_value()
            )

            # … and change the same line differently.
            alice.fill("#editor-text", TEXT.replace(LINE, FIRST))
            bob.fill("#editor-text", TEXT.replace(LINE, SECOND))
            bob.fill("#f-message", "Getränke von Bob")
            # Let the live previews settle, so no preview request is cut off by the saves.
            expect(alice.locator("#live-preview")).to_contain_text("Apfelschorle")
            expect(bob.locator("#live-preview")).to_contain_text("Limonade")

            with alice.expect_response(
                lambda r: r.url == edit_url and r.request.method == "POST"
            ) as first:
                alice.click("form.editor button[name=save]")
            assert first.value.status == 302
            alice.wait_for_url(f"{base}/{SLUG}")
            expect(alice.locator("main").get_by_text(FIRST[2:], exact=True)).to_be_visible()

            with bob.expect_response(
                lambda r: r.url == edit_url and r.request.method == "POST"
            ) as second:
                bob.click("form.editor button[name=save]")
            assert second.value.status == 409
            bob.wait_for_load_state()
            expect(bob.locator("h1")).to_have_text(
                "Jemand anderes hat die Seite inzwischen geändert"
            )
            expect(bob.locator(".alert-warning")).to_be_visible()
            # Nothing of Bob's text is lost, and Alice's change is shown next to it (no raw
            # merge markers); the merge to edit starts with Bob's line at the clash.
            mine = bob.locator("#editor-text").input_value()
            assert SECOND in mine and FIRST not in mine
            assert "<<<<<<<" not in bob.content()
            expect(bob.locator("#conflict-theirs .conflict-clash")).to_contain_text(FIRST[2:])
            expect(bob.locator("#conflict-mine .conflict-clash")).to_contain_text(SECOND[2:])
            assert bob.locator("#f-message").input_value() == "Getränke von Bob"
            for label in ("Zusammenführen", "Meine Fassung übernehmen", "Die andere übernehmen"):
                expect(bob.get_by_role("button", name=label)).to_be_visible()
            # On a phone the versions stack without sideways scrolling.
            bob.set_viewport_size({"width": 390, "height": 844})
            overflow = bob.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            assert overflow[0] <= overflow[1] + 1, f"horizontal scroll at 390 px: {overflow}"
            mine_box = bob.locator("#conflict-mine").bounding_box()
            theirs_box = bob.locator("#conflict-theirs").bounding_box()
            assert theirs_box["y"] >= mine_box["y"] + mine_box["height"]
            bob.set_viewport_size({"width": 1280, "height": 800})

            # The saved page still has Alice's version only.
            alice.reload()
            expect(alice.locator("main").get_by_text(FIRST[2:], exact=True)).to_be_visible()
            expect(alice.locator("main").get_by_text(SECOND[2:])).to_have_count(0)
        finally:
            browser.close()

    # Chromium logs every error status of a document; the conflict page is the one expected.
    expected = (f"{base}/-/edit/{SLUG}", "the server responded with a status of 409")
    unexpected = [
        (url, text) for url, text in problems if not (url == expected[0] and expected[1] in text)
    ]
    assert len(problems) - len(unexpected) == 1, problems
    assert not unexpected, "browser reported errors:\n" + "\n".join(map(str, unexpected))
