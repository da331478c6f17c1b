"""Announcements of the spaces plugin: recipients, mail through a real SMTP server, inbox,
delivery status, opt-out and the unsubscribe link that works without logging in."""

from __future__ import annotations

import email
import email.policy
import pathlib
import re
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from conftest import PASSWORD, log_in, make_test_app, save
from sqlalchemy import func, select

from plugins.spaces.directory import add_member
from plugins.spaces.models import Announcement, Delivery, Profile
from wiki.cli import create_user
from wiki.db import MailMessage, User

LV = (
    "---\ntype: space\nname: Landesverband\ncode: LV\nkind: landesverband\n"
    "default_visibility: members\n---\nLandesverband\n"
)
OV = (
    "---\ntype: space\nname: Ortsverband Mitte\ncode: OVM\nkind: ortsverband\n"
    "default_visibility: members\n---\nOrtsverband\n"
)
UNSUBSCRIBE_RE = re.compile(r"http://wiki\.test(/-/unsubscribe/[A-Za-z0-9_\-]+)")


class Collector:
    """Accepts every message except to addresses in ``refuse`` (answered with 550)."""

    def __init__(self):
        self.messages = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Unbekannte Adresse"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    handler = Collector()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def make_app(tmp_path, **config):
    """LV with the sub-space OV. alice: LV board; bob: OV member (so LV member too); carol and
    dave: LV members (dave opted out of mails); frank: OV board; admin and erin: no member."""
    app = make_test_app(tmp_path, WIKI_PLUGINS=["plugins.spaces"], **config)
    admin = log_in(app, "admin")
    assert save(admin, "lv", LV).status_code == 302
    assert save(admin, "lv/ov", OV).status_code == 302
    state = app.extensions["wiki"]
    with app.app_context(), state.sessions() as db:
        users = {u.handle: u for u in db.scalars(select(User))}
        for handle, name in (
            ("carol", "Carol"),
            ("dave", "Dave"),
            ("erin", "Erin"),
            ("frank", "F"),
        ):
            users[handle] = create_user(db, handle, name, f"{handle}@example.org", PASSWORD)
        add_member(db, users["alice"].id, "lv", "board")
        add_member(db, users["bob"].id, "lv/ov", "member")
        add_member(db, users["carol"].id, "lv", "member")
        add_member(db, users["dave"].id, "lv", "member")
        add_member(db, users["frank"].id, "lv/ov", "board")
        db.add(Profile(user_id=users["dave"].id, mail_opt_out=True))
        db.commit()
    return app


def client_for(app, handle):
    client = app.test_client()
    response = client.form("/-/login", {"handle": handle, "password": PASSWORD})
    assert response.status_code == 302
    return client


def announce(client, space="lv", audience="members", subject="Einladung zum Treffen", body=None):
    return client.form(
        f"/-/spaces/{space}/announcements",
        {
            "audience": audience,
            "subject": subject,
            "body": body or "Wir treffen uns am **Montag**.",
            "action": "send",
        },
    )


def wait_for(handler, count, seconds=5):
    deadline = time.time() + seconds
    while len(handler.messages) < count and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)


def parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def smtp_app(tmp_path, controller):
    return make_app(
        tmp_path,
        WIKI_SMTP_HOST="127.0.0.1",
        WIKI_SMTP_PORT=controller.port,
        WIKI_SMTP_SECURITY="none",
    )


def test_members_including_sub_spaces_get_it_once_by_smtp(tmp_path, smtp):
    controller, handler = smtp
    app = smtp_app(tmp_path, controller)
    board = client_for(app, "alice")
    response = announce(board)
    assert response.status_code == 302
    mailer = app.extensions["wiki"].mailer
    mailer.process()
    mailer.process()
    wait_for(handler, 3)
    recipients = sorted(r for m in handler.messages for r in m.rcpt_tos)
    # bob and frank via the sub-space; dave opted out; admin and erin are no members.
    assert recipients == [
        "alice@example.org",
        "bob@example.org",
        "carol@example.org",
        "frank@example.org",
    ]
    message = parse(handler.messages[0])
    assert message["Subject"] == "[LV] Einladung zum Treffen"
    assert re.fullmatch(
        r"<http://wiki\.test/-/unsubscribe/[A-Za-z0-9_\-]+>", message["List-Unsubscribe"]
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert "Wir treffen uns am **Montag**." in text
    assert UNSUBSCRIBE_RE.search(text).group(0) == message["List-Unsubscribe"][1:-1]
    # Sending again (a second sender run, a double click) delivers nothing more.
    assert mailer.process() == 0
    assert announce(board).status_code == 302
    assert mailer.process() == 0
    time.sleep(0.2)
    assert len(handler.messages) == 4
    with app.extensions["wiki"].sessions() as db:
        assert db.scalar(select(func.count()).select_from(Announcement)) == 1
        deliveries = db.scalars(select(Delivery)).all()
        assert len(deliveries) == 5  # dave gets it in the inbox, without mail
        dave = db.scalar(select(User).where(User.handle == "dave"))
        assert [d.mail_id for d in deliveries if d.user_id == dave.id] == [None]


def test_delivery_status_is_shown_to_the_board(tmp_path, smtp):
    controller, handler = smtp
    handler.refuse.add("carol@example.org")
    app = smtp_app(tmp_path, controller)
    board = client_for(app, "alice")
    location = announce(board).headers["Location"]
    before = board.get(location).get_data(as_text=True)
    assert "E-Mails wartend: 4" in before
    app.extensions["wiki"].mailer.process()
    wait_for(handler, 3)
    html = board.get(location).get_data(as_text=True)
    assert "Empfänger*innen: 5" in html
    assert "E-Mails gesendet: 3" in html
    assert "E-Mails fehlgeschlagen: 1" in html
    assert "Ohne E-Mail (abbestellt oder keine gültige Adresse): 1" in html
    listing = board.get("/-/spaces/lv/announcements").get_data(as_text=True)
    assert "3 gesendet, 0 wartend, 1 fehlgeschlagen" in listing
    # Members read the message but not the delivery status.
    member = client_for(app, "carol").get(location).get_data(as_text=True)
    assert "Wir treffen uns am" in member
    assert "E-Mails gesendet" not in member


def test_board_audience_reaches_exactly_the_board_of_that_space(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    response = announce(board, audience="board", subject="Nur Vorstand")
    assert response.status_code == 302
    location = response.headers["Location"]
    with app.extensions["wiki"].sessions() as db:
        rows = db.execute(select(User.handle).join(Delivery, Delivery.user_id == User.id)).all()
        assert [handle for (handle,) in rows] == ["alice"]
        assert db.scalar(select(func.count()).select_from(MailMessage)) == 1
    # Members (also the board of the sub-space) neither see it listed nor can open it.
    for handle in ("carol", "frank"):
        client = client_for(app, handle)
        assert "Nur Vorstand" not in client.get("/-/spaces/lv/announcements").get_data(as_text=True)
        assert client.get(location).status_code == 404


def test_members_of_sub_space_get_announcements_of_sub_space_only(tmp_path):
    app = make_app(tmp_path)
    frank = client_for(app, "frank")  # board of the sub-space
    assert announce(frank, space="lv/ov", subject="Ortsverband intern").status_code == 302
    with app.extensions["wiki"].sessions() as db:
        rows = db.execute(select(User.handle).join(Delivery, Delivery.user_id == User.id)).all()
        assert sorted(handle for (handle,) in rows) == ["bob", "frank"]


def test_board_of_enclosing_space_writes_to_a_sub_space_it_cannot_read(tmp_path):
    app = make_app(tmp_path)
    alice = client_for(app, "alice")  # board of LV, no member of OV (whose pages are hidden)
    assert alice.get("/lv/ov").status_code == 404
    response = announce(alice, space="lv/ov", subject="Vom Landesvorstand")
    assert response.status_code == 302
    assert alice.get(response.headers["Location"]).status_code == 200
    with app.extensions["wiki"].sessions() as db:
        rows = db.execute(select(User.handle).join(Delivery, Delivery.user_id == User.id)).all()
        assert sorted(handle for (handle,) in rows) == ["bob", "frank"]


def test_non_board_cannot_send(tmp_path):
    app = make_app(tmp_path)
    member = client_for(app, "carol")
    page = member.get("/-/spaces/lv/announcements")
    assert page.status_code == 200
    assert "Neue Mitteilung schreiben" not in page.get_data(as_text=True)
    assert announce(member).status_code == 403
    sub_board = client_for(app, "frank")  # board below, not of LV
    assert announce(sub_board).status_code == 403
    outsider = client_for(app, "erin")
    assert announce(outsider).status_code == 404
    assert outsider.get("/-/spaces/lv/announcements").status_code == 404
    anonymous = app.test_client()
    response = anonymous.form(
        "/-/spaces/lv/announcements", {"audience": "members", "subject": "x", "body": "y"}
    )
    assert response.status_code == 302 and "/-/login" in response.headers["Location"]
    with app.extensions["wiki"].sessions() as db:
        assert db.scalar(select(func.count()).select_from(Announcement)) == 0


def test_inbox_lists_and_opening_marks_read(tmp_path):
    app = make_app(tmp_path)
    location = announce(client_for(app, "alice"), subject="Neues vom Landesverband").headers[
        "Location"
    ]
    bob = client_for(app, "bob")
    assert "Neues vom Landesverband" in bob.get("/-/me").get_data(as_text=True)
    listing = bob.get("/-/spaces/lv/announcements").get_data(as_text=True)
    assert "Neues vom Landesverband" in listing and ">neu<" in listing
    page = bob.get(location)
    assert page.status_code == 200
    assert "<strong>Montag</strong>" in page.get_data(as_text=True)
    with app.extensions["wiki"].sessions() as db:
        bob_id = db.scalar(select(User.id).where(User.handle == "bob"))
        delivery = db.scalar(select(Delivery).where(Delivery.user_id == bob_id))
        assert delivery.read_at is not None
    assert ">neu<" not in bob.get("/-/spaces/lv/announcements").get_data(as_text=True)


def test_markdown_is_rendered_and_raw_html_escaped(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    body = 'Hallo <script>alert("x")</script> <img src=x onerror=alert(1)> *kursiv*'
    preview = board.form(
        "/-/spaces/lv/announcements",
        {"audience": "members", "subject": "Test", "body": body, "action": "preview"},
    )
    assert preview.status_code == 200
    assert "<em>kursiv</em>" in preview.get_data(as_text=True)
    with app.extensions["wiki"].sessions() as db:
        assert db.scalar(select(func.count()).select_from(Announcement)) == 0
    html = board.get(announce(board, body=body).headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_invalid_form_sends_nothing(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    response = board.form(
        "/-/spaces/lv/announcements",
        {"audience": "everyone", "subject": "", "body": " ", "action": "send"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Bitte einen Betreff angeben" in html and "Bitte einen Text angeben" in html
    with app.extensions["wiki"].sessions() as db:
        assert db.scalar(select(func.count()).select_from(Delivery)) == 0


def unsubscribe_link(app) -> str:
    app.extensions["wiki"].mailer.process()
    outbox = pathlib.Path(app.config["WIKI_INSTANCE"]) / "outbox"
    for eml in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        if message["To"] == "carol@example.org":
            return UNSUBSCRIBE_RE.search(message["List-Unsubscribe"]).group(1)
    raise AssertionError("no mail to carol")


def carol_opted_out(app) -> bool:
    with app.extensions["wiki"].sessions() as db:
        carol = db.scalar(select(User).where(User.handle == "carol"))
        profile = db.get(Profile, carol.id)
        return bool(profile and profile.mail_opt_out)


def test_unsubscribe_link_works_without_login(tmp_path):
    app = make_app(tmp_path)
    announce(client_for(app, "alice"))
    link = unsubscribe_link(app)
    anonymous = app.test_client()
    page = anonymous.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ja, abbestellen" in html and "c…@example.org" in html
    assert not carol_opted_out(app)  # GET alone changes nothing
    done = anonymous.form(link)
    assert done.status_code == 200
    assert "keine Mitteilungen der Gliederungen mehr" in done.get_data(as_text=True)
    assert carol_opted_out(app)
    # Only the hash of the token is stored.
    with app.extensions["wiki"].sessions() as db:
        stored = db.scalars(select(Profile.unsubscribe_token)).all()
        assert link.rsplit("/", 1)[1] not in stored
    # The next announcement reaches carol's inbox, but not her mailbox.
    before = {p.name for p in (tmp_path / "instance" / "outbox").glob("*.eml")}
    announce(client_for(app, "alice"), subject="Zweite Mitteilung")
    app.extensions["wiki"].mailer.process()
    new = [p for p in (tmp_path / "instance" / "outbox").glob("*.eml") if p.name not in before]
    recipients = {email.message_from_bytes(p.read_bytes())["To"] for p in new}
    assert recipients == {"alice@example.org", "bob@example.org", "frank@example.org"}


def test_one_click_unsubscribe_needs_no_session_or_csrf(tmp_path):
    app = make_app(tmp_path)
    announce(client_for(app, "alice"))
    link = unsubscribe_link(app)
    response = app.test_client().post(
        link,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert carol_opted_out(app)
    # The exemption is for this route only: other forms still need the token.
    assert app.test_client().post("/-/password-reset", data={"email": "x@y.de"}).status_code == 400


def test_wrong_unsubscribe_token_is_refused(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    for method in (client.get, client.post):
        response = method("/-/unsubscribe/not-a-real-token")
        assert response.status_code == 404
        assert "Dieser Abmeldelink ist ungültig" in response.get_data(as_text=True)
