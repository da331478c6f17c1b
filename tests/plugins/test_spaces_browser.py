"""End-to-end check of a personal invitation in a real browser: the board of a Kreisverband
invites a new person, who follows the link from the mail, creates an account and reads a
members-only page. Drives Debian's Chromium through Playwright; skipped where it is missing."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, serve, watch
from conftest import PASSWORD, make_spaces_app

SPACE = "lv/kv-a"
SPACE_NAME = "Kreisverband A"
PROTOKOLL = "lv/kv-a/protokoll"
SECRET = "Geheime Beschlüsse von A."
INVITEE_NAME = "Jörg Übermuth-Größe"
INVITEE_EMAIL = "joerg.uebermuth@example.org"
INVITEE_HANDLE = "joerg"
INVITEE_PASSWORD = "Sommerfest im Gemeindegarten 2024"
NOT_FOUND = "the server responded with a status of 404"


@pytest.fixture
def live_spaces(tmp_path):
    """The wiki with the space tree, served on a free port of 127.0.0.1 in a background
    thread → (app, base URL). Mail links point at that address."""
    app = make_spaces_app(tmp_path)
    with serve(app, base_url=True) as base:
        yield app, base


def outbox_messages(app) -> list[email.message.EmailMessage]:
    """The mails written into the instance's outbox, oldest first."""
    outbox = Path(app.config["WIKI_INSTANCE"]) / "outbox"
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]


@pytest.mark.browser
def test_board_invites_new_person_who_joins_and_reads_members_page(live_spaces):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import expect, sync_playwright

    app, base = live_spaces
    protokoll_url = f"{base}/{PROTOKOLL}"
    invitations_url = f"{base}/-/spaces/{SPACE}/invitations"
    problems: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            board_context = browser.new_context(locale="de-DE")
            board_context.set_default_timeout(5000)
            bea = board_context.new_page()
            watch(bea, problems)

            # The board member of Kreisverband A logs in through the form …
            bea.goto(f"{base}/-/login")
            bea.fill("#f-handle", "bea")
            bea.fill("#f-password", PASSWORD)
            with bea.expect_navigation():
                bea.click("form.login-form button[type=submit]")
            assert "/-/login" not in bea.url
            expect(bea.locator(".site-nav-user")).to_have_count(1)

            # … opens the invitations page of the space …
            response = bea.goto(invitations_url)
            assert response is not None and response.status == 200
            expect(bea.locator("h1")).to_have_text(f"Einladungen in {SPACE_NAME}")
            expect(bea.locator(".invitations-table")).to_have_count(0)

            # … and invites a new person by e-mail.
            bea.fill("#f-invite-name", INVITEE_NAME)
            bea.fill("#f-invite-email", INVITEE_EMAIL)
            form = bea.locator("form").filter(has=bea.locator("#f-invite-email"))
            with bea.expect_navigation() as sent:
                form.locator("button[type=submit]").click()
            assert sent.value is not None and sent.value.status == 200
            assert bea.url == invitations_url
            expect(bea.locator(".flash-success")).to_contain_text(
                f"Einladung an {INVITEE_EMAIL} verschickt."
            )
            invited_row = bea.locator(".invitations-table tbody tr")
            expect(invited_row).to_have_count(1)
            expect(invited_row).to_contain_text(INVITEE_NAME)
            expect(invited_row).to_contain_text(INVITEE_EMAIL)
            expect(invited_row.locator("td").nth(4)).to_have_text("offen")

            # The queued mail goes out into the outbox; the link is read from its decoded body.
            assert app.extensions["wiki"].mailer.process() == 1
            messages = outbox_messages(app)
            assert len(messages) == 1
            mail = messages[0]
            assert mail["To"] == INVITEE_EMAIL
            assert mail["Subject"] == f"Einladung: {SPACE_NAME}"
            body = mail.get_body(preferencelist=("plain",)).get_content()
            assert body.startswith(f"Hallo {INVITEE_NAME},")
            assert "Bea Vorstand A lädt dich in die Gliederung „Kreisverband A“" in body
            links = re.findall(r"https?://\S+", body)
            assert len(links) == 1, body
            invite_url = links[0]
            assert re.fullmatch(re.escape(f"{base}/-/invite/") + r"[A-Za-z0-9_\-]{40,}", invite_url)

            # A fresh browser for the invitee: the members-only page is not there for strangers.
            invitee_context = browser.new_context(locale="de-DE")
            invitee_context.set_default_timeout(5000)
            invitee = invitee_context.new_page()
            watch(invitee, problems)
            response = invitee.goto(protokoll_url)
            assert response is not None and response.status == 404
            expect(invitee.locator("main")).not_to_contain_text(SECRET)
            expect(invitee.locator(".site-nav-user")).to_have_count(0)

            # The invitee follows the link from the mail …
            response = invitee.goto(invite_url)
            assert response is not None and response.status == 200
            expect(invitee.locator("h1")).to_have_text(f"Einladung in {SPACE_NAME}")
            expect(invitee.locator(".spaces-invite .lead")).to_contain_text("Bea Vorstand A")
            expect(invitee.locator("#f-display-name")).to_have_value(INVITEE_NAME)
            expect(invitee.locator("#f-email")).to_have_value(INVITEE_EMAIL)

            # … and creates an account through the form.
            invitee.fill("#f-display-name", INVITEE_NAME)
            invitee.fill("#f-handle", INVITEE_HANDLE)
            invitee.fill("#f-password", INVITEE_PASSWORD)
            with invitee.expect_navigation() as joined:
                invitee.click("section[aria-labelledby=register-title] button[type=submit]")
            assert joined.value is not None and joined.value.status == 200
            assert invitee.url == f"{base}/{SPACE}"
            expect(invitee.locator(".flash-success")).to_contain_text(
                f"Willkommen! Du bist jetzt Mitglied von {SPACE_NAME}."
            )
            expect(invitee.locator(".site-nav-user")).to_have_count(1)
            expect(invitee.locator(".site-nav-user")).to_contain_text(INVITEE_NAME)

            # As a member now, the invitee reads the page that was hidden before.
            response = invitee.goto(protokoll_url)
            assert response is not None and response.status == 200
            main = invitee.locator("main")
            expect(main.get_by_role("heading", name="Protokoll Kreisverband A")).to_be_visible()
            expect(main.get_by_text(SECRET)).to_be_visible()

            # The board sees the invitation as accepted.
            bea.reload()
            expect(invited_row).to_have_count(1)
            expect(invited_row.locator("td").nth(4)).to_have_text("angenommen")
            expect(invited_row.locator("form")).to_have_count(0)
        finally:
            browser.close()

    # Chromium logs every error status of a document; the anonymous 404 is the one expected.
    unexpected = [
        (url, text) for url, text in problems if not (url == protokoll_url and NOT_FOUND in text)
    ]
    assert len(problems) - len(unexpected) == 1, problems
    assert not unexpected, "browser reported errors:\n" + "\n".join(map(str, unexpected))
