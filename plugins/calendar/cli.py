"""``verbandswiki calendar remind``: reminder mails to everyone who said yes, once per occurrence.

Meant to run every hour (cron or a systemd timer). Each run looks at the occurrences of events
with ``anmeldung`` that start within the next ``CALENDAR_REMINDER_HOURS`` hours (24: about a
day before) and have not begun, and queues one mail per person with a ``zusage`` who may still
read the event's page. The occurrence is recorded in ``calendar_reminders`` in the same
transaction as its mails, so it is reminded once, even if two runs overlap; the core's mail
queue sends them (the server's sender, or ``verbandswiki mail send``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from plugins.calendar.ical import TooMany, occurrences
from plugins.calendar.models import EventRow, Reminder, Rsvp
from plugins.calendar.rsvp import occurrence_label
from wiki.api import (
    READ,
    User,
    content,
    external_url,
    get_db,
    instance_option,
    principal_for,
    queue_mail,
    state,
    synced_app,
)

DEFAULT_HOURS = 24


def due(session, now: datetime, hours: int) -> list:
    """Occurrences of events with RSVPs that start in [now, now + hours) and are not reminded."""
    end = now + timedelta(hours=hours)
    naive_now, naive_end = now.replace(tzinfo=None), end.replace(tzinfo=None)
    rows = session.scalars(
        select(EventRow).where(
            EventRow.rsvp.is_(True),
            EventRow.first_utc < naive_end,
            or_(EventRow.last_utc.is_(None), EventRow.last_utc >= naive_now),
        )
    ).all()
    found = []
    try:
        found = occurrences(rows, now, end, cap=10_000)
    except TooMany:
        for row in rows:  # one runaway rule must not keep everybody else from their reminder
            try:
                found.extend(occurrences([row], now, end))
            except TooMany:
                continue
    ids = {o.event.id for o in found}
    done = set(
        session.execute(
            select(Reminder.event_id, Reminder.occurrence).where(Reminder.event_id.in_(ids))
        ).all()
    )
    return [
        o
        for o in found
        if naive_now <= o.sort_key() < naive_end and (o.event.id, o.key) not in done
    ]


def recipients(session, occurrence) -> list[User]:
    """Active accounts with a ``zusage`` for ``occurrence`` that may still read its page."""
    event = occurrence.event
    ref = content().ref(session, event.path)
    if ref is None:
        return []
    users = session.scalars(
        select(User)
        .join(Rsvp, Rsvp.user_id == User.id)
        .where(
            Rsvp.event_id == event.id,
            Rsvp.occurrence == occurrence.key,
            Rsvp.answer == "zusage",
            User.deleted_at.is_(None),
        )
        .order_by(User.id)
    ).all()
    acl = state().acl
    return [user for user in users if user.email and acl.can(principal_for(user), READ, ref)]


def mail_text(user: User, occurrence) -> tuple[str, str]:
    """Subject and body of the reminder to ``user`` (in their language)."""
    event = occurrence.event
    when = occurrence_label(occurrence)
    url = external_url("pages.view", path=event.path) + f"#termin-{event.id}"
    subject = _("Erinnerung: %(title)s – %(when)s", title=event.title, when=when)
    lines = [
        _("Hallo %(name)s,", name=user.display_name),
        "",
        _("du hast für „%(title)s“ zugesagt. Zur Erinnerung:", title=event.title),
        "",
        _("Wann: %(when)s", when=when),
    ]
    if event.location:
        lines.append(_("Wo: %(location)s", location=event.location))
    if event.online:
        lines.append(_("Online: Den Videoraum erreichst du über die Seite des Termins."))
    lines += [
        "",
        _("Zum Termin: %(url)s", url=url),
        "",
        _(
            "Falls du doch nicht kommen kannst, sag bitte auf der Seite des Termins ab, "
            "damit dein Platz frei wird."
        ),
        "",
        _("Diese Erinnerung bekommst du, weil du zugesagt hast."),
    ]
    return subject, "\n".join(lines)


def send_reminders(now: datetime | None = None, hours: int | None = None) -> list[tuple]:
    """Queue the reminders that are due (inside a request context); ``[(event id, occurrence
    key, number of mails)]`` of every occurrence reminded in this run."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if hours is None:
        hours = int(current_app.config.get("CALENDAR_REMINDER_HOURS", DEFAULT_HOURS))
    session = get_db()
    default_locale = current_app.config.get("WIKI_DEFAULT_LOCALE", "de")
    done = []
    for occurrence in due(session, now, hours):
        event = occurrence.event
        try:
            session.add(Reminder(event_id=event.id, occurrence=occurrence.key))
            session.flush()
            sent = 0
            for user in recipients(session, occurrence):
                with force_locale(user.locale or default_locale):
                    subject, body = mail_text(user, occurrence)
                try:
                    queue_mail(user, subject, body)
                except ValueError:  # an address the mailer refuses: skip that one person
                    continue
                sent += 1
            session.commit()
        except IntegrityError:  # another run reminded this occurrence a moment ago
            session.rollback()
            continue
        done.append((event.id, occurrence.key, sent))
    return done


def register(cli) -> None:
    """Add the ``calendar`` group to the ``verbandswiki`` command line."""
    if "calendar" in cli.commands:
        return

    @cli.group()
    def calendar():
        """Kalender: Erinnerungen an Termine."""

    @calendar.command("remind")
    @instance_option
    @click.option(
        "--hours",
        type=click.IntRange(1, 24 * 14),
        default=None,
        help="Termine, die in so vielen Stunden beginnen (Standard: CALENDAR_REMINDER_HOURS).",
    )
    def remind(instance, hours):
        """Erinnerungs-E-Mails an alle mit Zusage (stündlich per cron/systemd aufrufen)."""
        app = synced_app(instance)
        base = app.config.get("WIKI_BASE_URL") or None
        with app.test_request_context("/", base_url=base):
            done = send_reminders(hours=hours)
        for event_id, key, sent in done:
            click.echo(f"{event_id} {key}: {sent}")
        total = sum(sent for _event, _key, sent in done)
        click.echo(
            f"{total} Erinnerung(en) für {len(done)} Termin(e) in die Warteschlange gestellt."
        )
