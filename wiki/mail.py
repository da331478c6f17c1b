"""Outgoing mail: a queue in the database, sent by one sender at a time.

``Mailer.enqueue`` adds a row to the caller's session, so a message exists only if the business
change it belongs to commits. ``Mailer.process`` sends due rows, either over SMTP or, without an
SMTP host, as ``.eml`` files into an outbox directory.

Delivery is at most once: a row is claimed (``queued`` → ``sending``) and committed before it is
handed to the server. A row that stays in ``sending`` (the process died mid-send) is never sent
again but marked ``failed``, because nobody can tell whether the server already took it. While a
row is ``sending``, ``next_attempt_at`` holds the time it was claimed.

Only one sender runs at a time across processes and threads: ``process`` takes a non-blocking
``flock`` on a lock file and returns at once if someone else holds it.
"""

from __future__ import annotations

import contextlib
import email.policy
import email.utils
import fcntl
import json
import logging
import os
import re
import secrets
import smtplib
import ssl
import tempfile
import threading
from datetime import UTC, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from wiki.db import MailMessage, utcnow

log = logging.getLogger(__name__)

STATUSES = ("queued", "sending", "sent", "failed")

#: A row in ``sending`` longer than this is considered abandoned by a crashed sender.
STALE_AFTER = timedelta(minutes=15)
STALE_ERROR = "Versand unterbrochen – Zustellung unbekannt"

BACKOFF_BASE = timedelta(seconds=60)
BACKOFF_MAX = timedelta(hours=6)

SECURITY_MODES = ("starttls", "ssl", "none")

#: Headers ``build_message`` sets itself; callers may not pass them as extra headers.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)

# Long header values are not folded into encoded words by the generator when set with
# ``set_raw`` (e.g. a List-Unsubscribe URL must stay a plain ``<https://…>``); headers set
# normally (Subject, From) are still folded and RFC 2047-encoded at 78 columns.
_POLICY = email.policy.default.clone(refold_source="none")

_MAX_LINE = 998
_FORBIDDEN_CHARS = re.compile(r"[\r\n\x00]")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _check_line(value: str, what: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    if _FORBIDDEN_CHARS.search(value):
        raise ValueError(f"{what} must not contain line breaks or NUL characters")


def normalize_address(address: str) -> str:
    """``address`` as a plain ASCII addr-spec (``local@domain``), or ``ValueError``.

    Display names, comments, lists and line breaks are rejected; an internationalised domain is
    converted to its IDNA (``xn--``) form.
    """
    _check_line(address, "E-mail address")
    address = address.strip()
    local, sep, domain = address.rpartition("@")
    if not sep or not local or not domain:
        raise ValueError(f"Invalid e-mail address: {address!r}")
    if not _LOCAL_PART.match(local) or len(local) > 64:
        raise ValueError(f"Invalid e-mail address: {address!r}")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"Invalid e-mail address: {address!r}") from exc
    labels = domain.split(".")
    if not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ValueError(f"Invalid e-mail address: {address!r}")
    result = f"{local}@{domain}"
    if len(result) > 254:
        raise ValueError(f"E-mail address too long: {address!r}")
    return result


def _check_headers(headers: dict[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValueError(f"Invalid header name: {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"Header {name!r} is set by the mailer")
        if name.lower() in {n.lower() for n in checked}:
            raise ValueError(f"Duplicate header {name!r}")
        _check_line(value, f"Header {name}")
        if value.isascii() and len(name) + 2 + len(value) > _MAX_LINE:
            raise ValueError(f"Header {name!r} is too long")
        checked[name] = value
    return checked


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones (1 → 60 s, doubling, ≤ 6 h)."""
    if attempts < 1:
        return timedelta(0)
    if attempts > 20:  # avoids huge powers; far beyond the cap anyway
        return BACKOFF_MAX
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX)


def build_message(row: MailMessage, sender: str) -> EmailMessage:
    """The RFC 5322 message for a queue row: headers, extra headers and a UTF-8 text body;
    with ``row.html`` a multipart/alternative of the text and the HTML."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = sender
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    created = row.created_at or utcnow()
    msg["Date"] = email.utils.format_datetime(created.replace(tzinfo=UTC))
    msg["Message-ID"] = row.message_id
    extra = json.loads(row.headers or "{}")
    for name, value in extra.items():
        if value.isascii():
            msg.set_raw(name, value)
        else:
            msg[name] = value
    body = row.body or ""
    lines = body.splitlines() or [""]
    if body.isascii() and max(len(line) for line in lines) <= 78:
        msg.set_content(body, charset="utf-8", cte="7bit")
    else:
        msg.set_content(body, charset="utf-8", cte="quoted-printable")
    if row.html:
        msg.add_alternative(row.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def _is_permanent(exc: BaseException) -> bool:
    """Whether the server's answer to a message rules out any later success.

    Only answers to the message itself count: errors while connecting, in TLS or on login
    (including 535) are configuration problems and are retried.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:2000]


class _ConnectError(Exception):
    """Opening the SMTP session failed (the original error is the ``__cause__``)."""


class _OutboxTransport:
    """Writes each message as ``<YYYYmmddTHHMMSS>-<id>.eml`` into a directory."""

    def __init__(self, outbox: Path):
        self.outbox = outbox

    def open(self) -> None:
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _ConnectError(str(exc)) from exc

    def send(self, msg: EmailMessage, envelope_from: str, recipient: str, row_id: int) -> None:
        target = self.outbox / f"{utcnow():%Y%m%dT%H%M%S}-{row_id}.eml"
        data = msg.as_bytes()
        fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def reset(self) -> None:
        pass

    close = reset


class _SMTPTransport:
    """One SMTP session, opened lazily and reused for a batch."""

    def __init__(self, mailer: Mailer):
        self.mailer = mailer
        self.conn: smtplib.SMTP | None = None

    def open(self) -> None:
        if self.conn is not None:
            return
        try:
            self.conn = self.mailer._connect()
        except Exception as exc:
            raise _ConnectError(_describe(exc)) from exc

    def send(self, msg: EmailMessage, envelope_from: str, recipient: str, row_id: int) -> None:
        assert self.conn is not None
        self.conn.send_message(msg, from_addr=envelope_from, to_addrs=[recipient])

    def reset(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except Exception:
            with contextlib.suppress(Exception):
                conn.close()


class Mailer:
    """The mail queue of one application instance.

    ``sessions`` is a SQLAlchemy ``sessionmaker``. Without ``smtp_host`` every message is written
    into ``outbox`` instead of being sent.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        outbox: Path,
        lock_path: Path,
        sender: str,
        smtp_host: str | None = None,
        smtp_port: int = 587,
        smtp_user: str | None = None,
        smtp_password: str | None = None,
        smtp_security: str = "starttls",
        smtp_timeout: float = 30,
        max_attempts: int = 8,
        message_id_domain: str = "localhost",
    ):
        if smtp_security not in SECURITY_MODES:
            raise ValueError(f"smtp_security must be one of {', '.join(SECURITY_MODES)}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        _check_line(sender, "Sender")
        envelope_from = email.utils.parseaddr(sender)[1]
        if not envelope_from:
            raise ValueError(f"Invalid sender: {sender!r}")
        self.envelope_from = normalize_address(envelope_from)
        _check_line(message_id_domain, "Message-ID domain")
        if not message_id_domain or not all(
            _DOMAIN_LABEL.match(label) for label in message_id_domain.split(".")
        ):
            raise ValueError(f"Invalid Message-ID domain: {message_id_domain!r}")

        self.sessions = sessions
        self.outbox = Path(outbox)
        self.lock_path = Path(lock_path)
        self.sender = sender
        self.smtp_host = smtp_host or None
        self.smtp_port = smtp_port
        self.smtp_user = smtp_user or None
        self.smtp_password = smtp_password or ""
        self.smtp_security = smtp_security
        self.smtp_timeout = smtp_timeout
        self.max_attempts = max_attempts
        self.message_id_domain = message_id_domain

        self._worker_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake: threading.Event | None = None
        self._stop: threading.Event | None = None
        self._session_key = ("wiki.mail.kick", id(self))

    # -- queueing ---------------------------------------------------------------------------

    def enqueue(
        self,
        session: Session,
        recipient: str,
        subject: str,
        body: str,
        headers: dict[str, str] | None = None,
        html: str | None = None,
    ) -> MailMessage:
        """Add a message to ``session`` (the caller commits); ``ValueError`` on invalid input.

        ``html`` is an optional HTML alternative of the text ``body`` (a complete document).

        Once the session commits, a running worker is woken up.
        """
        recipient = normalize_address(recipient)
        _check_line(subject, "Subject")
        if len(subject) > _MAX_LINE:
            raise ValueError("Subject is too long")
        if not isinstance(body, str):
            raise ValueError("Body must be a string")
        if html is not None and not isinstance(html, str):
            raise ValueError("HTML must be a string")
        extra = _check_headers(dict(headers or {}))
        now = utcnow()
        row = MailMessage(
            message_id=f"<{secrets.token_hex(16)}@{self.message_id_domain}>",
            recipient=recipient,
            subject=subject,
            body=body,
            html=html or None,
            headers=json.dumps(extra, ensure_ascii=False),
            status="queued",
            attempts=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
        )
        session.add(row)
        self._kick_after_commit(session)
        return row

    def _kick_after_commit(self, session: Session) -> None:
        key = self._session_key
        if session.info.get(key) is None:

            def after_commit(_session: Session) -> None:
                if _session.info.get(key):
                    _session.info[key] = False
                    self.kick()

            event.listen(session, "after_commit", after_commit)
        session.info[key] = True

    def status_counts(self, session: Session) -> dict[str, int]:
        """Number of messages per status (every status present, possibly 0)."""
        counts = dict.fromkeys(STATUSES, 0)
        rows = session.execute(
            select(MailMessage.status, func.count()).group_by(MailMessage.status)
        )
        for status, count in rows:
            counts[status] = count
        return counts

    # -- sending ----------------------------------------------------------------------------

    def process(self, limit: int = 100) -> int:
        """Send up to ``limit`` due messages; the number sent (0 if another sender is busy)."""
        return self._process(limit)[0]

    def _process(self, limit: int, stop: threading.Event | None = None) -> tuple[int, int]:
        """``(sent, handled)``; ``handled`` counts every row claimed in this run."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(self.lock_path, "a+b")
        try:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0, 0
            try:
                return self._process_locked(limit, stop)
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
        finally:
            lock.close()

    def _process_locked(self, limit: int, stop: threading.Event | None) -> tuple[int, int]:
        sent = handled = 0
        transport = _SMTPTransport(self) if self.smtp_host else _OutboxTransport(self.outbox)
        with self.sessions() as session:
            self._fail_stale(session)
            now = utcnow()
            ids = session.scalars(
                select(MailMessage.id)
                .where(MailMessage.status == "queued", MailMessage.next_attempt_at <= now)
                .order_by(MailMessage.next_attempt_at, MailMessage.id)
                .limit(limit)
            ).all()
            session.commit()
            try:
                for row_id in ids:
                    if stop is not None and stop.is_set():
                        break
                    if not self._claim(session, row_id):
                        continue
                    handled += 1
                    outcome = self._deliver(session, transport, row_id)
                    if outcome == "sent":
                        sent += 1
                    elif outcome == "unreachable":
                        break
            finally:
                transport.close()
        return sent, handled

    def _fail_stale(self, session: Session) -> None:
        cutoff = utcnow() - STALE_AFTER
        result = session.execute(
            update(MailMessage)
            .where(MailMessage.status == "sending", MailMessage.next_attempt_at < cutoff)
            .values(status="failed", last_error=STALE_ERROR)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            log.warning("%d message(s) left in 'sending' marked as failed", result.rowcount)
        session.commit()

    def _claim(self, session: Session, row_id: int) -> bool:
        result = session.execute(
            update(MailMessage)
            .where(MailMessage.id == row_id, MailMessage.status == "queued")
            .values(status="sending", next_attempt_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return result.rowcount == 1

    def _deliver(self, session: Session, transport, row_id: int) -> str:
        """Send one claimed row and record the outcome.

        Returns ``sent``, ``failed`` (this message) or ``unreachable`` (no connection; the run
        stops). The database transaction is closed before the network is touched.
        """
        row = session.get(MailMessage, row_id, populate_existing=True)
        if row is None:  # deleted in between
            session.commit()
            return "failed"
        attempts, recipient = row.attempts or 0, row.recipient
        try:
            msg = build_message(row, self.sender)
        except Exception as exc:
            log.exception("Cannot build message %s", row_id)
            session.commit()
            self._record_failure(session, row_id, attempts, exc, permanent=True)
            return "failed"
        session.commit()
        try:
            transport.open()
        except _ConnectError as exc:
            cause = exc.__cause__ or exc
            log.warning("Mail server unreachable: %s", _describe(cause))
            self._record_failure(session, row_id, attempts, cause, permanent=False)
            return "unreachable"
        try:
            transport.send(msg, self.envelope_from, recipient, row_id)
        except Exception as exc:
            permanent = _is_permanent(exc)
            log.warning(
                "Sending message %s failed (%s): %s",
                row_id,
                "permanent" if permanent else "temporary",
                _describe(exc),
            )
            if isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(
                exc, smtplib.SMTPException
            ):
                transport.reset()
            self._record_failure(session, row_id, attempts, exc, permanent=permanent)
            return "failed"
        session.execute(
            update(MailMessage)
            .where(MailMessage.id == row_id, MailMessage.status == "sending")
            .values(status="sent", sent_at=utcnow(), last_error="")
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return "sent"

    def _record_failure(
        self,
        session: Session,
        row_id: int,
        previous_attempts: int,
        exc: BaseException,
        *,
        permanent: bool,
    ) -> None:
        attempts = previous_attempts + 1
        failed = permanent or attempts >= self.max_attempts
        values: dict[str, object] = {"attempts": attempts, "last_error": _describe(exc)}
        if failed:
            values["status"] = "failed"
        else:
            values["status"] = "queued"
            values["next_attempt_at"] = utcnow() + backoff(attempts)
        session.execute(
            update(MailMessage)
            .where(MailMessage.id == row_id, MailMessage.status == "sending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()

    def _connect(self) -> smtplib.SMTP:
        assert self.smtp_host
        helo = self.message_id_domain if "." in self.message_id_domain else None
        conn: smtplib.SMTP
        if self.smtp_security == "ssl":
            conn = smtplib.SMTP_SSL(
                self.smtp_host,
                self.smtp_port,
                local_hostname=helo,
                timeout=self.smtp_timeout,
                context=ssl.create_default_context(),
            )
        else:
            conn = smtplib.SMTP(
                self.smtp_host, self.smtp_port, local_hostname=helo, timeout=self.smtp_timeout
            )
        try:
            conn.ehlo()
            if self.smtp_security == "starttls":
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.smtp_user:
                conn.login(self.smtp_user, self.smtp_password)
        except BaseException:
            with contextlib.suppress(Exception):
                conn.close()
            raise
        return conn

    # -- background worker ------------------------------------------------------------------

    def start_worker(self, interval: float = 30.0) -> None:
        """Run ``process`` in a daemon thread on ``kick`` and every ``interval`` seconds."""
        with self._worker_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            stop = threading.Event()
            wake = threading.Event()
            wake.set()  # send what is already due right away
            thread = threading.Thread(
                target=self._run, args=(interval, stop, wake), name="wiki-mail", daemon=True
            )
            self._stop, self._wake, self._thread = stop, wake, thread
            thread.start()

    def kick(self) -> None:
        """Wake the worker (no-op if it is not running)."""
        wake, thread = self._wake, self._thread
        if wake is not None and thread is not None and thread.is_alive():
            wake.set()

    def stop(self) -> None:
        """Stop the worker and wait for it (it finishes the message it is sending)."""
        with self._worker_lock:
            thread, stop, wake = self._thread, self._stop, self._wake
            self._thread = self._stop = self._wake = None
        if thread is None or stop is None or wake is None:
            return
        stop.set()
        wake.set()
        if thread is not threading.current_thread():
            thread.join()

    def _run(self, interval: float, stop: threading.Event, wake: threading.Event) -> None:
        limit = 100
        while not stop.is_set():
            wake.wait(interval)
            wake.clear()
            while not stop.is_set():
                try:
                    _sent, handled = self._process(limit, stop)
                except Exception:
                    log.exception("Mail queue run failed")
                    break
                if handled < limit:
                    break
