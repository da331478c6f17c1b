"""iCalendar feeds (public and personal), the .ics of one event, the subscription help, and the
upcoming events on a space's overview page and on ``/-/me``.

A feed without ``?token=`` shows what everyone may read, whoever fetches it (a calendar program
has no session, and a public address must answer alike for all). With ``?token=`` (the core's
personal feed token) it shows what the token's owner may read; an unknown or revoked token is
404. Recurring events are sent as RRULE/EXDATE, never expanded.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from plugins.calendar import ical, ics, queries, rsvp
from plugins.calendar.models import EventRow, EventState
from wiki.api import (
    ANONYMOUS,
    READ,
    PageRow,
    PageSection,
    Principal,
    RenderCache,
    content,
    current_principal,
    external_url,
    feed_principal,
    get_db,
    issue_feed_token,
    state,
)

MIMETYPE = "text/calendar"
#: Events whose last occurrence ended longer ago than this are left out of feeds.
FEED_HISTORY = timedelta(days=365)
#: Upcoming events: how far ahead, and how many at most.
UPCOMING_DAYS = 90
UPCOMING_WINDOWS = (7, 31, UPCOMING_DAYS)
#: Upcoming events are computed again after this many seconds (or after a sync).
UPCOMING_TTL = 300
UPCOMING_CACHE_SIZE = 1000
UPCOMING_LIMIT = 5
#: Public feeds may be kept by caches this long (seconds); personal ones never.
PUBLIC_MAX_AGE = 300
#: Serialised VEVENTs kept (the events of a large wiki; each is a few hundred bytes).
PART_CACHE_SIZE = 20_000
SAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def make_blueprint() -> Blueprint:
    """``/-/calendar.ics``, ``/-/calendar/<space>.ics``, ``/-/calendar/event/<id>.ics`` and
    ``/-/calendar/subscribe`` (its copy-button script is served with the plugin's other static
    files by the ``calendar`` blueprint)."""
    bp = Blueprint("calendar_feeds", __name__)

    @bp.get("/-/calendar.ics")
    def site_feed():
        """Every event the reader may see (public ones without ``?token=``)."""
        principal, personal = feed_reader()
        rows = feed_rows(principal, None, True)
        name = site_name()
        if personal:
            name = _("Meine Termine – %(site)s", site=name)
        else:
            name = _("Termine – %(site)s", site=name)
        source = None if personal else external_url("calendar_feeds.site_feed")
        return ics_response(rows, name, "kalender.ics", personal, source=source)

    @bp.get("/-/calendar/<path:space>.ics")
    def space_feed(space):
        """The events of one space (``?untergliederungen=1``: and of the spaces inside it)."""
        principal, personal = feed_reader()
        row = space_row(space, principal)
        children = request.args.get("untergliederungen") == "1"
        rows = feed_rows(principal, space, children)
        title = row.title or space
        if personal:
            name = _("Meine Termine – %(space)s", space=title)
        else:
            name = _("Termine – %(space)s", space=title)
        source = None
        if not personal:
            values = {"untergliederungen": "1"} if children else {}
            source = external_url("calendar_feeds.space_feed", space=space, **values)
        filename = space.replace("/", "-") + ".ics"
        return ics_response(rows, name, filename, personal, source=source)

    @bp.get("/-/calendar/event/<event_id>.ics")
    def event_ics(event_id):
        """One event for "In meinen Kalender" (readers of its page only, else 404)."""
        principal = feed_principal()  # the session's reader, or ``?token=``
        row = queries.readable_event(get_db(), principal, event_id)
        if row is None:
            abort(404)
        response = ics_response([row], row.title, safe_name(row.id) + ".ics", True)
        response.headers["Content-Disposition"] = f'attachment; filename="{safe_name(row.id)}.ics"'
        return response

    @bp.route("/-/calendar/subscribe", methods=["GET", "POST"])
    def subscribe():
        """The feed addresses (https and webcal) with instructions; POST (logged in) makes a
        personal address, shown once."""
        principal = current_principal()
        space = request.args.get("gliederung") or None
        space_title = None
        if space is not None:
            space_title = space_row(space, principal).title or space
        token = None
        if request.method == "POST":
            if not principal.logged_in:
                return redirect(url_for("account.login", next=request.full_path))
            token = issue_feed_token(principal.user_id, _("Kalender"))
            get_db().commit()
        feeds = feed_addresses(space, token)
        body = render_template(
            "calendar/subscribe.html",
            feeds=feeds,
            space=space,
            space_title=space_title,
            token=token,
            logged_in=principal.logged_in,
        )
        response = make_response(body)
        if token:
            response.headers["Cache-Control"] = "private, no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return bp


# -- who reads, what they may read ---------------------------------------------------------------


def feed_reader() -> tuple[Principal, bool]:
    """(principal, personal?): the token's owner for ``?token=`` (404 if unknown, revoked or
    empty), else the anonymous public, whoever is logged in."""
    if "token" in request.args:
        if not request.args.get("token"):
            abort(404)
        return feed_principal(), True
    return ANONYMOUS, False


def may_read(principal: Principal, path: str) -> bool:
    """The one decision for the page at ``path`` (missing pages are unreadable)."""
    ref = content().ref(get_db(), path)
    return ref is not None and state().acl.can(principal, READ, ref)


def space_row(space: str, principal: Principal) -> PageRow:
    """The definition page of a space the principal may see, else 404 (also for plain pages)."""
    row = get_db().get(PageRow, space)
    if row is None or row.type != "space" or not may_read(principal, space):
        abort(404)
    return row


def feed_rows(principal: Principal, space: str | None, children: bool) -> list[EventRow]:
    """The principal's events (of ``space``), without those that ended long ago."""
    since = datetime.now(UTC).replace(tzinfo=None) - FEED_HISTORY
    return queries.visible_events(get_db(), principal, space=space, children=children, start=since)


# -- the iCalendar answer ------------------------------------------------------------------------


def uid_host() -> str:
    """The host part of every UID (``<id>@<host>``): the configured site address, so that UIDs
    stay the same however the wiki is reached."""
    base = current_app.config.get("WIKI_BASE_URL") or request.host_url
    return urlsplit(base).hostname or "localhost"


def site_name() -> str:
    return current_app.config.get("WIKI_SITE_NAME") or "Verbandswiki"


def ics_response(rows, name: str, filename: str, personal: bool, source: str | None = None):
    """The VCALENDAR of ``rows`` as ``text/calendar; charset=utf-8``, revalidated by ETag."""
    rows = list(rows)
    states = {}
    if rows:
        # Plain rows, not ORM objects: a feed of 500 events spends most of its time otherwise
        # loading them (vevent reads sequence, created_at and modified_at only).
        states = {
            s.event_id: s
            for s in get_db().execute(
                select(
                    EventState.event_id,
                    EventState.sequence,
                    EventState.created_at,
                    EventState.modified_at,
                ).where(EventState.event_id.in_([r.id for r in rows]))
            )
        }
    body = ics.calendar_bytes(
        [event_part(row, states.get(row.id)) for row in rows], name, source=source
    )
    response = make_response(body)
    response.mimetype = MIMETYPE
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if personal:
        response.headers["Cache-Control"] = "private, no-cache"
        response.headers["Referrer-Policy"] = "no-referrer"
    else:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)


def event_part(row: EventRow, event_state: EventState | None) -> ics.Part:
    """The serialised VEVENT of ``row``, kept per version of the event: its definition
    (digest), page, SEQUENCE and times, and the address the wiki is reached at (UID, URL)."""
    base = current_app.config.get("WIKI_BASE_URL") or request.host_url
    key = (row.id, row.digest, row.path, base)
    if event_state is not None:
        key += (event_state.sequence, event_state.created_at, event_state.modified_at)
    cache = state().extra.get("calendar_parts")
    if cache is None:
        cache = state().extra.setdefault("calendar_parts", RenderCache(PART_CACHE_SIZE))
    found = cache.get(key)
    if found is None:
        found = ics.part(ical.vevent(row, event_state, uid_host()))
        cache.put(key, found)
    return found


def safe_name(text: str) -> str:
    return SAFE_NAME_RE.sub("-", text).strip("-.") or "termin"


# -- subscription addresses ----------------------------------------------------------------------


def webcal(url: str) -> str:
    """The ``webcal://`` form of an http(s) address (calendar programs subscribe to it)."""
    return "webcal://" + url.split("://", 1)[1] if "://" in url else url


def feed_addresses(space: str | None, token: str | None) -> list[dict]:
    """The addresses to offer: (label, https, webcal, personal) for the site, the space and the
    space with its sub-spaces; personal ones only while a new token is shown."""
    targets = [(_("Alle Termine"), "calendar_feeds.site_feed", {})]
    if space:
        targets += [
            (_("Termine dieser Gliederung"), "calendar_feeds.space_feed", {"space": space}),
            (
                _("Termine dieser Gliederung und ihrer Untergliederungen"),
                "calendar_feeds.space_feed",
                {"space": space, "untergliederungen": "1"},
            ),
        ]
    out = []
    for label, endpoint, values in targets:
        url = external_url(endpoint, **values)
        out.append({"label": label, "https": url, "webcal": webcal(url), "personal": False})
        if token:
            url = external_url(endpoint, **values, token=token)
            out.append({"label": label, "https": url, "webcal": webcal(url), "personal": True})
    return out


# -- upcoming events (space overview, dashboard) -------------------------------------------------


def upcoming(principal: Principal, space: str | None, limit: int = UPCOMING_LIMIT) -> list:
    """The next ``limit`` occurrences (not yet ended) the principal may see, within
    :data:`UPCOMING_DAYS`. The window grows from a week until it holds ``limit`` occurrences,
    so that a busy chapter's weekly events are not expanded for three months."""
    now = datetime.now(UTC)
    naive_now = now.replace(tzinfo=None)
    horizon = naive_now + timedelta(days=UPCOMING_DAYS)
    rows = queries.visible_events(get_db(), principal, space=space, start=naive_now, end=horizon)
    found = []
    for days in UPCOMING_WINDOWS:
        until = now + timedelta(days=days)
        candidates = [row for row in rows if row.first_utc < until.replace(tzinfo=None)]
        try:
            found = ical.occurrences(candidates, now, until)
        except ical.TooMany:
            # A dense rule: each event's own next occurrences instead.
            found = sorted(
                (o for row in candidates for o in ical.next_occurrences(row, now, limit)),
                key=lambda o: o.sort_key(),
            )
            break
        if len(found) >= limit:
            break
    return found[:limit]


def upcoming_items(occurrences) -> list[dict]:
    """What the template shows of each occurrence, in the configured time zone."""
    from plugins.calendar.views import anchor_url, display_zone, when

    zone = display_zone()
    return [
        {
            "title": o.event.title,
            "url": anchor_url(o.event),
            "when": when(o, zone),
            "iso": o.start_in(zone).isoformat(),
            "location": o.event.location,
            "end_utc": ical.utc_of(o.end, o.event.tz),
        }
        for o in occurrences
    ]


def next_items(principal: Principal, space: str | None) -> list[dict]:
    """The template's items of the next events, kept for :data:`UPCOMING_TTL` seconds per
    synced commit, allow-set of the reader, space and language (readers with the same
    memberships share them); occurrences that ended meanwhile are dropped on every call."""
    allowed = state().acl.read_filter(principal).key()
    key = (state().syncer.synced_head, allowed, space, str(get_locale()), request.script_root)
    cache = state().extra.get("calendar_upcoming")
    if cache is None:
        cache = state().extra.setdefault("calendar_upcoming", RenderCache(UPCOMING_CACHE_SIZE))
    found = cache.get(key)
    if found is None or found[0] < time.monotonic():
        items = upcoming_items(upcoming(principal, space, UPCOMING_LIMIT * 3))
        found = (time.monotonic() + UPCOMING_TTL, items)
        cache.put(key, found)
    now = datetime.now(UTC).replace(tzinfo=None)
    return [item for item in found[1] if item["end_utc"] > now][:UPCOMING_LIMIT]


def calendar_url(space: str | None) -> str:
    """The calendar view of ``space`` (of everything the reader may see if None)."""
    return url_for("calendar.space", space=space) if space else url_for("calendar.index")


def upcoming_section(page, principal) -> PageSection | None:
    """On a space's overview page (``type: space``): its next events (and its sub-spaces')."""
    if getattr(page, "type", None) != "space":
        return None
    html = render_template(
        "calendar/_upcoming.html",
        items=next_items(principal, page.path),
        space=page.path,
        heading_id="termine-" + safe_name(page.path.replace("/", "-")),
        calendar_url=calendar_url(page.path),
        subscribe_url=url_for("calendar_feeds.subscribe", gliederung=page.path),
        room_url=rsvp.space_room_url(principal, page.path),
    )
    return PageSection(Markup(html), place="after")


def dashboard_section(principal) -> Markup | None:
    """On ``/-/me``: the next events the user may see, across the wiki."""
    if not principal.logged_in:
        return None
    html = render_template(
        "calendar/_upcoming.html",
        items=next_items(principal, None),
        space=None,
        heading_id="meine-termine",
        calendar_url=calendar_url(None),
        subscribe_url=url_for("calendar_feeds.subscribe"),
        room_url="",
    )
    return Markup(html)
