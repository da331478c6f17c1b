"""Announcement mails are multipart/alternative: the markdown as text and the wiki's rendering as
HTML (absolute wikilinks, line breaks kept, raw HTML escaped); "gelesen" leaves out the sender."""

from __future__ import annotations

import email
import email.policy
import pathlib

import pytest
from conftest import PASSWORD, log_in, make_test_app, save
from sqlalchemy import select

from plugins.spaces.directory import add_member
from wiki.cli import create_user
from wiki.db import MailMessage, User
from wiki.markup import Renderer, render_mail_html

LV = (
    "---\ntype: space\nname: Landesverband\ncode: LV\nkind: landesverband\n"
    "default_visibility: members\n---\nLandesverband\n"
)
BODY = (
    "Hallo <script>alert(1)</script> zum [[lv/treffen|Treffen]],\n"
    "bitte **pünktlich** sein.\n\nSiehe auch [[../hilfe]]."
)


@pytest.fixture
def app(tmp_path):
    """alice: board of LV; carol: LV member."""
    app = make_test_app(tmp_path, WIKI_PLUGINS=["plugins.spaces"])
    admin = log_in(app, "admin")
    assert save(admin, "lv", LV).status_code == 302
    assert save(admin, "lv/treffen", "# Treffen\nDienstag").status_code == 302
    state = app.extensions["wiki"]
    with app.app_context(), state.sessions() as db:
        alice = db.scalar(select(User).where(User.handle == "alice"))
        carol = create_user(db, "carol", "Carol", "carol@example.org", PASSWORD)
        add_member(db, alice.id, "lv", "board")
        add_member(db, carol.id, "lv", "member")
        db.commit()
    yield app
    state.search.wait_idle()
    state.store.close()
    state.engine.dispose()


def client_for(app, handle):
    client = app.test_client()
    assert client.form("/-/login", {"handle": handle, "password": PASSWORD}).status_code == 302
    return client


def announce(client, body=BODY):
    response = client.form(
        "/-/spaces/lv/announcements",
        {"audience": "members", "subject": "Treffen", "body": body, "action": "send"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def outbox_message(app, recipient: str) -> email.message.EmailMessage:
    app.extensions["wiki"].mailer.process()
    outbox = pathlib.Path(app.config["WIKI_INSTANCE"]) / "outbox"
    for eml in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        if message["To"] == recipient:
            return message
    raise AssertionError(f"no mail to {recipient}")


def test_announcement_mail_has_text_and_html_parts(app):
    announce(client_for(app, "alice"))
    with app.extensions["wiki"].sessions() as db:
        row = db.scalar(select(MailMessage).where(MailMessage.recipient == "carol@example.org"))
        assert row.html and "<br" in row.html  # the queue keeps the HTML part
    message = outbox_message(app, "carol@example.org")
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # The text part is the message as written, readable as it is.
    assert "zum [[lv/treffen|Treffen]],\nbitte **pünktlich** sein." in plain
    assert "Keine Mitteilungen mehr per E-Mail bekommen: http://wiki.test/-/unsubscribe/" in plain
    # The HTML part: rendered, wikilinks absolute, raw HTML escaped, the line break kept.
    assert 'href="http://wiki.test/lv/treffen"' in html
    assert 'href="http://wiki.test/hilfe"' in html
    assert "<strong>pünktlich</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Treffen</a>,<br />\nbitte" in html
    assert 'href="/' not in html  # nothing relative left
    assert "http://wiki.test/-/unsubscribe/" in html


def test_widgets_leave_no_live_parts_in_the_mail():
    renderer = Renderer(widget_kinds=["poll"])
    body = "Vorher\n\n```poll\nfrage: Wann?\n```\n\nNachher"
    assert "data-widget-index" in renderer.render(body, "lv").html  # a widget on a page
    html = render_mail_html(renderer, body, "lv", "http://wiki.test")
    assert "<p>Vorher</p>" in html and "<p>Nachher</p>" in html
    assert "widget" not in html and "Wann" not in html


def test_read_count_leaves_out_the_sender(app):
    alice = client_for(app, "alice")  # board, and a member of LV herself: she gets it too
    location = announce(alice)
    page = alice.get(location).get_data(as_text=True)
    assert "Empfänger*innen: 2" in page
    assert "Im Wiki gelesen: 0" in page
    assert client_for(app, "carol").get(location).status_code == 200
    assert "Im Wiki gelesen: 1" in alice.get(location).get_data(as_text=True)
    listing = alice.get("/-/spaces/lv/announcements").get_data(as_text=True)
    assert "2 Empfänger*innen, 1 gelesen" in listing
