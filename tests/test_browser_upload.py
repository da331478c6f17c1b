"""Upload from the page editor in a real browser: picking a file inserts the link with the
normalised name at once, the live preview shows the image, and saving commits page and document
together. Skipped where Debian's Chromium is not installed (CI installs it)."""

from __future__ import annotations

import re

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, live_server, log_in, watch  # noqa: F401

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.mark.browser
def test_editor_file_picker_inserts_link_and_saves_in_one_commit(live_server):  # noqa: F811
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import expect, sync_playwright

    base = live_server
    problems: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="de-DE")
            context.set_default_timeout(5000)
            page = context.new_page()
            watch(page, problems)
            log_in(page, base, "alice")

            page.goto(f"{base}/-/edit/sommerfest?title=Sommerfest")
            editor = page.locator("#editor-text")
            editor.fill("# Sommerfest\n\nDer Plan:\n")
            editor.press("End")
            picked = {"name": "Sommerfest Übersicht.png", "mimeType": "image/png", "buffer": PNG}
            page.set_input_files("#editor-documents", files=[picked])
            link = "![sommerfest-uebersicht.png](_files/sommerfest-uebersicht.png)"
            expect(editor).to_have_value(re.compile(re.escape(link)))
            # The file stays in the form's field under its normalised name.
            names = page.eval_on_selector(
                "#editor-documents", "el => Array.from(el.files, f => f.name)"
            )
            assert names == ["sommerfest-uebersicht.png"]
            # The live preview shows the picked image before it is uploaded.
            image = page.locator("#live-preview img")
            expect(image).to_have_count(1)
            expect(image).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))

            with page.expect_navigation():
                page.click("form.editor button[name=save]")
            assert page.url == f"{base}/sommerfest"
            saved = page.locator("main img[src='/-/files/sommerfest/sommerfest-uebersicht.png']")
            expect(saved).to_have_count(1)
            # The link was inserted by the script, so the server appended none.
            raw = page.request.get(f"{base}/-/raw/sommerfest").text()
            assert raw.count("_files/sommerfest-uebersicht.png") == 1
            download = page.request.get(f"{base}/-/files/sommerfest/sommerfest-uebersicht.png")
            assert download.status == 200 and download.body() == PNG
        finally:
            browser.close()
    assert problems == []
