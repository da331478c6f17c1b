"""Invitations of the spaces plugin: personal invitations (single use, expiry, CSV lists) and
join links (QR code, use limit, revocation, membership requests the board decides)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import pathlib
import re
import struct
import zlib
from datetime import timedelta

import pytest
import zxingcpp
from conftest import PASSWORD, log_in, make_test_app, save
from sqlalchemy import func, select

from plugins.spaces.directory import add_member
from plugins.spaces.models import Invitation, JoinRequest, Membership
from wiki.cli import create_user
from wiki.db import MailMessage, User, utcnow

LV = (
    "---\ntype: space\nname: Landesverband\ncode: LV\nkind: landesverband\n"
    "default_visibility: members\nvisibility: public\n---\nLandesverband\n"
)
INTERN = "---\ntitle: Intern\n---\nNur für Mitglieder.\n"
INVITE_RE = re.compile(r"http://wiki\.test(/-/invite/[A-Za-z0-9_\-]+)")


def make_app(tmp_path):
    """LV (overview public, pages members-only) with the page lv/intern; alice is its board,
    carol a member; bob and erin are no members."""
    app = make_test_app(tmp_path, WIKI_PLUGINS=["plugins.spaces"])
    admin = log_in(app, "admin")
    assert save(admin, "lv", LV).status_code == 302
    assert save(admin, "lv/intern", INTERN).status_code == 302
    with app.app_context(), app.extensions["wiki"].sessions() as db:
        alice = db.scalar(select(User).where(User.handle == "alice"))
        add_member(db, alice.id, "lv", "board")
        carol = create_user(db, "carol", "Carol", "carol@example.org", PASSWORD)
        add_member(db, carol.id, "lv", "member")
        create_user(db, "erin", "Erin", "erin@example.org", PASSWORD)
        db.commit()
    return app


def client_for(app, handle):
    client = app.test_client()
    response = client.form("/-/login", {"handle": handle, "password": PASSWORD})
    assert response.status_code == 302
    return client


def db_of(app):
    return app.extensions["wiki"].sessions()


def invite(board, name="Nina Neu", address="nina@example.org", days=""):
    return board.form(
        "/-/spaces/lv/invitations",
        {"action": "invite", "name": name, "email": address, "days": days},
    )


def mails(app) -> list[email.message.EmailMessage]:
    app.extensions["wiki"].mailer.process()
    outbox = sorted((pathlib.Path(app.config["WIKI_INSTANCE"]) / "outbox").glob("*.eml"))
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox]


def invitation_link(app, address="nina@example.org") -> str:
    for message in reversed(mails(app)):
        if message["To"] == address:
            return INVITE_RE.search(message.get_content()).group(1)
    raise AssertionError(f"no invitation to {address}")


def register(client, link, handle="nina", address="nina@example.org", password=PASSWORD):
    return client.form(
        link,
        {
            "action": "register",
            "display_name": "Nina Neu",
            "handle": handle,
            "email": address,
            "password": password,
        },
    )


def user_count(app) -> int:
    with db_of(app) as db:
        return db.scalar(select(func.count()).select_from(User))


# -- personal invitations -------------------------------------------------------------------------


def test_personal_invitation_creates_account_and_membership_once(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    response = invite(board)
    assert response.status_code == 302
    link = invitation_link(app)
    with db_of(app) as db:
        row = db.scalar(select(Invitation))
        assert row.kind == "personal" and row.max_uses == 1
        assert row.token_hash == hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest()
        assert timedelta(days=13) < row.expires_at - utcnow() <= timedelta(days=14)
    guest = app.test_client()
    page = guest.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="nina@example.org"' in html and "Alice Mitglied" in html
    assert guest.get("/lv/intern").status_code == 404
    response = register(guest, link)
    assert response.status_code == 302 and response.headers["Location"] == "/lv"
    assert guest.get("/lv/intern").status_code == 200  # logged in and a member at once
    with db_of(app) as db:
        nina = db.scalar(select(User).where(User.handle == "nina"))
        assert nina.email_verified_at is not None
        assert db.scalar(select(Membership).where(Membership.user_id == nina.id)).space == "lv"
    # Single use: the link is done, for everyone.
    again = app.test_client().get(link)
    assert again.status_code == 410
    assert "schon angenommen" in again.get_data(as_text=True)
    assert register(app.test_client(), link, handle="nina2").status_code == 410
    assert user_count(app) == 6


def test_registration_is_checked_like_the_core(tmp_path):
    app = make_app(tmp_path)
    invite(client_for(app, "alice"))
    link = invitation_link(app)
    guest = app.test_client()
    before = user_count(app)
    taken = register(guest, link, handle="bob")
    assert taken.status_code == 400
    assert "nicht verfügbar" in taken.get_data(as_text=True)
    assert register(guest, link, handle="Nina Neu!").status_code == 400
    short = register(guest, link, password="kurz")
    assert short.status_code == 400 and "mindestens" in short.get_data(as_text=True)
    used_address = register(guest, link, address="erin@example.org")
    assert used_address.status_code == 400
    assert "Diese E-Mail-Adresse ist nicht verfügbar" in used_address.get_data(as_text=True)
    assert register(guest, link, address="Erin@EXAMPLE.org").status_code == 400
    assert user_count(app) == before
    with db_of(app) as db:
        assert db.scalar(select(Invitation.uses)) == 0  # nothing was used up
    assert register(guest, link).status_code == 302


def test_changed_address_is_not_taken_as_verified(tmp_path):
    app = make_app(tmp_path)
    invite(client_for(app, "alice"))
    link = invitation_link(app)
    assert register(app.test_client(), link, address="nina@example.net").status_code == 302
    with db_of(app) as db:
        assert db.scalar(select(User).where(User.handle == "nina")).email_verified_at is None
    assert any(m["To"] == "nina@example.net" for m in mails(app))  # a verification link


def test_logged_in_user_accepts_with_one_click(tmp_path):
    app = make_app(tmp_path)
    invite(client_for(app, "alice"), name="Bob", address="bob@example.org")
    link = invitation_link(app, "bob@example.org")
    bob = client_for(app, "bob")
    page = bob.get(link)
    assert page.status_code == 200 and "Einladung annehmen" in page.get_data(as_text=True)
    assert bob.form(link, {"action": "accept"}).status_code == 302
    assert bob.get("/lv/intern").status_code == 200
    assert bob.get(link).status_code == 410


def test_expired_revoked_and_wrong_invitations_change_nothing(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    invite(board, address="nina@example.org")
    invite(board, name="Olga", address="olga@example.org")
    expired = invitation_link(app, "nina@example.org")
    revoked = invitation_link(app, "olga@example.org")
    with db_of(app) as db:
        row = db.scalar(select(Invitation).where(Invitation.email == "nina@example.org"))
        row.expires_at = utcnow() - timedelta(minutes=1)
        olga = db.scalar(select(Invitation).where(Invitation.email == "olga@example.org")).id
        db.commit()
    assert (
        board.form(
            "/-/spaces/lv/invitations", {"action": "revoke", "invitation_id": olga}
        ).status_code
        == 302
    )
    before = user_count(app)
    guest = app.test_client()
    response = guest.get(expired)
    assert response.status_code == 410
    assert "abgelaufen" in response.get_data(as_text=True)
    assert register(guest, expired).status_code == 410
    response = guest.get(revoked)
    assert response.status_code == 404
    assert "zurückgezogen" in response.get_data(as_text=True)
    assert register(guest, revoked, handle="olga", address="olga@example.org").status_code == 404
    response = guest.get("/-/invite/ganz-falsch")
    assert response.status_code == 404
    assert "Diesen Einladungslink gibt es nicht" in response.get_data(as_text=True)
    assert guest.get("/-/join/ganz-falsch").status_code == 404
    assert user_count(app) == before
    with db_of(app) as db:
        assert db.scalar(select(func.sum(Invitation.uses))) == 0


def test_only_the_board_manages_invitations(tmp_path):
    app = make_app(tmp_path)
    assert client_for(app, "alice").get("/-/spaces/lv/invitations").status_code == 200
    member = client_for(app, "carol")
    assert member.get("/-/spaces/lv/invitations").status_code == 403
    assert invite(member).status_code == 403
    assert member.get("/-/spaces/lv/requests").status_code == 403
    assert client_for(app, "erin").get("/-/spaces/lv/invitations").status_code == 403
    anonymous = app.test_client().get("/-/spaces/lv/invitations")
    assert anonymous.status_code == 302 and "/-/login" in anonymous.headers["Location"]
    assert client_for(app, "erin").get("/-/spaces/nirgendwo/invitations").status_code == 404
    with db_of(app) as db:
        assert db.scalar(select(func.count()).select_from(Invitation)) == 0


def test_csv_upload_invites_everyone_and_reports_the_rest(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    invite(board, name="Paula", address="paula@example.org")  # pending already
    with db_of(app) as db:  # only a verified address tells who is a member
        db.scalar(select(User).where(User.handle == "carol")).email_verified_at = utcnow()
        db.commit()
    csv_text = (
        "Name;E-Mail\r\n"
        "Nina Neu;nina@example.org\r\n"
        "Kaputt;keine-adresse\r\n"
        "Carol;CAROL@example.org\r\n"
        "Paula;paula@example.org\r\n"
        "Nina nochmal;Nina@Example.org\r\n"
        "\r\n"
        "Ömer Üzüm;oemer@example.org\r\n"
    )
    response = board.form(
        "/-/spaces/lv/invitations",
        {
            "action": "upload",
            "file": (io.BytesIO(b"\xef\xbb\xbf" + csv_text.encode("utf-8")), "liste.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2 Einladungen verschickt, 4 übersprungen." in html
    rows = re.findall(r"<tr class=\"report-(\w+)\">\s*<td[^>]*>(\d+)</td>(.*?)</tr>", html, re.S)
    outcome = {int(line): (kind, re.sub(r"\s+", " ", rest)) for kind, line, rest in rows}
    assert outcome[2][0] == "sent" and "nina@example.org" in outcome[2][1]
    assert "ungültige E-Mail-Adresse" in outcome[3][1]
    assert "schon Mitglied" in outcome[4][1]
    assert "schon eingeladen" in outcome[5][1]
    assert "doppelt in der Datei" in outcome[6][1]
    assert outcome[8][0] == "sent" and "Ömer Üzüm" in outcome[8][1]
    with db_of(app) as db:
        emails = sorted(db.scalars(select(Invitation.email)))
        assert emails == ["nina@example.org", "oemer@example.org", "paula@example.org"]
    sent = [m["To"] for m in mails(app)]
    assert sorted(sent) == ["nina@example.org", "oemer@example.org", "paula@example.org"]


def test_csv_with_commas_and_without_header(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    data = b'Nina Neu,nina@example.org\n"Neu, Olga",olga@example.org\n'
    response = board.form(
        "/-/spaces/lv/invitations",
        {"action": "upload", "file": (io.BytesIO(data), "liste.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "2 Einladungen verschickt, 0 übersprungen." in response.get_data(as_text=True)
    with db_of(app) as db:
        names = sorted(db.scalars(select(Invitation.name)))
        assert names == ["Neu, Olga", "Nina Neu"]
    broken = board.form(
        "/-/spaces/lv/invitations",
        {
            "action": "upload",
            "file": (io.BytesIO("Jürgen;j@example.org".encode("latin-1")), "a.csv"),
        },
        content_type="multipart/form-data",
    )
    assert broken.status_code == 400
    assert "UTF-8" in broken.get_data(as_text=True)


# -- join links -------------------------------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Decode a grayscale PNG (bit depth 1 or 8, any filter) into 8-bit pixels."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _c, _f, interlace = header
    assert colour == 0 and interlace == 0 and depth in (1, 8)
    raw = zlib.decompress(idat)
    stride = (width * depth + 7) // 8
    previous = bytearray(stride)
    pixels = bytearray()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            a = line[x - 1] if x else 0
            b = previous[x]
            c = previous[x - 1] if x else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 255
        previous = line
        if depth == 8:
            pixels += line[:width]
        else:
            pixels += bytes(255 if line[x // 8] >> (7 - x % 8) & 1 else 0 for x in range(width))
    return width, height, bytes(pixels)


def create_link(board, days="", uses=""):
    response = board.form(
        "/-/spaces/lv/invitations", {"action": "link", "days": days, "uses": uses}
    )
    assert response.status_code == 302
    page = board.get(response.headers["Location"])
    assert page.status_code == 200
    url = re.search(
        r"<code>(http://wiki\.test/-/join/[A-Za-z0-9_\-]+)</code>", page.get_data(as_text=True)
    )
    return response.headers["Location"], url.group(1)


def test_join_link_qr_code_decodes_to_the_link(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    page, url = create_link(board)
    response = board.get(page + "/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    width, height, pixels = png_pixels(response.data)
    found = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert [code.text for code in found] == [url]
    with db_of(app) as db:
        row = db.scalar(select(Invitation))
        token = url.rsplit("/", 1)[1]
        assert row.kind == "link" and token not in (row.token_hash, row.email, row.name)
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # Board only.
    assert client_for(app, "carol").get(page + "/qr.png").status_code == 403
    assert client_for(app, "carol").get(page).status_code == 403
    assert app.test_client().get(page + "/qr.png").status_code == 302


def join_path(url: str) -> str:
    return url.removeprefix("http://wiki.test")


def test_join_request_needs_the_boards_approval(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    _page, url = create_link(board)
    guest = app.test_client()
    assert "Mitgliedschaft" in guest.get(join_path(url)).get_data(as_text=True)
    response = register(guest, join_path(url), handle="nina")
    assert response.status_code == 302 and response.headers["Location"] == "/-/me"
    assert guest.get("/lv/intern").status_code == 404  # not yet
    with db_of(app) as db:
        request_row = db.scalar(select(JoinRequest))
        assert request_row.status == "open"
        assert db.scalar(select(Invitation.uses)) == 1
        nina = db.get(User, request_row.user_id)
        assert nina.handle == "nina" and nina.email_verified_at is None
    # A member cannot decide; asking again does not file a second request.
    assert (
        client_for(app, "carol")
        .form("/-/spaces/lv/requests", {"request_id": request_row.id, "decision": "approve"})
        .status_code
        == 403
    )
    assert "liegt dem Vorstand vor" in guest.get(join_path(url)).get_data(as_text=True)
    assert guest.form(join_path(url), {"action": "request"}).status_code == 302
    with db_of(app) as db:
        assert db.scalar(select(Invitation.uses)) == 1
    listing = board.get("/-/spaces/lv/requests").get_data(as_text=True)
    assert "Nina Neu" in listing
    decided = board.form(
        "/-/spaces/lv/requests", {"request_id": request_row.id, "decision": "approve"}
    )
    assert decided.status_code == 302
    assert guest.get("/lv/intern").status_code == 200
    with db_of(app) as db:  # the requester hears about the decision
        subjects = db.scalars(
            select(MailMessage.subject).where(MailMessage.recipient == nina.email)
        ).all()
        assert any("Willkommen" in subject for subject in subjects), subjects


def test_declined_request_gives_no_access_and_logged_in_users_ask_with_one_click(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    _page, url = create_link(board)
    erin = client_for(app, "erin")
    assert "Mitgliedschaft beantragen" in erin.get(join_path(url)).get_data(as_text=True)
    assert erin.form(join_path(url), {"action": "request"}).status_code == 302
    with db_of(app) as db:
        request_id = db.scalar(select(JoinRequest.id))
    board.form("/-/spaces/lv/requests", {"request_id": request_id, "decision": "decline"})
    assert erin.get("/lv/intern").status_code == 404
    with db_of(app) as db:
        assert db.get(JoinRequest, request_id).status == "declined"
        assert db.scalar(select(func.count()).select_from(Membership)) == 2
        erin_mail = db.scalar(select(MailMessage).where(MailMessage.recipient.like("erin@%")))
        assert erin_mail is not None and "nicht angenommen" in erin_mail.body


def test_join_link_use_limit_expiry_and_revocation(tmp_path):
    app = make_app(tmp_path)
    board = client_for(app, "alice")
    page, url = create_link(board, uses="1")
    assert register(app.test_client(), join_path(url), handle="nina").status_code == 302
    used_up = app.test_client()
    response = used_up.get(join_path(url))
    assert response.status_code == 410
    assert "so oft benutzt" in response.get_data(as_text=True)
    before = user_count(app)
    assert (
        register(used_up, join_path(url), handle="olga", address="o@example.org").status_code == 410
    )
    assert user_count(app) == before

    _page, expiring = create_link(board)
    with db_of(app) as db:
        row = db.scalar(select(Invitation).order_by(Invitation.id.desc()))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.commit()
    assert app.test_client().get(join_path(expiring)).status_code == 410

    revoke_page, revoked = create_link(board)
    link_id = int(revoke_page.rsplit("/", 1)[1])
    assert (
        board.form(
            "/-/spaces/lv/invitations", {"action": "revoke", "invitation_id": link_id}
        ).status_code
        == 302
    )
    response = app.test_client().get(join_path(revoked))
    assert response.status_code == 404
    assert "zurückgezogen" in response.get_data(as_text=True)
    assert "zurückgezogen" in board.get(revoke_page).get_data(as_text=True)
    assert user_count(app) == before


def test_forms_without_csrf_token_are_refused(tmp_path):
    app = make_app(tmp_path)
    _page, url = create_link(client_for(app, "alice"))
    response = app.test_client().post(
        join_path(url),
        data={"display_name": "X", "handle": "xx", "email": "x@example.org", "password": PASSWORD},
    )
    assert response.status_code == 400
    assert user_count(app) == 5


@pytest.mark.parametrize("value", ["0", "abc", "100000"])
def test_invalid_link_settings_are_refused(tmp_path, value):
    app = make_app(tmp_path)
    response = client_for(app, "alice").form(
        "/-/spaces/lv/invitations", {"action": "link", "days": "7", "uses": value}
    )
    assert response.status_code == 400
    with db_of(app) as db:
        assert db.scalar(select(func.count()).select_from(Invitation)) == 0
