"""CSRF sweep, the permission matrix over every route, login rate limit, safe next=, headers."""

import re

import pytest
from conftest import head, log_in, save

from wiki.db import User

# Every route in url_map with what each role gets for GET (and for POST where it changes state).
# Values: expected status code; "any" for pages whose answer depends on data, never a 5xx.
# Roles: anon, user (logged in), admin.
MATRIX = {
    # endpoint: (url, {role: status})
    "pages.home": ("/", {"anon": 200, "user": 200, "admin": 200}),
    "pages.view": ("/hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "pages.edit": ("/-/edit/hilfe", {"anon": 302, "user": 200, "admin": 200}),
    "pages.new": ("/-/new", {"anon": 302, "user": 200, "admin": 200}),
    "pages.preview": ("/-/preview", {"anon": 405, "user": 405, "admin": 405}),
    "pages.raw": ("/-/raw/hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "pages.backlinks": ("/-/backlinks/hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "pages.index": ("/-/pages", {"anon": 200, "user": 200, "admin": 200}),
    "pages.problems": ("/-/problems", {"anon": 200, "user": 200, "admin": 200}),
    "pages.rename": ("/-/rename/hilfe", {"anon": 302, "user": 200, "admin": 200}),
    "pages.delete": ("/-/delete/hilfe", {"anon": 302, "user": 200, "admin": 200}),
    "pages.revert": ("/-/revert/hilfe?rev={head}", {"anon": 302, "user": 200, "admin": 200}),
    "history.history": ("/-/history/hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "history.diff": ("/-/diff/hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "history.changes": ("/-/changes", {"anon": 200, "user": 200, "admin": 200}),
    "history.feed": ("/-/changes.atom", {"anon": 200, "user": 200, "admin": 200}),
    "files.files": ("/-/files/hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "files.versions": ("/-/file-history/hilfe/x.pdf", {"anon": 404, "user": 404, "admin": 404}),
    "files.delete": ("/-/file-delete/hilfe/x.pdf", {"anon": 405, "user": 405, "admin": 405}),
    "account.login": ("/-/login", {"anon": 200, "user": 302, "admin": 302}),
    "account.login_2fa": ("/-/login/2fa", {"anon": 302, "user": 302, "admin": 302}),
    "account.logout": ("/-/logout", {"anon": 405, "user": 405, "admin": 405}),
    "account.account": ("/-/account", {"anon": 302, "user": 200, "admin": 200}),
    "account.export": ("/-/account/export", {"anon": 302, "user": 200, "admin": 200}),
    "account.delete_account": ("/-/account/delete", {"anon": 302, "user": 200, "admin": 200}),
    "account.verify": ("/-/verify/nope", {"anon": 404, "user": 404, "admin": 404}),
    "account.reset_request": ("/-/password-reset", {"anon": 200, "user": 200, "admin": 200}),
    "account.reset": ("/-/password-reset/nope", {"anon": 404, "user": 404, "admin": 404}),
    "account.me": ("/-/me", {"anon": 302, "user": 200, "admin": 200}),
    "language.switch": ("/-/language?lang=en&next=/", {"anon": 302, "user": 302, "admin": 302}),
    "admin.overview": ("/-/admin/", {"anon": 302, "user": 403, "admin": 200}),
    "admin.toggle_admin": ("/-/admin/users/1/admin", {"anon": 405, "user": 405, "admin": 405}),
    "api.list_pages": ("/-/api/v1/pages", {"anon": 200, "user": 200, "admin": 200}),
    "api.get_page": ("/-/api/v1/pages/hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "api.save_page": ("/-/api/v1/pages/hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "api.changes": ("/-/api/v1/changes", {"anon": 200, "user": 200, "admin": 200}),
    "search.search": ("/-/search?q=hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "search.titles": ("/-/search/titles?q=hi", {"anon": 200, "user": 200, "admin": 200}),
    "search.api": ("/-/api/v1/search?q=hilfe", {"anon": 200, "user": 200, "admin": 200}),
    "static": ("/-/static/wiki.css", {"anon": 200, "user": 200, "admin": 200}),
}

#: Routes that accept POST with the session cookie (and so need a CSRF token).
POST_ROUTES = {
    "pages.edit": "/-/edit/start",
    "pages.new": "/-/new",
    "pages.preview": "/-/preview",
    "pages.rename": "/-/rename/start",
    "pages.delete": "/-/delete/start",
    "pages.revert": "/-/revert/start?rev={head}",
    "files.files": "/-/files/start",
    "files.delete": "/-/file-delete/start/x.pdf",
    "account.login": "/-/login",
    "account.login_2fa": "/-/login/2fa",
    "account.logout": "/-/logout",
    "account.account": "/-/account",
    "account.delete_account": "/-/account/delete",
    "account.reset_request": "/-/password-reset",
    "account.reset": "/-/password-reset/nope",
    "admin.toggle_admin": "/-/admin/users/2/admin",
}


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(MATRIX)
    assert not missing, f"routes missing from the permission matrix: {sorted(missing)}"


def test_every_post_route_is_in_the_csrf_sweep(app):
    posting = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.endpoint.startswith("api.")
    }
    assert posting == set(POST_ROUTES)


@pytest.mark.parametrize("role", ["anon", "user", "admin"])
def test_permission_matrix(app, role):
    client = log_in(app, role)
    for endpoint, (url, expected) in MATRIX.items():
        if endpoint == "api.save_page":
            continue  # GET on the same URL is api.get_page
        response = client.get(url.format(head=head(app)))
        assert response.status_code == expected[role], (endpoint, role, response.status_code)


#: POST with a valid CSRF token: what each role gets (state-changing routes only).
POST_MATRIX = {
    "pages.edit": {"anon": 302, "user": 302, "admin": 302},
    "pages.rename": {"anon": 302, "user": 302, "admin": 302},
    "pages.delete": {"anon": 302, "user": 302, "admin": 302},
    "files.delete": {"anon": 302, "user": 404, "admin": 404},
    "admin.toggle_admin": {"anon": 302, "user": 403, "admin": 302},
    "account.account": {"anon": 302, "user": 200, "admin": 200},
}


@pytest.mark.parametrize("role", ["anon", "user", "admin"])
def test_post_permissions(app, role):
    """Anonymous writes go to the login page and change nothing; admin routes refuse users."""
    client = log_in(app, role)
    for endpoint, expected in POST_MATRIX.items():
        before = head(app)
        url = POST_ROUTES[endpoint].format(head=before)
        if endpoint == "pages.rename":
            url = "/-/rename/spielwiese"
        data = {
            "text": "x",
            "base": before,
            "new_path": f"ziel-{role}",
            "admin": "0",
            "action": "none-such",
        }
        response = client.form(url, data)
        status = response.status_code
        if endpoint == "account.account" and role != "anon":
            assert status == 400  # unknown action: a clear 400, nothing changed
        else:
            assert status == expected[role], (endpoint, role, status)
        if role == "anon" or status in (403, 404):
            assert head(app) == before, endpoint
        if role == "anon":
            assert "/-/login" in response.headers["Location"]


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_post_without_csrf_token_is_refused(app, endpoint):
    client = log_in(app, "admin")
    before = head(app)
    with app.extensions["wiki"].sessions() as session:
        users_before = [
            (u.display_name, u.is_admin, u.password_hash)
            for u in session.query(User).order_by(User.id)
        ]
    url = POST_ROUTES[endpoint].format(head=before)
    data = {
        "text": "x",
        "base": before,
        "new_path": "anders",
        "rev": before,
        "title": "Neu",
        "action": "profile",
        "display_name": "Hacker",
        "admin": "1",
        "handle": "admin",
        "password": "x",
        "email": "admin@example.org",
        "new": "x" * 20,
    }
    for forged in (None, "forged-token"):
        payload = dict(data)
        if forged:
            payload["csrf_token"] = forged
        response = client.post(url, data=payload)
        assert response.status_code == 400, (endpoint, response.status_code)
        assert "Sicherheitstoken" in response.get_data(as_text=True)
    assert head(app) == before
    with app.extensions["wiki"].sessions() as session:
        users_after = [
            (u.display_name, u.is_admin, u.password_hash)
            for u in session.query(User).order_by(User.id)
        ]
    assert users_after == users_before
    assert client.get("/-/account").status_code == 200  # still logged in


def test_login_rate_limit(app):
    client = app.test_client()
    for _ in range(5):
        response = client.form("/-/login", {"handle": "alice", "password": "falsch"})
        assert response.status_code == 401
    response = client.form("/-/login", {"handle": "alice", "password": "correct horse battery"})
    assert response.status_code == 429


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/hilfe", "/hilfe"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_next_only_same_site(app, target, expected):
    client = app.test_client()
    response = client.form(
        "/-/login", {"handle": "alice", "password": "correct horse battery", "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_logout_is_post_only(app):
    client = log_in(app, "user")
    assert client.get("/-/logout").status_code == 405
    assert client.form("/-/logout").status_code == 302
    assert client.get("/-/account").status_code == 302


def test_security_headers_everywhere(client):
    for url in ("/", "/-/login", "/nope", "/-/api/v1/pages"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_load_nothing_from_elsewhere(login):
    client = login("user")
    for url in ("/", "/-/edit/start", "/-/pages", "/-/history/start", "/-/account"):
        html = client.get(url).get_data(as_text=True)
        for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"(https?:)?//", attr) or "wiki.test" in attr, (url, attr)
        assert "<script>" not in html and " onclick=" not in html and 'style="' not in html


def test_password_change_ends_other_sessions(app):
    first, second = log_in(app, "user"), log_in(app, "user")
    response = first.form(
        "/-/account",
        {"action": "password", "current": "correct horse battery", "new": "ein neues passwort"},
    )
    assert response.status_code == 302
    assert first.get("/-/account").status_code == 200
    assert second.get("/-/account").status_code == 302


def test_commit_author_is_pseudonymous(login, app):
    save(login("user"), "pseudo", "x", base="")
    revision = app.extensions["wiki"].store.history("pseudo.md", limit=1)[0]
    assert revision.author_name.startswith("u-")
    assert "alice" not in revision.author_name.lower() + revision.author_email.lower()
    assert revision.author_email.endswith("@noreply.invalid")
    history = login("user").get("/-/history/pseudo").get_data(as_text=True)
    assert "Alice Mitglied" in history


def test_password_change_guesses_are_rate_limited(app):
    client = log_in(app, "user")
    with app.extensions["wiki"].sessions() as session:
        before = session.query(User).filter_by(handle="alice").one().password_hash
    for _ in range(5):
        response = client.form(
            "/-/account", {"action": "password", "current": "geraten", "new": "x" * 12}
        )
        assert response.status_code == 400
    response = client.form(
        "/-/account",
        {"action": "password", "current": "correct horse battery", "new": "ein neues passwort"},
    )
    assert response.status_code == 429
    with app.extensions["wiki"].sessions() as session:
        assert session.query(User).filter_by(handle="alice").one().password_hash == before
