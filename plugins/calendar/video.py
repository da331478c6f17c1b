"""Video rooms of online events: Jitsi Meet (optional JWT) or BigBlueButton (signed API calls).

The room of an event is stable and unguessable: derived with HMAC from the app's ``SECRET_KEY``
and the event's id, so nobody can find it from the id alone, and nothing needs to be stored. Its
address is handed out only by ``/-/calendar/event/<id>/join`` to readers of the event (never put
into pages for others, feeds or mails). Everything here is plain functions of the configuration
(a mapping), so the URL building is unit-tested without a server; only :func:`bbb_create` talks
to the network, and only when the join route is used with BigBlueButton configured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import jwt

#: Kinds of ``CALENDAR_VIDEO``.
JITSI, BBB = "jitsi", "bbb"
#: Lifetime of a Jitsi token: enough to join (and to rejoin after a dropped connection).
JITSI_TOKEN_SECONDS = 2 * 3600
#: Seconds a BigBlueButton ``create`` call may take before the join fails with a message.
BBB_TIMEOUT = 5
#: Checksum algorithms BigBlueButton accepts (``supportedChecksumAlgorithms``, sha1 by default).
BBB_ALGORITHMS = ("sha1", "sha256", "sha384", "sha512")
#: Largest ``create`` answer read (it is a short XML document).
BBB_MAX_RESPONSE = 64 * 1024


class VideoUnavailable(Exception):
    """The video server could not open the room (unreachable, refused, misconfigured)."""


@dataclass(frozen=True)
class Participant:
    """Who joins: display name, a stable pseudonymous id (None for visitors) and whether they
    moderate (organisers of the event)."""

    name: str
    user_id: str | None = None
    moderator: bool = False


def space_room_key(space: str) -> str:
    """The room key of a chapter's standing room (``:`` never occurs in an event id)."""
    return f"gliederung:{space}"


def configured(config) -> str | None:
    """``jitsi`` or ``bbb`` if ``CALENDAR_VIDEO`` names a service whose settings are complete."""
    kind = (config.get("CALENDAR_VIDEO") or "").strip().lower()
    if kind == JITSI and (config.get("CALENDAR_JITSI_URL") or "").strip():
        return JITSI
    if kind == BBB and (config.get("CALENDAR_BBB_URL") or "").strip():
        if config.get("CALENDAR_BBB_SECRET"):
            return BBB
    return None


def _derive(config, purpose: str, event_id: str) -> bytes:
    key = config.get("SECRET_KEY") or ""
    key = key if isinstance(key, bytes) else str(key).encode("utf-8")
    message = f"calendar-video:{purpose}:{event_id}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def room_name(config, event_id: str) -> str:
    """The event's room: 32 lower-case base32 characters (160 bits), stable per event."""
    raw = _derive(config, "room", event_id)[:20]
    return base64.b32encode(raw).decode("ascii").lower()


# -- Jitsi Meet --------------------------------------------------------------------------------


def jitsi_token(config, room: str, participant: Participant, now: float | None = None) -> str:
    """A Jitsi JWT for ``room`` (prosody ``token`` authentication with a shared secret)."""
    now = int(time.time() if now is None else now)
    host = urlsplit(config["CALENDAR_JITSI_URL"].strip()).hostname or ""
    user = {"name": participant.name, "moderator": participant.moderator}
    if participant.user_id:
        user["id"] = participant.user_id
    # token_affiliation and most deployments read ``moderator``; some read ``affiliation``.
    user["affiliation"] = "owner" if participant.moderator else "member"
    claims = {
        "aud": "jitsi",
        "iss": config["CALENDAR_JITSI_APP_ID"],
        "sub": host,
        "room": room,
        "iat": now,
        "nbf": now - 60,
        "exp": now + JITSI_TOKEN_SECONDS,
        "context": {"user": user},
    }
    return jwt.encode(claims, config["CALENDAR_JITSI_SECRET"], algorithm="HS256")


def jitsi_url(config, event_id: str, participant: Participant, now: float | None = None) -> str:
    """``<CALENDAR_JITSI_URL>/<room>``, with ``?jwt=`` when app id and secret are set."""
    base = config["CALENDAR_JITSI_URL"].strip().rstrip("/")
    room = room_name(config, event_id)
    url = f"{base}/{room}"
    if config.get("CALENDAR_JITSI_APP_ID") and config.get("CALENDAR_JITSI_SECRET"):
        url += "?" + urlencode({"jwt": jitsi_token(config, room, participant, now)})
    return url


# -- BigBlueButton -----------------------------------------------------------------------------


def bbb_checksum(call: str, query: str, secret: str, algorithm: str = "sha1") -> str:
    """The BBB API checksum: hex digest of ``call + query + secret`` (the API's security model)."""
    if algorithm not in BBB_ALGORITHMS:
        raise ValueError(f"unsupported checksum algorithm {algorithm!r}")
    return hashlib.new(algorithm, (call + query + secret).encode("utf-8")).hexdigest()


def bbb_url(base: str, call: str, params, secret: str, algorithm: str = "sha1") -> str:
    """``<base>/<call>?<params>&checksum=…`` with ``params`` (pairs, in order) URL-encoded."""
    query = urlencode(list(params.items() if isinstance(params, dict) else params))
    checksum = bbb_checksum(call, query, secret, algorithm)
    joiner = "&" if query else ""
    return f"{base.strip().rstrip('/')}/{call}?{query}{joiner}checksum={checksum}"


def _bbb_settings(config) -> tuple[str, str, str]:
    base = config["CALENDAR_BBB_URL"].strip().rstrip("/")
    algorithm = (config.get("CALENDAR_BBB_CHECKSUM") or "sha1").strip().lower()
    return base, config["CALENDAR_BBB_SECRET"], algorithm


def bbb_meeting(config, event_id: str) -> dict[str, str]:
    """The meeting's id and passwords, derived from the app's secret (stable per event)."""
    return {
        "meetingID": room_name(config, event_id),
        "moderatorPW": _derive(config, "bbb-moderator", event_id).hex()[:20],
        "attendeePW": _derive(config, "bbb-attendee", event_id).hex()[:20],
    }


def bbb_create_url(config, event_id: str, title: str, logout_url: str = "") -> str:
    """The signed ``create`` call of the event's meeting (idempotent on the server)."""
    base, secret, algorithm = _bbb_settings(config)
    meeting = bbb_meeting(config, event_id)
    params = [
        ("name", title[:256] or event_id),
        ("meetingID", meeting["meetingID"]),
        ("attendeePW", meeting["attendeePW"]),
        ("moderatorPW", meeting["moderatorPW"]),
    ]
    if logout_url:
        params.append(("logoutURL", logout_url))
    return bbb_url(base, "create", params, secret, algorithm)


def bbb_join_url(config, event_id: str, participant: Participant) -> str:
    """The signed ``join`` URL: organisers as MODERATOR, everybody else as VIEWER (``role`` for
    BigBlueButton 2.6 and later, the matching password for older servers)."""
    base, secret, algorithm = _bbb_settings(config)
    meeting = bbb_meeting(config, event_id)
    moderator = participant.moderator
    params = [
        ("fullName", participant.name[:128] or "Gast"),
        ("meetingID", meeting["meetingID"]),
        ("role", "MODERATOR" if moderator else "VIEWER"),
        ("password", meeting["moderatorPW" if moderator else "attendeePW"]),
        ("redirect", "true"),
    ]
    if participant.user_id:
        params.append(("userID", participant.user_id))
    return bbb_url(base, "join", params, secret, algorithm)


def bbb_create(url: str, timeout: float = BBB_TIMEOUT) -> None:
    """Call ``create``; raise :class:`VideoUnavailable` unless the server answers SUCCESS."""
    if not url.startswith(("https://", "http://")):
        raise VideoUnavailable("CALENDAR_BBB_URL must be an http(s) address")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked
            body = response.read(BBB_MAX_RESPONSE)
    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts, malformed URLs
        raise VideoUnavailable(str(exc)) from None
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise VideoUnavailable(f"unreadable answer: {exc}") from None
    if (root.findtext("returncode") or "").strip() != "SUCCESS":
        key = root.findtext("messageKey") or root.findtext("message") or "FAILED"
        raise VideoUnavailable(key.strip()[:200])


# -- the one entry point -----------------------------------------------------------------------


def join_url(config, event_id: str, title: str, participant: Participant, logout_url="") -> str:
    """Where ``participant`` joins the event's room (for BBB the meeting is created first);
    :class:`VideoUnavailable` if the service is not configured or does not answer."""
    kind = configured(config)
    if kind == JITSI:
        return jitsi_url(config, event_id, participant)
    if kind == BBB:
        bbb_create(bbb_create_url(config, event_id, title, logout_url))
        return bbb_join_url(config, event_id, participant)
    raise VideoUnavailable("CALENDAR_VIDEO is not configured")
