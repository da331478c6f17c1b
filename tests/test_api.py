"""JSON API v1: tokens, read, list, save with base revision, conflicts, permissions."""

import re

from conftest import head, save


def api_token(client) -> str:
    response = client.form("/-/account", {"action": "api-token", "name": "Skript"})
    page = response.get_data(as_text=True)
    return re.search(r'id="new-token-value" readonly value="([A-Za-z0-9_\-]{20,})"', page).group(1)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_get_and_list_pages(client):
    data = client.get("/-/api/v1/pages/start").get_json()
    assert data["path"] == "start" and "markdown" in data and "html" in data
    assert len(data["revision"]) == 40
    listing = client.get("/-/api/v1/pages").get_json()
    assert "start" in [p["path"] for p in listing["pages"]]


def test_save_needs_bearer_token(login, app):
    before = head(app)
    cookie_client = login("user")
    response = cookie_client.put("/-/api/v1/pages/start", json={"text": "x", "base": before})
    assert response.status_code == 401
    assert head(app) == before


def test_save_with_token_then_conflict(login, app, client):
    token = api_token(login("user"))
    base = head(app)
    ok = client.put(
        "/-/api/v1/pages/api-seite",
        json={"text": "# API\nZeile", "message": "neu"},
        headers=bearer(token),
    )
    assert ok.status_code == 201, ok.get_json()
    base = ok.get_json()["revision"]
    first = client.put(
        "/-/api/v1/pages/api-seite",
        json={"text": "# API\nEins", "base": base},
        headers=bearer(token),
    )
    assert first.status_code == 200
    second = client.put(
        "/-/api/v1/pages/api-seite",
        json={"text": "# API\nZwei", "base": base},
        headers=bearer(token),
    )
    assert second.status_code == 409
    body = second.get_json()
    assert body["error"] == "conflict" and "Eins" in body["theirs"]
    assert client.get("/-/api/v1/pages/api-seite").get_json()["body"].strip().endswith("Eins")


def test_revoked_and_forged_tokens(login, app, client):
    user = login("user")
    token = api_token(user)
    assert (
        client.put("/-/api/v1/pages/x", json={"text": "x"}, headers=bearer("forged")).status_code
        == 401
    )
    page = user.get("/-/account").get_data(as_text=True)
    token_id = re.search(r'name="token_id" value="(\d+)"', page).group(1)
    user.form("/-/account", {"action": "revoke", "token_id": token_id})
    before = head(app)
    assert (
        client.put("/-/api/v1/pages/x", json={"text": "x"}, headers=bearer(token)).status_code
        == 401
    )
    assert head(app) == before


def test_bad_input_gets_clear_errors(login, app, client):
    token = api_token(login("user"))
    before = head(app)
    for path, payload in [
        ("../x", {"text": "x"}),
        ("ok", {"nope": 1}),
        ("ok", {"text": 5}),
        ("ok", {"text": "x", "base": "--output=x"}),
    ]:
        response = client.put(f"/-/api/v1/pages/{path}", json=payload, headers=bearer(token))
        assert response.status_code in (400, 404), (path, payload)
        assert response.is_json
    assert head(app) == before


def test_internal_pages_via_api(login, client):
    save(login("user"), "api-intern", "---\nvisibility: internal\n---\nx", base="")
    assert client.get("/-/api/v1/pages/api-intern").status_code == 404
    assert "api-intern" not in str(client.get("/-/api/v1/pages").get_json())
    assert login("user").get("/-/api/v1/pages/api-intern").status_code == 200
    changes = client.get("/-/api/v1/changes").get_json()["changes"]
    assert all(c["path"] != "api-intern" for c in changes)
