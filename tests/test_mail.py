"""The mail queue: SMTP delivery, retries, the outbox fallback and at-most-once sending."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from wiki.db import Base, MailMessage, make_engine, make_sessionmaker, utcnow
from wiki.mail import STALE_ERROR, Mailer, backoff, build_message

SENDER = "Verbandswiki <wiki@example.org>"
UNSUB = "<https://wiki.example.org/abo/abbestellen/eyJ1IjoxMjMsInAiOiJzYXR6dW5nIn0.abcdef0123>"


class Collector:
    """aiosmtpd handler that records every envelope; can refuse recipients."""

    def __init__(self):
        self.envelopes = []
        self.rcpt_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [
            # SMTP transfers CRLF lines; a receiving MTA stores them with local line ends
            email.message_from_bytes(
                env.content.replace(b"\r\n", b"\n"), policy=email.policy.default
            )
            for env in self.envelopes
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wiki.db'}")
    Base.metadata.create_all(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def smtp_server(port):
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler
    controller.stop()


def make_mailer(sessions, tmp_path, port=None, **kwargs) -> Mailer:
    options = {
        "outbox": tmp_path / "outbox",
        "lock_path": tmp_path / "mail.lock",
        "sender": SENDER,
        "message_id_domain": "wiki.example.org",
    }
    if port is not None:
        options.update(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_timeout=5)
    options.update(kwargs)
    return Mailer(sessions, **options)


def enqueue(mailer, sessions, n=1, **kwargs):
    ids = []
    with sessions() as session:
        for i in range(n):
            row = mailer.enqueue(
                session,
                kwargs.get("recipient", f"mitglied{i}@example.org"),
                kwargs.get("subject", f"Änderung an „Satzung“ Nr. {i} – bitte prüfen"),
                kwargs.get("body", "Hallo Jürgen,\n\ndie Seite wurde geändert.\n"),
                kwargs.get("headers"),
            )
            ids.append(row)
        session.commit()
        return [row.id for row in ids]


def rows(sessions):
    with sessions() as session:
        return {row.id: row for row in session.scalars(select(MailMessage))}


def make_due(sessions):
    with sessions() as session:
        session.execute(
            update(MailMessage)
            .where(MailMessage.status == "queued")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()


def test_smtp_delivers_exactly_once(sessions, tmp_path, port, smtp_server):
    mailer = make_mailer(sessions, tmp_path, port)
    headers = {"List-Unsubscribe": UNSUB, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    [row_id] = enqueue(mailer, sessions, recipient="erika@example.org", headers=headers)

    assert mailer.process() == 1
    assert mailer.process() == 0

    assert len(smtp_server.envelopes) == 1
    env = smtp_server.envelopes[0]
    assert env.mail_from == "wiki@example.org"
    assert env.rcpt_tos == ["erika@example.org"]
    msg = smtp_server.messages()[0]
    row = rows(sessions)[row_id]
    assert msg["To"] == "erika@example.org"
    assert msg["From"] == SENDER
    assert msg["Subject"] == "Änderung an „Satzung“ Nr. 0 – bitte prüfen"
    assert msg["Message-ID"] == row.message_id
    assert re.fullmatch(r"<[0-9a-f]{32}@wiki\.example\.org>", row.message_id)
    assert msg["List-Unsubscribe"] == UNSUB
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Date"]
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content() == "Hallo Jürgen,\n\ndie Seite wurde geändert.\n"
    # the unsubscribe URL is sent verbatim, not as an encoded word
    assert b"List-Unsubscribe: " + UNSUB.encode() in env.content
    assert b"=?" not in env.content.split(b"List-Unsubscribe: ", 1)[1].split(b"\n", 1)[0]

    assert row.status == "sent"
    assert row.sent_at is not None
    assert row.attempts == 0
    with sessions() as session:
        assert mailer.status_counts(session) == {"queued": 0, "sending": 0, "sent": 1, "failed": 0}


def test_concurrent_process_sends_each_message_once(sessions, tmp_path, port, smtp_server):
    mailer = make_mailer(sessions, tmp_path, port)
    enqueue(mailer, sessions, n=5)
    barrier = threading.Barrier(4)
    results = []

    def run():
        barrier.wait()
        results.append(mailer.process())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(results) == 5
    ids = [msg["Message-ID"] for msg in smtp_server.messages()]
    assert len(ids) == 5
    assert sorted(ids) == sorted(row.message_id for row in rows(sessions).values())
    assert {row.status for row in rows(sessions).values()} == {"sent"}


def test_claim_is_atomic_without_the_lock(sessions, tmp_path, port, smtp_server):
    # Separate lock files (a misconfiguration) leave only the row claim to prevent doubles.
    mailers = [
        make_mailer(sessions, tmp_path, port, lock_path=tmp_path / f"lock-{i}") for i in range(4)
    ]
    enqueue(mailers[0], sessions, n=5)
    barrier = threading.Barrier(4)
    results = []

    def run(mailer):
        barrier.wait()
        results.append(mailer.process())

    threads = [threading.Thread(target=run, args=(mailer,)) for mailer in mailers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(results) == 5
    ids = [msg["Message-ID"] for msg in smtp_server.messages()]
    assert len(ids) == len(set(ids)) == 5


def test_unreachable_server_retries_later(sessions, tmp_path, port):
    mailer = make_mailer(sessions, tmp_path, port, max_attempts=3)
    [row_id] = enqueue(mailer, sessions)

    assert mailer.process() == 0
    row = rows(sessions)[row_id]
    assert row.status == "queued"
    assert row.attempts == 1
    assert row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)

    # not due yet: nothing happens
    assert mailer.process() == 0
    assert rows(sessions)[row_id].attempts == 1

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert mailer.process() == 0  # still not due
        assert handler.envelopes == []
        make_due(sessions)
        assert mailer.process() == 1
        assert mailer.process() == 0
    finally:
        controller.stop()
    assert len(handler.envelopes) == 1
    row = rows(sessions)[row_id]
    assert row.status == "sent"
    assert row.attempts == 1


def test_gives_up_after_max_attempts(sessions, tmp_path, port):
    mailer = make_mailer(sessions, tmp_path, port, max_attempts=3)
    [row_id] = enqueue(mailer, sessions)
    for expected in (1, 2):
        assert mailer.process() == 0
        row = rows(sessions)[row_id]
        assert (row.status, row.attempts) == ("queued", expected)
        make_due(sessions)
    assert mailer.process() == 0
    row = rows(sessions)[row_id]
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error


def test_backoff():
    assert backoff(1) == timedelta(seconds=60)
    assert backoff(2) == timedelta(seconds=120)
    assert backoff(4) == timedelta(seconds=480)
    assert backoff(9) == timedelta(seconds=15360)
    assert backoff(10) == timedelta(hours=6)
    assert backoff(100) == timedelta(hours=6)


def test_permanent_refusal_fails_at_once(sessions, tmp_path, port, smtp_server):
    mailer = make_mailer(sessions, tmp_path, port)
    smtp_server.rcpt_reply = "550 5.1.1 Mailbox unknown"
    [row_id] = enqueue(mailer, sessions)
    assert mailer.process() == 0
    row = rows(sessions)[row_id]
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error


def test_temporary_refusal_is_retried(sessions, tmp_path, port, smtp_server):
    mailer = make_mailer(sessions, tmp_path, port)
    smtp_server.rcpt_reply = "451 4.7.1 Greylisted, try again later"
    [first, second] = enqueue(mailer, sessions, n=2)
    assert mailer.process() == 0
    for row_id in (first, second):  # the connection stays usable for the next message
        row = rows(sessions)[row_id]
        assert (row.status, row.attempts) == ("queued", 1)
        assert "451" in row.last_error
    smtp_server.rcpt_reply = None
    make_due(sessions)
    assert mailer.process() == 2
    assert len(smtp_server.envelopes) == 2


def test_outbox_without_smtp_host(sessions, tmp_path):
    mailer = make_mailer(sessions, tmp_path, smtp_host="")
    ids = enqueue(mailer, sessions, n=2, headers={"List-Unsubscribe": UNSUB})
    outbox = tmp_path / "outbox"
    assert not outbox.exists()

    assert mailer.process() == 2
    assert mailer.process() == 0

    files = sorted(outbox.iterdir())
    assert len(files) == 2
    by_id = {}
    for path in files:
        match = re.fullmatch(r"\d{8}T\d{6}-(\d+)\.eml", path.name)
        assert match, path.name
        by_id[int(match.group(1))] = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
    assert sorted(by_id) == sorted(ids)
    stored = rows(sessions)
    for row_id, msg in by_id.items():
        assert msg["Message-ID"] == stored[row_id].message_id
        assert msg["To"] == stored[row_id].recipient
        assert msg["Subject"] == stored[row_id].subject
        assert msg["List-Unsubscribe"] == UNSUB
        assert msg.get_content() == "Hallo Jürgen,\n\ndie Seite wurde geändert.\n"
        assert stored[row_id].status == "sent"


@pytest.mark.parametrize(
    ("recipient", "subject", "headers"),
    [
        ("erika@example.org\r\nBcc: all@example.org", "Hallo", None),
        ("erika@example.org\nBcc: all@example.org", "Hallo", None),
        ("erika@example.org", "Hallo\r\nBcc: all@example.org", None),
        ("erika@example.org", "Hallo\nBcc: all@example.org", None),
        ("erika@example.org", "Hallo", {"X-Wiki": "a\r\nBcc: all@example.org"}),
        ("erika@example.org", "Hallo", {"X-Wiki": "a\nBcc: all@example.org"}),
        ("erika@example.org", "Hallo", {"X-Wiki\r\nBcc": "all@example.org"}),
        ("erika@example.org", "Hallo", {"Bcc": "all@example.org"}),
        ("erika@example.org, all@example.org", "Hallo", None),
        ("Erika <erika@example.org>", "Hallo", None),
        ("keine-adresse", "Hallo", None),
    ],
)
def test_invalid_input_is_rejected(sessions, tmp_path, recipient, subject, headers):
    mailer = make_mailer(sessions, tmp_path)
    with sessions() as session:
        with pytest.raises(ValueError):
            mailer.enqueue(session, recipient, subject, "Text", headers)
        session.commit()
    assert rows(sessions) == {}


def test_message_exists_only_if_caller_commits(sessions, tmp_path):
    mailer = make_mailer(sessions, tmp_path)
    with sessions() as session:
        mailer.enqueue(session, "erika@example.org", "Hallo", "Text")
        session.rollback()
    assert rows(sessions) == {}
    assert mailer.process() == 0
    assert not (tmp_path / "outbox").exists()


def test_idn_domain_is_encoded(sessions, tmp_path):
    mailer = make_mailer(sessions, tmp_path)
    [row_id] = enqueue(mailer, sessions, recipient="info@müller-verein.de")
    assert rows(sessions)[row_id].recipient == "info@xn--mller-verein-dlb.de"


def test_stale_sending_row_fails_and_is_not_sent(sessions, tmp_path, port, smtp_server):
    mailer = make_mailer(sessions, tmp_path, port)
    stale, recent = enqueue(mailer, sessions, n=2)
    with sessions() as session:
        session.execute(
            update(MailMessage)
            .where(MailMessage.id == stale)
            .values(status="sending", next_attempt_at=utcnow() - timedelta(minutes=20))
        )
        session.execute(
            update(MailMessage)
            .where(MailMessage.id == recent)
            .values(status="sending", next_attempt_at=utcnow() - timedelta(minutes=1))
        )
        session.commit()

    assert mailer.process() == 0
    stored = rows(sessions)
    assert stored[stale].status == "failed"
    assert stored[stale].last_error == STALE_ERROR
    assert stored[recent].status == "sending"
    assert smtp_server.envelopes == []


def test_process_returns_zero_while_lock_is_held(sessions, tmp_path):
    import fcntl

    mailer = make_mailer(sessions, tmp_path)
    enqueue(mailer, sessions)
    with open(tmp_path / "mail.lock", "a+b") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        assert mailer.process() == 0
    assert mailer.process() == 1


def test_worker_sends_after_commit(sessions, tmp_path, port, smtp_server):
    mailer = make_mailer(sessions, tmp_path, port)
    mailer.kick()  # not started: no-op
    mailer.start_worker(interval=60)
    mailer.start_worker(interval=60)  # idempotent
    try:
        time.sleep(0.2)  # let the initial run find an empty queue
        enqueue(mailer, sessions)
        deadline = time.monotonic() + 5
        while not smtp_server.envelopes and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(smtp_server.envelopes) == 1
    finally:
        mailer.stop()
    assert mailer._thread is None
    mailer.stop()  # stopping twice is harmless


def test_build_message_long_ascii_body(sessions, tmp_path):
    mailer = make_mailer(sessions, tmp_path)
    body = "x" * 200 + "\n"
    with sessions() as session:
        row = mailer.enqueue(session, "erika@example.org", "Plain subject", body)
        session.flush()
        msg = build_message(row, SENDER)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed.get_content() == body
    assert all(len(line) <= 998 for line in msg.as_bytes().splitlines())
