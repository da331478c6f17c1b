"""Video rooms: BigBlueButton checksums against the API documentation, Jitsi tokens, the join
route (readers only, organisers moderate) and that the room never leaks into pages or feeds.

No test touches the network: the BigBlueButton ``create`` call is replaced by a recorder.
"""

from __future__ import annotations

import hashlib
import io
import urllib.error
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import jwt
import pytest
from conftest import PAGES, Spaces, make_calendar_app, page_text, termin_block

from plugins.calendar import video

#: The worked example of the BigBlueButton API documentation ("API Security Model", Usage).
DOC_SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
DOC_QUERY = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"
DOC_CHECKSUM = "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"

JITSI_SECRET = "jitsi-geheimnis-von-mindestens-32-bytes"
JITSI = {
    "SECRET_KEY": "test-secret",
    "CALENDAR_VIDEO": "jitsi",
    "CALENDAR_JITSI_URL": "https://meet.example.org/",
    "CALENDAR_JITSI_APP_ID": "verbandswiki",
    "CALENDAR_JITSI_SECRET": JITSI_SECRET,
}
SUCCESS = b"<response><returncode>SUCCESS</returncode></response>"
FAILED = (
    b"<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey></response>"
)
BBB = {
    "SECRET_KEY": "test-secret",
    "CALENDAR_VIDEO": "bbb",
    "CALENDAR_BBB_URL": "https://bbb.example.org/bigbluebutton/api/",
    "CALENDAR_BBB_SECRET": DOC_SECRET,
}


# -- BigBlueButton ------------------------------------------------------------------------------


def test_bbb_checksum_matches_the_documentation():
    assert video.bbb_checksum("create", DOC_QUERY, DOC_SECRET) == DOC_CHECKSUM


def test_bbb_url_matches_the_documentation():
    params = [
        ("name", "Test Meeting"),
        ("meetingID", "abc123"),
        ("attendeePW", "111222"),
        ("moderatorPW", "333444"),
    ]
    url = video.bbb_url("https://bbb.example.com/bigbluebutton/api", "create", params, DOC_SECRET)
    assert url == (
        "https://bbb.example.com/bigbluebutton/api/create?"
        + DOC_QUERY
        + "&checksum="
        + DOC_CHECKSUM
    )


def test_bbb_other_checksum_algorithms():
    text = ("create" + DOC_QUERY + DOC_SECRET).encode()
    assert video.bbb_checksum("create", DOC_QUERY, DOC_SECRET, "sha256") == (
        hashlib.sha256(text).hexdigest()
    )
    with pytest.raises(ValueError):
        video.bbb_checksum("create", DOC_QUERY, DOC_SECRET, "md5")


def checked_query(url: str, call: str, secret: str = DOC_SECRET) -> dict[str, str]:
    """The parameters of a signed URL, after checking its checksum as the server does."""
    parts = urlsplit(url)
    assert parts.path.endswith("/" + call)
    query, _, checksum = parts.query.rpartition("&checksum=")
    assert checksum == hashlib.sha1((call + query + secret).encode()).hexdigest()
    return dict(parse_qsl(query))


def test_bbb_create_and_join_urls():
    create = checked_query(video.bbb_create_url(BBB, "mv", "Mitgliederversammlung"), "create")
    meeting = video.bbb_meeting(BBB, "mv")
    assert create == {
        "name": "Mitgliederversammlung",
        "meetingID": meeting["meetingID"],
        "attendeePW": meeting["attendeePW"],
        "moderatorPW": meeting["moderatorPW"],
    }
    assert meeting["attendeePW"] != meeting["moderatorPW"]
    organiser = video.Participant("Bea Vorstand", "u1", moderator=True)
    joined = checked_query(video.bbb_join_url(BBB, "mv", organiser), "join")
    assert joined["fullName"] == "Bea Vorstand" and joined["role"] == "MODERATOR"
    assert joined["password"] == meeting["moderatorPW"]
    assert joined["meetingID"] == meeting["meetingID"] and joined["userID"] == "u1"
    member = checked_query(video.bbb_join_url(BBB, "mv", video.Participant("Mia")), "join")
    assert member["role"] == "VIEWER" and member["password"] == meeting["attendeePW"]
    assert "userID" not in member
    assert video.bbb_join_url(BBB, "mv", organiser).startswith(
        "https://bbb.example.org/bigbluebutton/api/join?"
    )


def test_rooms_are_stable_unguessable_and_distinct():
    room = video.room_name(JITSI, "mv")
    assert room == video.room_name(JITSI, "mv")
    assert len(room) == 32 and room.isalnum() and room == room.lower()
    assert "mv" not in room
    assert room != video.room_name(JITSI, "mv-2")
    assert room != video.room_name({**JITSI, "SECRET_KEY": "other"}, "mv")


def test_configured_needs_complete_settings():
    assert video.configured(JITSI) == "jitsi"
    assert video.configured(BBB) == "bbb"
    assert video.configured({**BBB, "CALENDAR_BBB_SECRET": ""}) is None
    assert video.configured({**JITSI, "CALENDAR_JITSI_URL": " "}) is None
    assert video.configured({**JITSI, "CALENDAR_VIDEO": ""}) is None
    assert video.configured({**JITSI, "CALENDAR_VIDEO": "zoom"}) is None


def test_bbb_create_reports_failures():
    """The create call itself, against fake answers (no network)."""
    calls = []

    def answer(body):
        def fake(url, timeout):
            calls.append((url, timeout))
            return io.BytesIO(body)

        return fake

    url = video.bbb_create_url(BBB, "mv", "MV")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(video.urllib.request, "urlopen", answer(SUCCESS))
        video.bbb_create(url)
        mp.setattr(video.urllib.request, "urlopen", answer(FAILED))
        with pytest.raises(video.VideoUnavailable, match="checksumError"):
            video.bbb_create(url)
        mp.setattr(video.urllib.request, "urlopen", answer(b"not xml"))
        with pytest.raises(video.VideoUnavailable):
            video.bbb_create(url)
    assert calls[0] == (url, video.BBB_TIMEOUT)
    with pytest.raises(video.VideoUnavailable):
        video.bbb_create("file:///etc/passwd")


# -- Jitsi --------------------------------------------------------------------------------------


def test_jitsi_url_without_token():
    config = {**JITSI, "CALENDAR_JITSI_APP_ID": "", "CALENDAR_JITSI_SECRET": ""}
    url = video.jitsi_url(config, "mv", video.Participant("Mia"))
    assert url == "https://meet.example.org/" + video.room_name(config, "mv")


def test_jitsi_token_decodes_with_the_secret_and_carries_the_claims():
    now = 1_800_000_000
    url = video.jitsi_url(JITSI, "mv", video.Participant("Bea", "pub1", True), now=now)
    parts = urlsplit(url)
    room = parts.path.lstrip("/")
    assert room == video.room_name(JITSI, "mv")
    token = dict(parse_qsl(parts.query))["jwt"]
    claims = jwt.decode(
        token,
        JITSI_SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert claims["iss"] == "verbandswiki"
    assert claims["sub"] == "meet.example.org"
    assert claims["room"] == room
    assert claims["context"]["user"] == {
        "name": "Bea",
        "id": "pub1",
        "moderator": True,
        "affiliation": "owner",
    }
    assert claims["exp"] - now == video.JITSI_TOKEN_SECONDS <= 4 * 3600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "falsch" * 8, algorithms=["HS256"], audience="jitsi")
    viewer = video.jitsi_token(JITSI, room, video.Participant("Mia"))
    user = jwt.decode(viewer, JITSI_SECRET, algorithms=["HS256"], audience="jitsi")["context"]
    assert user["user"]["moderator"] is False and "id" not in user["user"]


# -- the join route -----------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
SOON = (datetime.now(BERLIN) + timedelta(days=10)).replace(hour=18, minute=0, second=0)
WHEN = {"beginn": SOON.strftime("%Y-%m-%d %H:%M"), "ende": "20:00"}
MEMBERS_PAGE = "lv/kv-a/protokoll"
PUBLIC_PAGE = "lv/kv-a/oeffentlich"


def with_blocks(page: str, *blocks: str) -> str:
    visibility, title, body = PAGES[page]
    return page_text(title, body + "\n\n" + "\n".join(blocks), visibility)


@pytest.fixture(scope="module")
def spaces(tmp_path_factory):
    app = make_calendar_app(
        tmp_path_factory.mktemp("calendar-video"),
        **{k: v for k, v in JITSI.items() if k != "SECRET_KEY"},
    )
    Spaces(app).commit(
        {
            f"{MEMBERS_PAGE}.md": with_blocks(
                MEMBERS_PAGE,
                termin_block("mv", titel="MV online", online="ja", **WHEN),
                termin_block("vor-ort", titel="Vor Ort", **WHEN),
            ),
            f"{PUBLIC_PAGE}.md": with_blocks(
                PUBLIC_PAGE, termin_block("offen", titel="Offen online", online="ja", **WHEN)
            ),
        },
        "Termine",
    )
    yield Spaces(app)
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


def joined(response) -> dict:
    """The Jitsi claims of a join redirect."""
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    parts = urlsplit(response.headers["Location"])
    assert f"{parts.scheme}://{parts.netloc}" == "https://meet.example.org"
    token = dict(parse_qsl(parts.query))["jwt"]
    return jwt.decode(token, JITSI_SECRET, algorithms=["HS256"], audience="jitsi")


def test_readers_join_organisers_moderate(spaces):
    member = joined(spaces.login("member_a").get("/-/calendar/event/mv/join"))
    assert member["context"]["user"]["name"] == "Mia Mitglied A"
    assert member["context"]["user"]["moderator"] is False
    board = joined(spaces.login("board_a").get("/-/calendar/event/mv/join"))
    assert board["context"]["user"]["moderator"] is True
    assert board["room"] == member["room"] == video.room_name(spaces.app.config, "mv")
    response = spaces.login("member_a").get("/-/calendar/event/mv/join")
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("member_b", "/-/calendar/event/mv/join"),
        ("user", "/-/calendar/event/mv/join"),
        ("anon", "/-/calendar/event/mv/join"),
        ("member_a", "/-/calendar/event/vor-ort/join"),  # not online
        ("member_a", "/-/calendar/event/gibt-es-nicht/join"),
    ],
)
def test_join_is_404_for_everybody_else(spaces, role, url):
    assert spaces.login(role).get(url).status_code == 404


def test_a_public_online_event_is_joined_by_visitors_as_guests(spaces):
    claims = joined(spaces.login("anon").get("/-/calendar/event/offen/join"))
    assert claims["context"]["user"]["name"] == "Gast"
    assert "id" not in claims["context"]["user"]


def test_without_video_service_there_is_no_room(spaces, monkeypatch):
    monkeypatch.setitem(spaces.app.config, "CALENDAR_VIDEO", "")
    assert spaces.login("member_a").get("/-/calendar/event/mv/join").status_code == 404
    page = spaces.login("member_a").get(f"/{MEMBERS_PAGE}").get_data(as_text=True)
    assert "Videokonferenz beitreten" not in page


def test_the_button_is_on_the_page_the_room_nowhere(spaces):
    room = video.room_name(spaces.app.config, "mv")
    page = spaces.login("member_a").get(f"/{MEMBERS_PAGE}").get_data(as_text=True)
    assert "Videokonferenz beitreten" in page
    assert 'href="/-/calendar/event/mv/join"' in page
    assert "/-/calendar/event/vor-ort/join" not in page
    assert room not in page and "meet.example.org" not in page
    public = spaces.login("anon").get(f"/{PUBLIC_PAGE}").get_data(as_text=True)
    assert 'href="/-/calendar/event/offen/join"' in public
    for feed in ("/-/calendar.ics", "/-/calendar/lv/kv-a.ics", "/-/calendar/event/offen.ics"):
        text = spaces.login("member_a").get(feed).get_data(as_text=True)
        assert room not in text and video.room_name(spaces.app.config, "offen") not in text
        assert "meet.example.org" not in text


def test_members_enter_their_chapters_standing_room_the_board_moderates(spaces):
    member = joined(spaces.login("member_a").get("/-/calendar/room/lv/kv-a/join"))
    board = joined(spaces.login("board_a").get("/-/calendar/room/lv/kv-a/join"))
    assert member["room"] == board["room"]
    assert member["room"] == video.room_name(spaces.app.config, "gliederung:lv/kv-a")
    assert member["room"] not in {
        video.room_name(spaces.app.config, e) for e in ("mv", "offen", "lv/kv-a")
    }
    assert member["context"]["user"]["moderator"] is False
    assert board["context"]["user"]["moderator"] is True
    overview = spaces.login("member_a").get("/lv/kv-a").get_data(as_text=True)
    assert 'href="/-/calendar/room/lv/kv-a/join"' in overview
    assert "Videoraum der Gliederung betreten" in overview
    assert member["room"] not in overview and "meet.example.org" not in overview
    month = spaces.login("member_a").get("/-/calendar/lv/kv-a").get_data(as_text=True)
    assert 'href="/-/calendar/room/lv/kv-a/join"' in month


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("member_b", "/-/calendar/room/lv/kv-a/join"),
        ("user", "/-/calendar/room/lv/kv-a/join"),
        ("anon", "/-/calendar/room/lv/kv-a/join"),
        ("member_a", "/-/calendar/room/lv/kv-b/join"),
        ("member_a", "/-/calendar/room/lv/nirgends/join"),
        ("member_a", f"/-/calendar/room/{MEMBERS_PAGE}/join"),  # a page, no chapter
        ("admin", f"/-/calendar/room/{MEMBERS_PAGE}/join"),
        ("member_a", "/-/calendar/room/LV/../kv-a/join"),
    ],
)
def test_the_standing_room_is_404_for_everybody_else(spaces, role, url):
    assert spaces.login(role).get(url).status_code == 404


@pytest.mark.parametrize("role", ["user", "member_b", "anon"])
def test_others_see_no_room_link_on_the_chapter(spaces, role):
    overview = spaces.login(role).get("/lv/kv-a").get_data(as_text=True)
    assert "/-/calendar/room/" not in overview
    assert "Videoraum" not in overview


def test_standing_rooms_can_be_switched_off(spaces, monkeypatch):
    monkeypatch.setitem(spaces.app.config, "CALENDAR_SPACE_ROOMS", False)
    member = spaces.login("member_a")
    assert member.get("/-/calendar/room/lv/kv-a/join").status_code == 404
    assert "/-/calendar/room/" not in member.get("/lv/kv-a").get_data(as_text=True)
    monkeypatch.setitem(spaces.app.config, "CALENDAR_SPACE_ROOMS", True)
    monkeypatch.setitem(spaces.app.config, "CALENDAR_VIDEO", "")
    assert member.get("/-/calendar/room/lv/kv-a/join").status_code == 404
    assert "/-/calendar/room/" not in member.get("/lv/kv-a").get_data(as_text=True)


def test_bbb_join_creates_the_meeting_first(spaces, monkeypatch):
    for name, value in BBB.items():
        if name != "SECRET_KEY":
            monkeypatch.setitem(spaces.app.config, name, value)
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return io.BytesIO(SUCCESS)

    monkeypatch.setattr(video.urllib.request, "urlopen", fake_urlopen)
    response = spaces.login("board_a").get("/-/calendar/event/mv/join")
    assert response.status_code == 303
    create = checked_query(calls[0], "create")
    assert create["name"] == "MV online"
    assert create["logoutURL"] == f"http://wiki.test/{MEMBERS_PAGE}"
    join = checked_query(response.headers["Location"], "join")
    assert join["role"] == "MODERATOR" and join["fullName"] == "Bea Vorstand A"
    assert join["meetingID"] == create["meetingID"]

    def unreachable(url, timeout):
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(video.urllib.request, "urlopen", unreachable)
    failed = spaces.login("member_a").get("/-/calendar/event/mv/join")
    assert failed.status_code == 503
    assert "Videokonferenzraum kann gerade nicht geöffnet werden" in failed.get_data(as_text=True)
