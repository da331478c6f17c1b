"""Own data: the JSON export and deleting the own account (anonymised, history kept)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import PASSWORD, log_in, save
from sqlalchemy import select

from wiki.cli import create_user
from wiki.db import LoginAttempt, MailMessage, Token, User
from wiki.hookspecs import hookimpl

TOKEN_RE = re.compile(r'id="new-token-value" readonly value="([A-Za-z0-9_\-]{20,})"')


class RecordingPlugin:
    """A plugin that keeps a little data per user and notes the deletion hook."""

    def __init__(self, fail=False):
        self.fail = fail
        self.deleted: list[tuple[int, bool]] = []

    @hookimpl
    def wiki_user_data(self, user_id, session):
        return {"beispiel": {"user_id": user_id, "lieblingsfarbe": "grün"}}

    @hookimpl
    def wiki_user_deleted(self, user_id, session):
        user = session.get(User, user_id)
        # Called inside the transaction, before the row is anonymised.
        self.deleted.append((user_id, user.deleted_at is None))
        if self.fail:
            raise RuntimeError("plugin failed")


@pytest.fixture
def plugin(app):
    plugin = RecordingPlugin()
    app.extensions["wiki"].pm.register(plugin, name="recording")
    return plugin


def db(app):
    return app.extensions["wiki"].sessions()


def user_by_id(app, user_id) -> User:
    with db(app) as session:
        return session.get(User, user_id)


def alice(app) -> User:
    with db(app) as session:
        return session.scalar(select(User).where(User.handle == "alice"))


def snapshot(app, user_id):
    """Everything deletion would change about an account."""
    with db(app) as session:
        user = session.get(User, user_id)
        tokens = session.scalars(select(Token.id).where(Token.user_id == user_id)).all()
        return (
            user.handle,
            user.display_name,
            user.email,
            user.password_hash,
            user.deleted_at,
            user.is_admin,
            sorted(tokens),
        )


def api_token(client) -> str:
    response = client.form("/-/account", {"action": "api-token", "name": "Skript"})
    return TOKEN_RE.search(response.get_data(as_text=True)).group(1)


# --- export ---------------------------------------------------------------------------------


def test_export_contains_the_account_and_no_secrets(login, app, plugin):
    client = login("user")
    api_token(client)
    client.form("/-/account", {"action": "feed-token", "name": "Feedreader"})
    assert save(client, "exportseite", "# Export\nText", base="").status_code == 302
    client.form("/-/account", {"action": "totp-start"})

    response = client.get("/-/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ".json" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    data = json.loads(text)

    user = alice(app)
    account = data["account"]
    assert account["handle"] == "alice"
    assert account["display_name"] == "Alice Mitglied"
    assert account["email"] == "alice@example.org"
    assert account["public_id"] == user.public_id
    assert account["git_author"] == f"u-{user.public_id}"
    assert {(t["kind"], t["name"]) for t in data["tokens"]} >= {
        ("api", "Skript"),
        ("feed", "Feedreader"),
    }
    assert all(set(t) >= {"created_at", "last_used_at", "revoked_at"} for t in data["tokens"])
    assert "exportseite" in [c["path"] for c in data["changes"]]
    assert data["beispiel"] == {"user_id": user.id, "lieblingsfarbe": "grün"}

    # No password hash, no token hashes, no TOTP secret, no mail bodies.
    assert user.password_hash not in text and "password" not in text
    assert user.totp_secret and user.totp_secret not in text
    with db(app) as session:
        hashes = session.scalars(select(Token.token_hash).where(Token.user_id == user.id)).all()
        bodies = session.scalars(select(MailMessage.body)).all()
    assert hashes and not any(h in text for h in hashes)
    assert "token_hash" not in text
    assert not any(body in text for body in bodies)


def test_export_is_only_for_the_own_account(app, login):
    assert app.test_client().get("/-/account/export").status_code == 302
    data = login("other").get("/-/account/export").get_json()
    assert data["account"]["handle"] == "bob"
    assert "alice" not in json.dumps(data)


def test_plugin_sections_never_replace_the_core_parts(app, login):
    class Greedy:
        @hookimpl
        def wiki_user_data(self, user_id, session):
            return {"account": {"handle": "fake"}}

    app.extensions["wiki"].pm.register(Greedy(), name="greedy")
    data = login("user").get("/-/account/export").get_json()
    assert data["account"]["handle"] == "alice"
    assert data["account-2"] == {"handle": "fake"}


# --- deletion -------------------------------------------------------------------------------


def test_delete_account(login, app, plugin):
    client = login("user")
    user = alice(app)
    token = api_token(client)
    assert save(client, "meine-seite", "# Meine Seite\nText", base="").status_code == 302
    # Some failed logins and a queued mail for the account.
    app.test_client().form("/-/login", {"handle": "alice", "password": "falsch"})
    client.form(
        "/-/account", {"action": "email", "email": "alice@example.org", "password": PASSWORD}
    )
    second = log_in(app, "user")  # another session of the same person
    history = client.get("/-/history/meine-seite").get_data(as_text=True)
    assert "Alice Mitglied" in history

    page = client.get("/-/account/delete")
    assert page.status_code == 200
    assert 'name="confirm"' in page.get_data(as_text=True)
    response = client.form("/-/account/delete", {"password": PASSWORD, "confirm": "1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Dein Konto ist gelöscht" in client.get("/").get_data(as_text=True)

    # Logged out everywhere; the API token is gone.
    assert client.get("/-/account").status_code == 302
    assert second.get("/-/account").status_code == 302
    listing = app.test_client().get("/-/api/v1/pages", headers={"Authorization": f"Bearer {token}"})
    assert listing.status_code == 200  # answered as anonymous
    with db(app) as session:
        assert session.scalars(select(Token).where(Token.user_id == user.id)).all() == []
        keys = session.scalars(select(LoginAttempt.key)).all()
        assert "user:alice" not in keys
        recipients = session.scalars(select(MailMessage.recipient)).all()
        assert "alice@example.org" not in recipients

    # The row stays, anonymised; the public id is kept.
    row = user_by_id(app, user.id)
    assert row.deleted_at is not None
    assert row.public_id == user.public_id
    assert row.display_name == "ehemaliges Mitglied"
    assert row.handle == f"deleted-{user.public_id}"
    assert row.email == f"deleted-{user.public_id}@invalid"
    assert row.password_hash == "" and row.totp_secret is None and not row.is_admin
    assert plugin.deleted == [(user.id, True)]

    # History keeps the pseudonymous author and shows "ehemaliges Mitglied".
    revision = app.extensions["wiki"].store.history("meine-seite.md", limit=1)[0]
    assert revision.author_name == f"u-{user.public_id}"
    history = login("other").get("/-/history/meine-seite").get_data(as_text=True)
    assert "ehemaliges Mitglied" in history and "Alice Mitglied" not in history

    # The old password no longer logs in, neither by handle nor by address.
    for handle in ("alice", "alice@example.org", f"deleted-{user.public_id}"):
        response = app.test_client().form("/-/login", {"handle": handle, "password": PASSWORD})
        assert response.status_code == 401, handle

    # The handle is free for a new account, which gets a new public id.
    with app.app_context(), db(app) as session:
        new = create_user(session, "alice", "Alice Neu", "alice@example.org", "ein neues passwort")
        session.commit()
        assert new.public_id != user.public_id
    fresh = app.test_client()
    response = fresh.form("/-/login", {"handle": "alice", "password": "ein neues passwort"})
    assert response.status_code == 302
    history = app.test_client().get("/-/history/meine-seite").get_data(as_text=True)
    assert "ehemaliges Mitglied" in history and "Alice Neu" not in history


def test_delete_account_with_two_factor_login(login, app, plugin):
    client = login("user")
    client.form("/-/account", {"action": "totp-start"})
    with db(app) as session:
        user = session.scalar(select(User).where(User.handle == "alice"))
        user.totp_enabled_at = user.created_at
        session.commit()
        session_id = user.get_id()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = session_id  # as after a login with the second factor
    response = client.form("/-/account/delete", {"password": PASSWORD, "confirm": "1"})
    assert response.status_code == 302
    row = user_by_id(app, user.id)
    assert row.totp_secret is None and row.totp_enabled_at is None and not row.has_totp


@pytest.mark.parametrize(
    "data,message",
    [
        ({"password": "falsch", "confirm": "1"}, "Das Passwort ist falsch"),
        ({"password": PASSWORD}, "endgültig löschen möchtest"),
        ({"confirm": "1"}, "Das Passwort ist falsch"),
    ],
)
def test_bad_input_changes_nothing(login, app, plugin, data, message):
    client = login("user")
    api_token(client)
    user_id = alice(app).id
    before = snapshot(app, user_id)
    response = client.form("/-/account/delete", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app, user_id) == before
    assert plugin.deleted == []
    assert client.get("/-/account").status_code == 200  # still logged in


def test_wrong_passwords_on_delete_are_rate_limited(login, app):
    client = login("user")
    user_id = alice(app).id
    before = snapshot(app, user_id)
    for _ in range(app.config["WIKI_LOGIN_MAX_FAILURES"]):
        response = client.form("/-/account/delete", {"password": "falsch", "confirm": "1"})
        assert response.status_code == 400
    response = client.form("/-/account/delete", {"password": PASSWORD, "confirm": "1"})
    assert response.status_code == 429
    assert snapshot(app, user_id) == before


def test_the_last_admin_cannot_delete_the_account(app, login):
    client = login("admin")
    with db(app) as session:
        admin_id = session.scalar(select(User.id).where(User.handle == "admin"))
    before = snapshot(app, admin_id)
    page = client.get("/-/account/delete").get_data(as_text=True)
    assert "einzige Person mit Verwaltungsrechten" in page
    response = client.form("/-/account/delete", {"password": PASSWORD, "confirm": "1"})
    assert response.status_code == 409
    assert "einzige Person mit Verwaltungsrechten" in response.get_data(as_text=True)
    assert snapshot(app, admin_id) == before

    with db(app) as session:
        session.scalar(select(User).where(User.handle == "bob")).is_admin = True
        session.commit()
    response = client.form("/-/account/delete", {"password": PASSWORD, "confirm": "1"})
    assert response.status_code == 302
    assert user_by_id(app, admin_id).deleted_at is not None


def test_deletion_is_one_transaction(app, login):
    """A plugin failing in the deletion hook leaves the account as it was."""
    app.config["WIKI_RAISE_ERRORS"] = False
    plugin = RecordingPlugin(fail=True)
    app.extensions["wiki"].pm.register(plugin, name="failing")
    client = login("user")
    api_token(client)
    user_id = alice(app).id
    before = snapshot(app, user_id)
    response = client.form("/-/account/delete", {"password": PASSWORD, "confirm": "1"})
    assert response.status_code == 500
    assert plugin.deleted == [(user_id, True)]
    assert snapshot(app, user_id) == before
    assert client.get("/-/account").status_code == 200


def test_deleted_handle_prefix_is_reserved():
    from wiki import auth

    assert auth.handle_problems("deleted-0123456789abcdef")
    assert not auth.handle_problems("deletedfan")
