"""Fixtures: ``app`` (a fresh instance per test), ``client``, ``runner``, ``login(role)``."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from wiki import create_app
from wiki.cli import create_user, seed_files
from wiki.migrate import upgrade
from wiki.storage import Author

CSRF_RE = re.compile(r'name="csrf(?:-token" content|_token" value)="([^"]+)"')
PASSWORD = "correct horse battery"
ROLES = {
    "admin": ("admin", "Ada Admin", True),
    "user": ("alice", "Alice Mitglied", False),
    "other": ("bob", "Bob Beispiel", False),
}


class WikiClient(FlaskClient):
    """A test client that fills in the CSRF token the way a browser form would."""

    def csrf_token(self) -> str:
        page = self.get("/-/login" if not self._logged_in() else "/-/account")
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, "no CSRF token in page"
        return match.group(1)

    def _logged_in(self) -> bool:
        with self.session_transaction() as session:
            return "_user_id" in session

    def form(self, url: str, data: dict | None = None, **kwargs):
        """POST ``data`` as a form, with a valid CSRF token."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


def make_test_app(tmp_path, **overrides):
    """A fresh instance in ``tmp_path`` with the starter pages and three accounts."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WIKI_INSTANCE": str(tmp_path / "instance"),
        "WIKI_PASSWORD_METHOD": "pbkdf2:sha256:1",
        "WIKI_MAIL_WORKER": False,
        "WIKI_BASE_URL": "http://wiki.test",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = WikiClient
    state = app.extensions["wiki"]
    upgrade(state)
    state.store.init(seed_files(), author=Author("u-system", "system@noreply.invalid"))
    with app.app_context():
        state.syncer.sync()
        with state.sessions() as session:
            for handle, name, admin in ROLES.values():
                create_user(session, handle, name, f"{handle}@example.org", PASSWORD, admin)
            session.commit()
    return app


@pytest.fixture
def app(tmp_path):
    app = make_test_app(tmp_path)
    yield app
    app.extensions["wiki"].search.wait_idle()
    app.extensions["wiki"].search.close()
    app.extensions["wiki"].store.close()
    app.extensions["wiki"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def log_in(app, role: str) -> WikiClient:
    """A new client logged in as ``role`` (admin, user, other) or anonymous (``anon``)."""
    client = app.test_client()
    if role == "anon":
        return client
    handle = ROLES[role][0]
    response = client.form("/-/login", {"handle": handle, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def login(app):
    """``login(role)`` → a logged-in client; clients are cached per role within a test."""
    cache: dict[str, WikiClient] = {}

    def _login(role: str = "user") -> WikiClient:
        if role not in cache:
            cache[role] = log_in(app, role)
        return cache[role]

    return _login


def head(app) -> str:
    """The current commit of the test app's repository."""
    return app.extensions["wiki"].store.head()


def save(client, path, text, base=None, message="Test"):
    """Save a page through the editor form."""
    if base is None:
        base = client.application.extensions["wiki"].store.head()
        exists = client.application.extensions["wiki"].store.blob_id(path + ".md") is not None
        base = base if exists else ""
    return client.form(f"/-/edit/{path}", {"text": text, "base": base, "message": message})
