"""RSVPs per occurrence, the organisers' attendee list and CSV, joining the video room.

Every route looks the event up in the projection and answers 404 — exactly like a missing
event — when its page does not exist or the reader may not read it.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from plugins.calendar import rsvp, video
from plugins.calendar.models import EventRow
from plugins.calendar.views import space_page
from wiki.api import (
    MANAGE,
    User,
    csv_text,
    current_principal,
    external_url,
    get_db,
    readable_ref,
    state,
)


def event_or_404(event_id: str) -> tuple[EventRow, object]:
    """The event and its page's permission view; 404 if either is missing or hidden."""
    event = get_db().get(EventRow, event_id) if len(event_id) <= 64 else None
    if event is None:
        abort(404)
    return event, readable_ref(event.path)


def event_anchor(event: EventRow) -> str:
    """The event on its page."""
    return url_for("pages.view", path=event.path) + f"#termin-{event.id}"


def organiser_or_403(event: EventRow, ref) -> None:
    if not rsvp.is_organiser(current_principal(), ref):
        abort(403, _("Die Liste der Anmeldungen sehen nur die Organisator*innen des Termins."))


def private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


def make_blueprint() -> Blueprint:
    """Routes under ``/-/calendar``."""
    bp = Blueprint("calendar_rsvp", __name__, url_prefix="/-/calendar")

    @bp.post("/event/<event_id>/rsvp", endpoint="rsvp")
    @login_required
    def answer(event_id):
        """Record the reader's answer for one occurrence, then back to the event."""
        event, _ref = event_or_404(event_id)
        value = request.form.get("answer", "")
        try:
            rsvp.answer(
                get_db(), event, request.form.get("occurrence", ""), current_principal(), value
            )
        except rsvp.RsvpError as exc:
            abort(exc.status, str(exc))
        messages = {
            "zusage": _("Danke für deine Zusage!"),
            "vielleicht": _("Deine Antwort „Vielleicht“ ist gespeichert."),
            "absage": _("Deine Absage ist gespeichert."),
        }
        flash(messages[value])
        return redirect(event_anchor(event))

    @bp.get("/event/<event_id>/attendees")
    @login_required
    def attendees(event_id):
        """Who answered what, per occurrence (organisers only)."""
        event, ref = event_or_404(event_id)
        organiser_or_403(event, ref)
        groups: dict[str, dict] = {}
        for entry in rsvp.attendees(get_db(), event.id):
            group = groups.setdefault(
                entry["occurrence"],
                {
                    "key": entry["occurrence"],
                    "label": rsvp.key_label(event, entry["occurrence"]),
                    "entries": [],
                    "counts": dict.fromkeys(rsvp.ANSWERS, 0),
                },
            )
            group["entries"].append(entry)
            if entry["answer"] in group["counts"]:
                group["counts"][entry["answer"]] += 1
        for group in groups.values():
            group["left"] = rsvp.places_left(event, group["counts"]["zusage"])
        html = render_template(
            "calendar/attendees.html",
            event=event,
            groups=list(groups.values()),
            labels=rsvp.LABELS,
            answers=rsvp.ANSWERS,
            back=event_anchor(event),
        )
        return private(Response(html))

    @bp.get("/event/<event_id>/attendees.csv")
    @login_required
    def attendees_csv(event_id):
        """The attendee list as CSV (UTF-8 with BOM, ``;``; organisers only)."""
        event, ref = event_or_404(event_id)
        organiser_or_403(event, ref)
        rows = [
            (
                rsvp.key_label(event, entry["occurrence"]),
                entry["occurrence"],
                entry["name"],
                str(rsvp.LABELS.get(entry["answer"], entry["answer"])),
            )
            for entry in rsvp.attendees(get_db(), event.id)
        ]
        header = (_("Termin"), _("Beginn (ISO)"), _("Name"), _("Antwort"))
        response = Response(csv_text(header, rows), mimetype="text/csv")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="anmeldungen-{event.id}.csv"'
        )
        return private(response)

    @bp.get("/event/<event_id>/join")
    def join(event_id):
        """Into the event's video room (readers of online events; 404 without video)."""
        event, ref = event_or_404(event_id)
        if not event.online or video.configured(current_app.config) is None:
            abort(404)
        principal = current_principal()
        moderator = rsvp.is_organiser(principal, ref)
        return enter_room(event.id, event.title, event.path, moderator)

    @bp.get("/room/<path:space>/join")
    def space_room(space):
        """Into the standing video room of a chapter: its members join, its board moderates
        (404 for everybody else, for what is no chapter, and without a video service)."""
        principal = current_principal()
        if not rsvp.may_join_space_room(principal, space):
            abort(404)
        row = space_page(space)
        moderator = state().acl.can(principal, MANAGE, rsvp.space_room_ref(space))
        return enter_room(video.space_room_key(space), row.title, space, moderator)

    return bp


def enter_room(key: str, title: str, back_path: str, moderator: bool) -> Response:
    """The redirect into the video room ``key`` for the current reader (503 if the video
    service does not answer); ``back_path`` is the page to return to after leaving."""
    config = current_app.config
    principal = current_principal()
    name = _("Gast")
    if principal.logged_in:
        user = get_db().get(User, principal.user_id)
        name = user.display_name if user is not None else name
    participant = video.Participant(name=name, user_id=principal.public_id, moderator=moderator)
    try:
        url = video.join_url(
            config, key, title, participant, logout_url=external_url("pages.view", path=back_path)
        )
    except video.VideoUnavailable as exc:
        current_app.logger.warning("video room of %s unavailable: %s", key, exc)
        abort(
            503,
            _(
                "Der Videokonferenzraum kann gerade nicht geöffnet werden. Bitte versuche "
                "es in ein paar Minuten noch einmal oder wende dich an die Organisator*innen."
            ),
        )
    return private(redirect(url, code=303))
