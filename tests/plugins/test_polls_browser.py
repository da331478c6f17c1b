"""End to end in a real browser: an organiser writes a poll into a page with the editor and
prints ballot slips; a phone opens a slip's QR code URL (token in the fragment) and votes without
an account; the organiser closes the poll and the results chart appears. Drives Debian's
Chromium through Playwright, launched as ``tests/test_browser.py`` does; skipped without it."""

from __future__ import annotations

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, serve, watch
from conftest import PASSWORD, make_spaces_app
from test_polls_qr import SVG_RE, decode

PAGE = "lv/kv-a/oeffentlich"
POLL = """

```poll
id: vorsitz-2030
titel: Wer leitet die Versammlung?
typ: einfach
optionen:
  anna: Anna
  bert: Bert
wer: token
ergebnis: nach-schluss
```
"""


@pytest.fixture
def live_server(tmp_path):
    """The spaces + polls wiki on a free port of 127.0.0.1 → its base URL (also the base of
    the URLs in QR codes)."""
    app = make_spaces_app(tmp_path, WIKI_PLUGINS=["plugins.spaces", "plugins.polls"])
    with serve(app, base_url=True) as base:
        yield base


def log_in(page, base: str, handle: str) -> None:
    page.goto(f"{base}/-/login")
    page.fill("#f-handle", handle)
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login-form button[type=submit]")
    assert "/-/login" not in page.url


@pytest.mark.browser
def test_slip_vote_on_a_phone_and_results_after_close(live_server, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import expect, sync_playwright

    base = live_server
    problems: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            desk = browser.new_context(locale="de-DE")
            desk.set_default_timeout(10000)
            organiser = desk.new_page()
            watch(organiser, problems)
            organiser.on("dialog", lambda dialog: dialog.accept())

            # The organiser (a member of lv/kv-a, who may edit its public page) adds the poll.
            log_in(organiser, base, "mia")
            organiser.goto(f"{base}/-/edit/{PAGE}")
            editor = organiser.locator("#editor-text")
            editor.fill(editor.input_value() + POLL)
            organiser.fill("#f-message", "Abstimmung angelegt")
            with organiser.expect_navigation():
                organiser.click("form.editor button[name=save]")
            assert organiser.url == f"{base}/{PAGE}"
            widget = organiser.locator("main")
            expect(widget.get_by_text("Wer leitet die Versammlung?").first).to_be_visible()

            # Slips: two, printed from a sheet that shows each token once.
            organiser.goto(f"{base}/-/polls/vorsitz-2030/slips")
            organiser.fill("#f-slips-count", "2")
            with organiser.expect_navigation() as sheet:
                organiser.click("main form button[type=submit]")
            assert sheet.value.status == 200
            expect(organiser.locator(".polls-slip")).to_have_count(2)
            svg = organiser.locator(".polls-slip-qr svg").first.evaluate("e => e.outerHTML")
            (url,) = decode(SVG_RE.search(svg).group(0))
            assert url.startswith(f"{base}/-/polls/vorsitz-2030/token#t=")
            code = url.split("#t=", 1)[1]
            expect(organiser.locator(".polls-slip-code code").first).to_have_text(code)
            # the printout drops the site's header (print media)
            organiser.emulate_media(media="print")
            expect(organiser.locator(".site-header")).to_be_hidden()
            pdf = tmp_path / "slips.pdf"
            organiser.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
            assert pdf.read_bytes().startswith(b"%PDF")
            organiser.emulate_media(media="screen")

            # A phone scans the slip: no account, the code comes from the URL fragment.
            phone_context = browser.new_context(
                locale="de-DE",
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
            )
            phone_context.set_default_timeout(10000)
            phone = phone_context.new_page()
            watch(phone, problems)
            phone.goto(url)
            token_field = phone.locator("input[data-polls-token]")
            expect(token_field).to_have_value(code)
            assert "#t=" not in phone.url  # the script removed the code from the address bar
            overflow = phone.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert overflow[0] <= overflow[1] + 1, f"horizontal scroll at 390 px: {overflow}"
            phone.get_by_label("Anna").check()
            with phone.expect_navigation():
                phone.click("form.polls-vote button[type=submit]")
            expect(phone.locator(".flash-success")).to_contain_text("gezählt")
            # the same slip again: refused
            phone.goto(url)
            phone.get_by_label("Bert").check()
            with phone.expect_navigation() as again:
                phone.click("form.polls-vote button[type=submit]")
            assert again.value.status == 409
            expect(phone.locator(".alert-error")).to_contain_text("schon benutzt")

            # Results only after the close: the organiser closes, the chart appears.
            organiser.goto(f"{base}/-/polls/vorsitz-2030")
            expect(organiser.locator("figure.poll-chart")).to_have_count(0)
            with organiser.expect_navigation():
                organiser.get_by_role("button", name="Abstimmung jetzt schließen").click()
            chart = organiser.locator("figure.poll-chart")
            expect(chart).to_be_visible()
            expect(chart.locator("svg").first).to_be_visible()
            expect(chart).to_contain_text("Anna")
            phone.goto(f"{base}/-/polls/vorsitz-2030")
            expect(phone.locator("figure.poll-chart")).to_be_visible()
            phone_context.close()
        finally:
            browser.close()
    # the refused second use of the slip answers 409, which the console reports as an error
    refused = f"{base}/-/polls/vorsitz-2030/vote"
    assert [p for p in problems if not (p[0] == refused and "409" in p[1])] == [], problems
