"""Password reset by mail through a real SMTP server; outbox without SMTP; tokens work once."""

import re
import time

import pytest
from aiosmtpd.controller import Controller
from conftest import PASSWORD, make_test_app


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    handler = Collector()
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def reset_link(text: str) -> str:
    return re.search(r"http://wiki\.test(/-/password-reset/[A-Za-z0-9_\-]+)", text).group(1)


def test_password_reset_via_smtp_exactly_once(tmp_path, smtp):
    controller, handler = smtp
    app = make_test_app(
        tmp_path,
        WIKI_SMTP_HOST="127.0.0.1",
        WIKI_SMTP_PORT=controller.port,
        WIKI_SMTP_SECURITY="none",
    )
    client = app.test_client()
    response = client.form("/-/password-reset", {"email": "alice@example.org"})
    assert response.status_code == 302
    mailer = app.extensions["wiki"].mailer
    mailer.process()
    mailer.process()
    deadline = time.time() + 5
    while not handler.messages and time.time() < deadline:
        time.sleep(0.05)
    assert len(handler.messages) == 1
    assert handler.messages[0].rcpt_tos == ["alice@example.org"]
    body = handler.messages[0].content.decode("utf-8", "replace")
    link = reset_link(body.replace("=\r\n", "").replace("=\n", ""))
    assert client.get(link).status_code == 200
    assert client.form(link, {"new": "ganz neues passwort"}).status_code == 302
    assert client.get(link).status_code == 404  # used once
    login = client.form("/-/login", {"handle": "alice", "password": "ganz neues passwort"})
    assert login.status_code == 302


def test_reset_for_unknown_address_says_the_same(tmp_path):
    app = make_test_app(tmp_path)
    client = app.test_client()
    known = client.form("/-/password-reset", {"email": "alice@example.org"}, follow_redirects=True)
    unknown = client.form(
        "/-/password-reset", {"email": "nobody@example.org"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    app.extensions["wiki"].mailer.process()
    outbox = list((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert len(outbox) == 1
    assert "alice@example.org" in outbox[0].read_text(encoding="utf-8", errors="replace")


def test_email_verification_link_works_once(tmp_path):
    app = make_test_app(tmp_path)
    from conftest import log_in

    client = log_in(app, "user")
    client.form("/-/account", {"action": "email", "email": "neu@example.org", "password": PASSWORD})
    app.extensions["wiki"].mailer.process()
    [eml] = (tmp_path / "instance" / "outbox").glob("*.eml")
    text = eml.read_text(encoding="utf-8", errors="replace").replace("=\n", "")
    link = re.search(r"http://wiki\.test(/-/verify/[A-Za-z0-9_\-]+)", text).group(1)
    assert client.get(link).status_code == 302
    assert client.get(link).status_code == 404
