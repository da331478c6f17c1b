"""End-to-end check in a real browser: a member of a Kreisverband records a resolution through
the "Neuer Beschluss" form (no YAML), then finds it in the archive by facet and by full text.
Drives Debian's Chromium through Playwright; skipped where it is missing."""

from __future__ import annotations

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, serve, watch
from conftest import PASSWORD, Spaces, make_resolutions_app, resolution_text

TITLE = "Nachtbusse für Jugendliche am Wochenende"
TEXT = "Der Kreisverband fordert Nachtbusse zwischen allen Stadtteilen, freitags und samstags."


@pytest.fixture
def live(tmp_path):
    app = make_resolutions_app(tmp_path)
    # an earlier, rejected motion on the same subject: the form shows it as similar
    Spaces(app).commit(
        {
            "lv/kv-a/beschluesse/2021/kva-kmv-2021-a3.md": resolution_text(
                "KVA-KMV-2021-A3",
                title="Nachtbusse in der Innenstadt",
                body="Kreismitgliederversammlung",
                decided="2021-04-10",
                outcome="abgelehnt",
                text="Nachtbusse nur in der Innenstadt.",
            )
        }
    )
    with serve(app) as base:
        yield app, base


@pytest.mark.browser
def test_create_a_resolution_and_find_it_by_facet_and_text(live):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import expect, sync_playwright

    app, base = live
    problems: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
            context.set_default_timeout(5000)
            page = context.new_page()
            watch(page, problems)
            page.goto(f"{base}/-/login")
            page.fill("#f-handle", "mia")  # member of Kreisverband A
            page.fill("#f-password", PASSWORD)
            with page.expect_navigation():
                page.click("form.login-form button[type=submit]")

            # The archive offers the form; it has proper fields, no YAML.
            page.goto(f"{base}/-/resolutions/")
            with page.expect_navigation():
                page.get_by_role("link", name="Neuer Beschluss").click()
            expect(page.locator("h1")).to_contain_text("Neuer Beschluss")
            page.select_option("#f-space", "lv/kv-a")
            page.fill("#f-body", "Kreismitgliederversammlung")
            page.fill("#f-event", "Kreismitgliederversammlung Frühjahr 2024")
            page.fill("#f-number", "A2")
            page.fill("#f-title", TITLE)
            page.fill("#f-decided", "2024-03-09")
            page.fill("#f-initiators", "Mia Mitglied\nOrtsverband A-Nord")
            page.select_option("#f-outcome", "angenommen")
            page.fill("#f-votes-yes", "23")
            page.fill("#f-votes-no", "2")
            page.fill("#f-votes-abstain", "1")
            page.fill("#f-topics", "Verkehr, Jugend")
            page.fill("#f-beschlusstext", TEXT)

            # Checking first: the proposed id and path, and the similar rejected motion.
            with page.expect_navigation():
                page.click("button[name=check]")
            expect(page.locator("#f-rid")).to_have_value("KVA-KMV-2024-A2")
            expect(page.locator("main")).to_contain_text("Nachtbusse in der Innenstadt")
            expect(page.locator("main")).to_contain_text("Abgelehnt")

            with page.expect_navigation() as saved:
                page.click("button[name=save]")
            assert saved.value is not None and saved.value.status == 200
            assert page.url == f"{base}/lv/kv-a/beschluesse/2024/kva-kmv-2024-a2"
            table = page.locator("table.resolution-data")
            expect(table).to_contain_text("KVA-KMV-2024-A2")
            expect(table).to_contain_text("Kreismitgliederversammlung")
            expect(table).to_contain_text("23")
            expect(page.locator("main")).to_contain_text(TEXT)

            # Found by facets: the chapter, then the topic.
            # On a phone the filters are folded into a "Filter" disclosure above the results.
            page.goto(f"{base}/-/resolutions/")
            facets = page.locator("nav.resolutions-facets")
            disclosure = page.locator("details.filter-disclosure > summary")
            expect(facets).to_be_hidden()
            disclosure.click()
            with page.expect_navigation():
                facets.locator(".facet-chapter").get_by_role("link", name="Kreisverband A").click()
            disclosure.click()
            with page.expect_navigation():
                facets.locator(".facet-topic").get_by_role("link", name="Jugend").click()
            results = page.locator("ol.resolutions-list > li")
            expect(results).to_have_count(1)
            expect(results.first).to_contain_text(TITLE)
            assert "topic=Jugend" in page.url and "chapter=lv/kv-a" in page.url

            # Found by full text, from the archive's search box.
            page.goto(f"{base}/-/resolutions/")
            page.fill("#resolutions-q", "Stadtteilen")
            with page.expect_navigation():
                page.click("form.search-form button[type=submit]")
            expect(results).to_have_count(1)
            expect(results.first).to_contain_text("KVA-KMV-2024-A2")

            # Typing the id jumps straight to the resolution.
            page.fill("#resolutions-q", "A2 2024")
            with page.expect_navigation():
                page.click("form.search-form button[type=submit]")
            assert page.url == f"{base}/lv/kv-a/beschluesse/2024/kva-kmv-2024-a2"
        finally:
            browser.close()
    assert not problems, problems
