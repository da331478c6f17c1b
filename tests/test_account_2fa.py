"""Two-factor login: setup with QR code, login with code or recovery code, replay, rate limit."""

from __future__ import annotations

import base64
import re
import struct
import time
import zlib

import pyotp
import pytest
from conftest import PASSWORD, log_in
from sqlalchemy import select

from wiki import auth, qr, totp
from wiki.db import Token, User

SECRET_RE = re.compile(r'class="totp-secret">([A-Z2-7 ]+)<')
QR_RE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
CODE_RE = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


class Clock:
    """A movable clock for the TOTP module (codes and the pending login's expiry)."""

    def __init__(self):
        self.t = time.time()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(totp, "now", clock)
    return clock


def code_at(secret: str, clock: Clock, offset: float = 0) -> str:
    return pyotp.TOTP(secret).at(clock() + offset)


def user_row(app, handle="alice") -> User:
    with app.extensions["wiki"].sessions() as session:
        return session.scalar(select(User).where(User.handle == handle))


def recovery_tokens(app, user_id: int) -> list[Token]:
    with app.extensions["wiki"].sessions() as session:
        return list(
            session.scalars(select(Token).where(Token.user_id == user_id, Token.kind == "recovery"))
        )


def start_setup(client) -> str:
    """Start the setup on the account page and return the secret it shows."""
    response = client.form("/-/account", {"action": "totp-start"})
    assert response.status_code == 302
    html = client.get("/-/account").get_data(as_text=True)
    return SECRET_RE.search(html).group(1).replace(" ", "")


def enable(client, clock) -> tuple[str, list[str]]:
    """Set up and confirm the second factor; returns the secret and the recovery codes."""
    secret = start_setup(client)
    response = client.form(
        "/-/account",
        {"action": "totp-confirm", "password": PASSWORD, "code": code_at(secret, clock)},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    codes = CODE_RE.findall(response.get_data(as_text=True))
    clock.advance(30)  # the confirming code is used up; the next login needs a new one
    return secret, codes


def password_step(app, handle="alice", next_url=None):
    client = app.test_client()
    data = {"handle": handle, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client, client.form("/-/login", data)


def logged_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def session_value(client, key):
    with client.session_transaction() as session:
        return session.get(key)


# --- setup ----------------------------------------------------------------------------------


def test_setup_shows_the_secret_as_text_and_as_qr_code(login, app):
    client = login("user")
    assert "Zwei-Faktor-Anmeldung einrichten" in client.get("/-/account").get_data(as_text=True)
    secret = start_setup(client)
    html = client.get("/-/account").get_data(as_text=True)
    uri = f"otpauth://totp/Verbandswiki:alice?secret={secret}&amp;issuer=Verbandswiki"
    assert f'href="{uri}"' in html
    png = base64.b64decode(QR_RE.search(html).group(1))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    matrix = qr.qr_matrix(uri.replace("&amp;", "&"))
    assert decode_png(png, 5) == matrix
    assert 'style="' not in html and "<script>" not in html
    # Not switched on before a code confirmed it: the login still needs only the password.
    row = user_row(app)
    assert row.totp_secret == secret and row.totp_enabled_at is None and not row.has_totp
    _client, response = password_step(app)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def decode_png(data: bytes, scale: int) -> list[list[bool]]:
    """The module matrix of a 1-bit greyscale PNG written by ``wiki.qr.png``."""
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (1, 0) and width == height
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + (width + 7) // 8
    rows = []
    for y in range(0, height, scale):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0
        bits = "".join(f"{byte:08b}" for byte in line[1:])[:width]
        rows.append([bits[x] == "0" for x in range(0, width, scale)])
    return rows


def test_enabling_needs_the_password_and_a_valid_code(login, app, clock):
    client = login("user")
    secret = start_setup(client)
    good = code_at(secret, clock)
    wrong = "000000" if good != "000000" else "111111"
    attempts = [
        ({"password": PASSWORD, "code": wrong}, "Der Code ist falsch"),
        ({"password": PASSWORD, "code": ""}, "sechsstelligen Code"),
        ({"password": "falsch", "code": good}, "Das Passwort ist falsch"),
    ]
    for data, message in attempts:
        response = client.form("/-/account", {"action": "totp-confirm", **data})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
        assert not user_row(app).has_totp
    response = client.form(
        "/-/account", {"action": "totp-confirm", "password": PASSWORD, "code": good}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    codes = CODE_RE.findall(html)
    assert len(codes) == 8 and len(set(codes)) == 8
    assert "nur dieses eine Mal" in html
    row = user_row(app)
    assert row.has_totp and row.totp_secret == secret
    assert session_value(client, "wiki_2fa") is True
    # Recovery codes are stored only as hashes.
    stored = {t.token_hash for t in recovery_tokens(app, row.id)}
    assert stored == {auth.token_hash(totp.normalise_recovery(c)) for c in codes}
    # Shown once: the account page afterwards lists only how many are left.
    page = client.get("/-/account").get_data(as_text=True)
    assert not any(code in page for code in codes)
    assert "8 unbenutzte Wiederherstellungscodes" in page


def test_a_recovery_code_cannot_confirm_the_setup(login, app, clock):
    client = login("user")
    start_setup(client)
    response = client.form(
        "/-/account", {"action": "totp-confirm", "password": PASSWORD, "code": "abcde-fghjk"}
    )
    assert response.status_code == 400
    assert not user_row(app).has_totp


def test_cancel_setup_forgets_the_secret(login, app):
    client = login("user")
    start_setup(client)
    assert client.form("/-/account", {"action": "totp-cancel"}).status_code == 302
    row = user_row(app)
    assert row.totp_secret is None and not row.has_totp


# --- login ----------------------------------------------------------------------------------


def test_login_without_second_factor_marks_the_session(app):
    client, response = password_step(app)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert logged_in(client)
    assert session_value(client, "wiki_2fa") is False


def test_login_needs_the_code_after_the_password(login, app, clock):
    secret, _codes = enable(login("user"), clock)
    client, response = password_step(app, next_url="/hilfe")
    assert response.status_code == 302
    assert response.headers["Location"] == "/-/login/2fa"
    assert not logged_in(client)
    assert client.get("/-/account").status_code == 302  # not logged in yet
    page = client.get("/-/login/2fa")
    assert page.status_code == 200
    assert 'name="code"' in page.get_data(as_text=True)

    good = code_at(secret, clock)
    wrong = "123456" if good != "123456" else "654321"
    response = client.form("/-/login/2fa", {"code": wrong})
    assert response.status_code == 401
    assert "Der Code ist falsch" in response.get_data(as_text=True)
    assert not logged_in(client)
    response = client.form("/-/login/2fa", {"code": ""})
    assert response.status_code == 400
    assert not logged_in(client)

    response = client.form("/-/login/2fa", {"code": good})
    assert response.status_code == 302
    assert response.headers["Location"] == "/hilfe"
    assert logged_in(client)
    assert session_value(client, "wiki_2fa") is True
    assert session_value(client, totp.PENDING_KEY) is None
    assert client.get("/-/account").status_code == 200


def test_a_code_is_accepted_only_once(login, app, clock):
    secret, _codes = enable(login("user"), clock)
    used = code_at(secret, clock)
    first, _response = password_step(app)
    assert first.form("/-/login/2fa", {"code": used}).status_code == 302
    second, _response = password_step(app)
    response = second.form("/-/login/2fa", {"code": used})
    assert response.status_code == 401
    assert "schon benutzt" in response.get_data(as_text=True)
    assert not logged_in(second)
    # An older (still valid) code is refused too; the next one works.
    assert second.form("/-/login/2fa", {"code": code_at(secret, clock, -30)}).status_code == 401
    clock.advance(30)
    assert second.form("/-/login/2fa", {"code": code_at(secret, clock)}).status_code == 302
    assert logged_in(second)


def test_recovery_code_works_once(login, app, clock):
    _secret, codes = enable(login("user"), clock)
    client, _response = password_step(app)
    typed = codes[0].upper().replace("-", " ")  # case, spaces and hyphens do not matter
    response = client.form("/-/login/2fa", {"code": typed})
    assert response.status_code == 302
    assert logged_in(client)
    assert session_value(client, "wiki_2fa") is True
    assert "noch 7 Codes" in client.get("/").get_data(as_text=True)
    again, _response = password_step(app)
    assert again.form("/-/login/2fa", {"code": codes[0]}).status_code == 401
    assert not logged_in(again)
    assert again.form("/-/login/2fa", {"code": codes[1]}).status_code == 302


def test_recovery_codes_of_another_account_do_not_work(app, clock):
    _secret, alice_codes = enable(log_in(app, "user"), clock)
    enable(log_in(app, "other"), clock)
    client, _response = password_step(app, handle="bob")
    assert client.form("/-/login/2fa", {"code": alice_codes[0]}).status_code == 401
    assert not logged_in(client)


def test_pending_login_expires(login, app, clock):
    secret, _codes = enable(login("user"), clock)
    client, _response = password_step(app)
    clock.advance(totp.PENDING_SECONDS + 1)
    response = client.form("/-/login/2fa", {"code": code_at(secret, clock)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/-/login"
    assert not logged_in(client)
    assert "Die Anmeldung ist abgelaufen" in client.get("/-/login").get_data(as_text=True)
    # The pending login is gone: the code form sends back to the login form.
    assert client.get("/-/login/2fa").headers["Location"] == "/-/login"


def test_code_form_without_password_step_goes_to_login(app):
    client = app.test_client()
    response = client.get("/-/login/2fa")
    assert response.status_code == 302 and response.headers["Location"] == "/-/login"
    response = client.form("/-/login/2fa", {"code": "123456"})
    assert response.status_code == 302 and not logged_in(client)


def test_pending_login_ends_with_a_password_change(login, app, clock):
    owner = login("user")
    secret, _codes = enable(owner, clock)
    client, _response = password_step(app)
    response = owner.form(
        "/-/account", {"action": "password", "current": PASSWORD, "new": "ein ganz neues passwort"}
    )
    assert response.status_code == 302
    response = client.form("/-/login/2fa", {"code": code_at(secret, clock)})
    assert response.status_code == 302 and response.headers["Location"] == "/-/login"
    assert not logged_in(client)


def test_rate_limit_counts_wrong_codes(login, app, clock):
    secret, _codes = enable(login("user"), clock)
    client, _response = password_step(app)
    good = code_at(secret, clock)
    wrong = "000000" if good != "000000" else "111111"
    limit = app.config["WIKI_LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert client.form("/-/login/2fa", {"code": wrong}).status_code == 401
    response = client.form("/-/login/2fa", {"code": good})
    assert response.status_code == 429
    assert not logged_in(client)
    # Knowing the password does not reset the count.
    again, response = password_step(app)
    assert response.status_code == 429
    assert not logged_in(again)


# --- switching off, new recovery codes ------------------------------------------------------


def test_disable_needs_password_and_code(login, app, clock):
    client = login("user")
    secret, _codes = enable(client, clock)
    good = code_at(secret, clock)
    wrong = "000000" if good != "000000" else "111111"
    for data in ({"password": "falsch", "code": good}, {"password": PASSWORD, "code": wrong}):
        response = client.form("/-/account", {"action": "totp-disable", **data})
        assert response.status_code == 400
        assert user_row(app).has_totp
    response = client.form(
        "/-/account", {"action": "totp-disable", "password": PASSWORD, "code": good}
    )
    assert response.status_code == 302
    row = user_row(app)
    assert not row.has_totp and row.totp_secret is None
    assert recovery_tokens(app, row.id) == []
    assert session_value(client, "wiki_2fa") is False
    fresh, response = password_step(app)
    assert response.headers["Location"] == "/" and logged_in(fresh)


def test_disable_with_a_recovery_code(login, app, clock):
    client = login("user")
    _secret, codes = enable(client, clock)
    response = client.form(
        "/-/account", {"action": "totp-disable", "password": PASSWORD, "code": codes[3]}
    )
    assert response.status_code == 302
    assert not user_row(app).has_totp


def test_new_recovery_codes_replace_the_old_ones(login, app, clock):
    client = login("user")
    secret, old = enable(client, clock)
    response = client.form(
        "/-/account", {"action": "totp-recovery", "code": code_at(secret, clock)}
    )
    assert response.status_code == 200
    new = CODE_RE.findall(response.get_data(as_text=True))
    assert len(new) == 8 and not set(new) & set(old)
    assert len(recovery_tokens(app, user_row(app).id)) == 8
    stale, _response = password_step(app)
    assert stale.form("/-/login/2fa", {"code": old[0]}).status_code == 401
    assert stale.form("/-/login/2fa", {"code": new[0]}).status_code == 302


def test_actions_need_the_right_state(login, app, clock):
    client = login("user")
    for action in ("totp-confirm", "totp-disable", "totp-recovery"):
        response = client.form(
            "/-/account", {"action": action, "password": PASSWORD, "code": "123456"}
        )
        assert response.status_code == 400, action
    enable(client, clock)
    assert client.form("/-/account", {"action": "totp-start"}).status_code == 400
    assert user_row(app).has_totp


def test_codes_are_checked_with_a_window_of_one_step(clock):
    secret = totp.new_secret()
    now = clock()
    step = int(now) // 30
    assert totp.matching_step(secret, code_at(secret, clock), now) == step
    assert totp.matching_step(secret, code_at(secret, clock, -30), now) == step - 1
    assert totp.matching_step(secret, code_at(secret, clock, 30), now) == step + 1
    assert totp.matching_step(secret, code_at(secret, clock, -90), now) is None
    assert totp.matching_step(secret, "12345", now) is None
    assert totp.matching_step(secret, "abcdef", now) is None


def test_enabling_two_factor_ends_other_sessions(app, clock):
    """A session stolen before 2FA was switched on does not survive it."""
    from conftest import log_in

    other = log_in(app, "user")
    assert other.get("/-/account").status_code == 200
    client = log_in(app, "user")
    enable(client, clock)
    assert client.get("/-/account").status_code == 200
    assert other.get("/-/account").status_code == 302
