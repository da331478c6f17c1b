"""Account hardening (issue 9, items 2 and 7): e-mail changes need the password and count only
after verification, addresses are unique, lookups by address match verified addresses only and
refuse ambiguity; logout, password reset and e-mail change end sessions and reset links."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import PASSWORD, log_in, make_test_app, save
from sqlalchemy import create_engine, select, text

from plugins.spaces.models import Membership
from wiki import create_app
from wiki.cli import cli
from wiki.db import LoginAttempt, MailMessage, Token, User, utcnow
from wiki.mail import build_message
from wiki.migrate import alembic_config, upgrade

LV = (
    "---\ntype: space\nname: Landesverband\ncode: LV\nkind: landesverband\n"
    "default_visibility: members\n---\nLandesverband\n"
)
VERIFY_RE = re.compile(r"http://wiki\.test(/-/verify/[A-Za-z0-9_\-]+)")
RESET_RE = re.compile(r"http://wiki\.test(/-/password-reset/[A-Za-z0-9_\-]+)")


def account(app, handle: str) -> User:
    with app.extensions["wiki"].sessions() as db:
        return db.scalar(select(User).where(User.handle == handle))


def mails_to(app, address: str) -> list[MailMessage]:
    with app.extensions["wiki"].sessions() as db:
        return list(db.scalars(select(MailMessage).where(MailMessage.recipient == address)))


def change_email(client, address: str, password: str | None = PASSWORD):
    data = {"action": "email", "email": address}
    if password is not None:
        data["password"] = password
    return client.form("/-/account", data)


def logged_in(client) -> bool:
    return client.get("/-/account").status_code == 200


def same_cookie_client(app, client, name: str):
    """A second browser that got a copy of ``client``'s cookie ``name`` (and nothing else)."""
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    other = app.test_client()
    other.set_cookie(name, cookie.value)
    return other


# -- e-mail change ------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [None, "", "falsch"])
def test_email_change_needs_the_current_password(app, password):
    client = log_in(app, "user")
    before = account(app, "alice")
    response = change_email(client, "neu@example.org", password)
    assert response.status_code == 400
    assert "Das Passwort ist falsch." in response.get_data(as_text=True)
    after = account(app, "alice")
    assert (after.email, after.pending_email, after.session_generation) == (
        before.email,
        None,
        before.session_generation,
    )
    assert mails_to(app, "neu@example.org") == []
    # Wrong passwords count like failed logins.
    with app.extensions["wiki"].sessions() as db:
        assert "user:alice" in db.scalars(select(LoginAttempt.key)).all()


def test_guessing_the_password_in_the_email_form_is_rate_limited(app):
    client = log_in(app, "user")
    for _ in range(app.config["WIKI_LOGIN_MAX_FAILURES"]):
        assert change_email(client, "neu@example.org", "falsch").status_code == 400
    assert change_email(client, "neu@example.org", PASSWORD).status_code == 429
    assert account(app, "alice").pending_email is None


@pytest.mark.parametrize("address", ["BOB@example.org", "bob@EXAMPLE.ORG", " Bob@Example.org "])
def test_an_address_of_another_account_is_not_available_in_any_case(app, address):
    client = log_in(app, "user")
    response = change_email(client, address)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Diese E-Mail-Adresse ist nicht verfügbar" in html
    assert "bob" not in html.lower().replace(address.strip().lower(), "")  # names nobody
    alice = account(app, "alice")
    assert (alice.email, alice.pending_email) == ("alice@example.org", None)
    assert mails_to(app, address.strip()) == []


def test_new_address_is_pending_until_the_link_is_used(app):
    client = log_in(app, "user")
    response = change_email(client, "neu@example.org")
    assert response.status_code == 302
    alice = account(app, "alice")
    assert (alice.email, alice.pending_email) == ("alice@example.org", "neu@example.org")
    page = client.get("/-/account").get_data(as_text=True)
    assert "wartet auf Bestätigung" in page and "neu@example.org" in page
    [mail] = mails_to(app, "neu@example.org")
    link = VERIFY_RE.search(mail.body).group(1)
    # The old address stays in force: logging in and resetting the password use it.
    assert app.test_client().form(
        "/-/login", {"handle": "alice@example.org", "password": PASSWORD}
    ).status_code == (302)
    assert client.get(link).status_code == 302
    alice = account(app, "alice")
    assert (alice.email, alice.pending_email) == ("neu@example.org", None)
    assert alice.email_verified_at is not None
    assert client.get(link).status_code == 404  # once only


def test_only_the_newest_verification_link_confirms(app):
    client = log_in(app, "user")
    change_email(client, "erste@example.org")
    change_email(client, "zweite@example.org")
    first = VERIFY_RE.search(mails_to(app, "erste@example.org")[0].body).group(1)
    assert client.get(first).status_code == 404
    assert account(app, "alice").email == "alice@example.org"


def test_address_taken_meanwhile_is_not_switched_to(app):
    client = log_in(app, "user")
    change_email(client, "neu@example.org")
    link = VERIFY_RE.search(mails_to(app, "neu@example.org")[0].body).group(1)
    with app.extensions["wiki"].sessions() as db:  # bob got the address in between
        db.scalar(select(User).where(User.handle == "bob")).email = "NEU@example.org"
        db.commit()
    response = client.get(link, follow_redirects=True)
    assert "nicht mehr verfügbar" in response.get_data(as_text=True)
    alice = account(app, "alice")
    assert (alice.email, alice.pending_email) == ("alice@example.org", None)


# -- lookups by address: the board adds a member ------------------------------------------------


@pytest.fixture
def spaces_app(tmp_path):
    app = make_test_app(
        tmp_path, WIKI_PLUGINS=["plugins.spaces"], SPACES_DIRECTORY_REQUIRES_2FA=False
    )
    assert save(log_in(app, "admin"), "lv", LV).status_code == 302
    yield app
    app.extensions["wiki"].search.wait_idle()
    app.extensions["wiki"].store.close()
    app.extensions["wiki"].engine.dispose()


def add_by_board(app, who: str):
    return log_in(app, "admin").form(
        "/-/spaces/lv/members", {"action": "add", "user": who, "role": "member"}
    )


def members(app) -> set[str]:
    with app.extensions["wiki"].sessions() as db:
        return set(
            db.scalars(
                select(User.handle)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.space == "lv")
            )
        )


def verify(app, handle: str, address: str | None = None) -> None:
    with app.extensions["wiki"].sessions() as db:
        user = db.scalar(select(User).where(User.handle == handle))
        if address is not None:
            user.email = address
        user.email_verified_at = utcnow()
        db.commit()


def test_an_unverified_address_never_matches(spaces_app):
    response = add_by_board(spaces_app, "alice@example.org")  # alice never verified it
    assert response.status_code == 400
    assert "bestätigten E-Mail-Adresse" in response.get_data(as_text=True)
    assert members(spaces_app) == set()
    verify(spaces_app, "alice")
    assert add_by_board(spaces_app, "ALICE@example.org").status_code == 302
    assert members(spaces_app) == {"alice"}


def test_a_pending_address_is_not_used_until_verified(spaces_app):
    """The hijack: bob puts alice's new address on his account before she verifies hers."""
    verify(spaces_app, "bob")
    bob = log_in(spaces_app, "other")
    assert change_email(bob, "vorsitz@example.org").status_code == 302
    response = add_by_board(spaces_app, "vorsitz@example.org")
    assert response.status_code == 400
    assert members(spaces_app) == set()
    link = VERIFY_RE.search(mails_to(spaces_app, "vorsitz@example.org")[0].body).group(1)
    assert bob.get(link).status_code == 302
    assert add_by_board(spaces_app, "vorsitz@example.org").status_code == 302
    assert members(spaces_app) == {"bob"}


def test_an_ambiguous_address_is_refused_in_the_view(spaces_app):
    # Data from before addresses were unique: two verified accounts share one address.
    verify(spaces_app, "alice", "geteilt@example.org")
    verify(spaces_app, "bob", "Geteilt@Example.org")
    response = add_by_board(spaces_app, "geteilt@example.org")
    assert response.status_code == 400
    assert "Mehrere Zugänge haben diese E-Mail-Adresse" in response.get_data(as_text=True)
    assert members(spaces_app) == set()
    # The user name still works.
    assert add_by_board(spaces_app, "bob").status_code == 302
    assert members(spaces_app) == {"bob"}


@pytest.fixture
def spaces_cli(spaces_app):
    """Run ``verbandswiki`` on the instance of ``spaces_app``."""
    from wiki.plugins import make_plugin_manager

    instance = spaces_app.config["WIKI_INSTANCE"]
    with open(f"{instance}/config.py", "w", encoding="utf-8") as config:
        config.write(
            "SECRET_KEY = 'test-secret'\nWIKI_PLUGINS = ['plugins.spaces']\n"
            "WIKI_PASSWORD_METHOD = 'pbkdf2:sha256:1'\n"
        )
    make_plugin_manager(["plugins.spaces"]).hook.wiki_cli(cli=cli)

    def run(*args):
        return CliRunner().invoke(cli, [*args, "--instance", instance])

    return run


def test_cli_add_member_matches_verified_addresses_only_and_refuses_ambiguity(
    spaces_app, spaces_cli
):
    result = spaces_cli("space", "add-member", "lv", "alice@example.org")
    assert result.exit_code != 0
    assert "Kein Zugang mit dieser bestätigten E-Mail-Adresse" in result.output
    assert "Traceback" not in result.output
    verify(spaces_app, "alice", "geteilt@example.org")
    verify(spaces_app, "bob", "GETEILT@example.org")
    result = spaces_cli("space", "add-member", "lv", "geteilt@example.org")
    assert result.exit_code != 0
    assert "Mehrere Zugänge haben diese E-Mail-Adresse" in result.output
    assert members(spaces_app) == set()
    assert spaces_cli("space", "add-member", "lv", "alice").exit_code == 0
    assert members(spaces_app) == {"alice"}


def test_cli_user_add_refuses_an_address_in_use_in_any_case(spaces_app, spaces_cli):
    result = spaces_cli("user", "add", "carla", "--email", "ALICE@example.org")
    assert result.exit_code != 0 and "E-Mail-Adresse" in result.output
    assert account(spaces_app, "carla") is None
    result = spaces_cli("user", "add", "carla", "--email", "carla@example.org", "--verified")
    assert result.exit_code == 0, result.output
    assert account(spaces_app, "carla").email_verified_at is not None
    assert account(spaces_app, "alice").email_verified_at is None  # the default stays


# -- sessions -----------------------------------------------------------------------------------


def test_logout_ends_the_session_server_side(app):
    client = log_in(app, "user")
    copy = same_cookie_client(app, client, "session")
    assert logged_in(copy)  # the copied cookie works until the logout
    assert client.form("/-/logout").status_code == 302
    assert not logged_in(client)
    assert not logged_in(same_cookie_client(app, copy, "session"))


def test_logout_ends_remember_me_cookies(app):
    client = app.test_client()
    response = client.form("/-/login", {"handle": "alice", "password": PASSWORD, "remember": "1"})
    assert response.status_code == 302
    remembered = same_cookie_client(app, client, "remember_token")
    assert logged_in(remembered)
    stolen = same_cookie_client(app, client, "remember_token")
    assert client.form("/-/logout").status_code == 302
    assert not logged_in(stolen)
    # Logging in again works as before.
    assert logged_in(log_in(app, "user"))


def test_password_reset_ends_other_reset_links_and_sessions(app):
    other_session = log_in(app, "user")
    anonymous = app.test_client()
    for _ in range(2):
        assert anonymous.form("/-/password-reset", {"email": "alice@example.org"}).status_code == (
            302
        )
    first, second = (RESET_RE.search(m.body).group(1) for m in mails_to(app, "alice@example.org"))
    assert anonymous.get(second).status_code == 200
    response = anonymous.form(first, {"new": "ein ganz neues Passwort"})
    assert response.status_code == 302
    assert anonymous.get(second).status_code == 404
    assert anonymous.form(second, {"new": "noch ein Passwort!"}).status_code == 404
    assert not logged_in(other_session)
    with app.extensions["wiki"].sessions() as db:
        alice = db.scalar(select(User).where(User.handle == "alice"))
        open_links = db.scalars(
            select(Token).where(
                Token.user_id == alice.id,
                Token.kind == "reset",
                Token.used_at.is_(None),
                Token.revoked_at.is_(None),
            )
        ).all()
        assert open_links == []


def test_email_change_ends_other_sessions_and_reset_links(app):
    client = log_in(app, "user")
    other_session = log_in(app, "user")
    anonymous = app.test_client()
    anonymous.form("/-/password-reset", {"email": "alice@example.org"})
    [mail] = mails_to(app, "alice@example.org")
    link = RESET_RE.search(mail.body).group(1)
    assert anonymous.get(link).status_code == 200
    assert change_email(client, "neu@example.org").status_code == 302
    assert logged_in(client)  # the session that asked goes on
    assert not logged_in(other_session)
    assert anonymous.get(link).status_code == 404


def test_two_factor_and_password_fingerprints_still_end_sessions(app):
    other_session = log_in(app, "user")
    client = log_in(app, "user")
    response = client.form(
        "/-/account", {"action": "password", "current": PASSWORD, "new": "ein neues Passwort"}
    )
    assert response.status_code == 302
    assert logged_in(client) and not logged_in(other_session)


# -- migration ----------------------------------------------------------------------------------


def test_upgrade_from_0002_keeps_existing_accounts_and_queued_mail(tmp_path):
    from alembic import command

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WIKI_INSTANCE": str(tmp_path / "instance"),
        "WIKI_PASSWORD_METHOD": "pbkdf2:sha256:1",
        "WIKI_MAIL_WORKER": False,
    }
    app = create_app(config)
    state = app.extensions["wiki"]
    command.upgrade(alembic_config(state), "0002_core")
    engine = create_engine(str(state.engine.url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (public_id, handle, display_name, email, password_hash, "
                "is_admin, created_at) VALUES ('abc123', 'alt', 'Alt', 'alt@example.org', "
                "'x', 0, '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO mail_queue (message_id, recipient, subject, body, headers, status, "
                "attempts, next_attempt_at, last_error, created_at) VALUES ('<m1@localhost>', "
                "'alt@example.org', 'Alt', 'Text', '{}', 'queued', 0, '2026-01-01 00:00:00', '', "
                "'2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    upgrade(state)
    with state.sessions() as db:
        user = db.scalar(select(User).where(User.handle == "alt"))
        assert (user.email, user.pending_email, user.session_generation) == (
            "alt@example.org",
            None,
            0,
        )
        assert user.get_id() == "abc123:x"  # sessions issued before the upgrade stay valid
        row = db.scalar(select(MailMessage))
        assert row.html is None
        message = build_message(row, "Wiki <wiki@example.org>")
        assert message.get_content_type() == "text/plain" and message.get_content() == "Text\n"
    state.store.close()
    state.engine.dispose()
