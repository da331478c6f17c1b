"""Unreadable = missing, exactly (issue 9 item 8), and hidden actions (item 16).

A page the reader may not read answers byte for byte like a page that does not exist: same
status, same headers (apart from the date and the session cookie's value), same body. The test
compares the members-only page ``lv/kv-a/protokoll`` with the missing ``lv/kv-a/protokolx``
(same length and shape, in the same space, so the prospective permissions are the same too) and
replaces each path (and its last segment and title) by a placeholder before comparing.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from conftest import page_text

HIDDEN = "lv/kv-a/protokoll"
MISSING = "lv/kv-a/protokolx"
#: role → (unreadable page, missing path of the same shape). Members of lv/kv-a may create
#: pages there, so for them a board page is compared with a free name they could create.
PAIRS = {
    "anon": (HIDDEN, MISSING),
    "user": (HIDDEN, MISSING),
    "member_b": (HIDDEN, MISSING),
    "member_a": ("lv/kv-a/vorstand", "lv/kv-a/vorstanx"),
}
ROLES = list(PAIRS)
CSRF_RE = re.compile(r'(name="csrf(?:-token" content|_token" value)=")[^"]+"')
IGNORED_HEADERS = {"date", "set-cookie"}

GETS = [
    "/{path}",
    "/{path}?rev={head}",
    "/-/edit/{path}",
    "/-/edit/{path}?title={title}",
    "/-/backlinks/{path}",
    "/-/history/{path}",
    "/-/diff/{path}",
    "/-/raw/{path}",
    "/-/files/{path}",
    "/-/files/{path}/protokoll.pdf",
    "/-/rename/{path}",
    "/-/delete/{path}",
    "/-/revert/{path}?rev={head}",
    "/-/new?title={title}&parent=lv/kv-a",
    "/-/api/v1/pages/{path}",
]


def normalised(response, path: str) -> tuple:
    """Status, headers and body with ``path`` (also its last segment and title, escaped and
    URL-encoded) replaced by placeholders and CSRF tokens blanked."""
    segment = path.rsplit("/", 1)[-1]
    title = segment.capitalize()

    def clean(text: str) -> str:
        for value, mark in ((path, "<PATH>"), (title, "<TITLE>")):
            text = text.replace(quote(value, safe=""), mark).replace(value, mark)
        # The last segment alone (crumbs), not inside the document name ``protokoll.pdf``.
        text = re.sub(rf"\b{segment}\b(?!\.pdf)", "<SEG>", text)
        return CSRF_RE.sub(r'\1<CSRF>"', text)

    headers = sorted(
        (key.lower(), clean(value))
        for key, value in response.headers.items()
        if key.lower() not in IGNORED_HEADERS
    )
    cookies = sorted(c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie"))
    return response.status_code, headers, cookies, clean(response.get_data(as_text=True))


def fetch(client, url: str, path: str, head: str, method: str = "GET"):
    title = path.rsplit("/", 1)[-1].capitalize()
    target = url.format(path=path, head=head, title=title)
    if method == "POST":
        return client.form(target.split("?")[0], dict(_query(target)))
    return client.get(target)


def _query(url: str):
    _base, _sep, query = url.partition("?")
    for part in query.split("&") if query else []:
        key, _eq, value = part.partition("=")
        yield key, value


def assert_same(spaces, role: str, url: str, method: str = "GET"):
    head = spaces.head()
    hidden_path, missing_path = PAIRS[role]
    hidden = fetch(spaces.login(role), url, hidden_path, head, method)
    missing = fetch(spaces.login(role), url, missing_path, head, method)
    assert normalised(hidden, hidden_path) == normalised(missing, missing_path), (role, url)


@pytest.mark.parametrize("url", GETS)
@pytest.mark.parametrize("role", ROLES)
def test_an_unreadable_page_answers_exactly_like_a_missing_one(spaces, role, url):
    assert_same(spaces, role, url)


@pytest.mark.parametrize("url", ["/-/new?title={title}&parent=lv/kv-a"])
@pytest.mark.parametrize("role", ["anon", "user", "member_b"])
def test_new_page_form_does_not_tell_a_hidden_name_from_a_free_one(spaces, role, url):
    """Whoever may not create pages here hears exactly that, whether the name is taken or not
    (it used to say "nicht verfügbar" for a hidden page and "keine Berechtigung" otherwise)."""
    head = spaces.head()
    assert_same(spaces, role, url, method="POST")
    assert spaces.head() == head


def test_new_page_form_says_only_not_available_for_a_hidden_name(spaces):
    """Who may create pages here learns that the name is taken, and nothing more."""
    response = spaces.login("member_a").form("/-/new", {"title": "Vorstand", "parent": "lv/kv-a"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Dieser Seitenname ist nicht verfügbar." in body
    assert "Vorstandsnotizen" not in body


@pytest.mark.parametrize("role", ["member_a", "admin"])
def test_readers_still_see_the_page(spaces, role):
    assert spaces.login(role).get(f"/{HIDDEN}").status_code == 200


def test_the_paths_differ_only_in_their_name(spaces):
    """The premise of the comparison: same length, same space, one exists."""
    for role, (hidden, missing) in PAIRS.items():
        assert len(hidden) == len(missing)
        assert hidden.rsplit("/", 1)[0] == missing.rsplit("/", 1)[0]
        assert spaces.state.store.blob_id(f"{hidden}.md") is not None
        assert spaces.state.store.blob_id(f"{missing}.md") is None
        assert spaces.login(role).get(f"/{hidden}").status_code == 404


def test_saving_over_a_hidden_page_says_only_not_available(spaces):
    head = spaces.head()
    client = spaces.login("member_a")
    data = {"text": "Übernommen?", "base": head, "message": "x"}
    response = client.form("/-/edit/lv/kv-a/vorstand", data)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Dieser Seitenname ist nicht verfügbar." in body
    assert "Nur für den Vorstand" not in body
    assert spaces.head() == head


# -- item 16: actions a reader may not perform are not offered --------------------------------

ACTION_LINKS = {
    "edit": "/-/edit/{path}",
    "rename": "/-/rename/{path}",
    "delete": "/-/delete/{path}",
}


def _links(body: str, path: str) -> set[str]:
    return {name for name, url in ACTION_LINKS.items() if f'href="{url.format(path=path)}' in body}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anon", set()),
        ("user", set()),  # may read the public page of lv/kv-a, is no member
        ("member_b", set()),
        ("member_a", {"edit", "rename", "delete"}),
        ("admin", {"edit", "rename", "delete"}),
    ],
)
def test_page_actions_are_shown_only_to_who_may_do_them(spaces, role, expected):
    path = "lv/kv-a/oeffentlich"
    body = spaces.login(role).get(f"/{path}").get_data(as_text=True)
    assert _links(body, path) == expected


@pytest.mark.parametrize(("role", "shown"), [("user", False), ("member_a", True)])
def test_history_offers_restore_only_to_editors(spaces, role, shown):
    path = "lv/kv-a/oeffentlich"
    first = spaces.head()
    spaces.commit({f"{path}.md": page_text("Öffentliche Seite A", "Neu.", "public")})
    body = spaces.login(role).get(f"/-/history/{path}").get_data(as_text=True)
    assert (f"/-/revert/{path}?rev={first}" in body) is shown
    old = spaces.login(role).get(f"/{path}?rev={first}").get_data(as_text=True)
    assert (f"/-/revert/{path}?rev={first}" in old) is shown


@pytest.mark.parametrize(("role", "shown"), [("user", False), ("member_a", True)])
def test_files_offer_upload_and_delete_only_to_editors(spaces, role, shown):
    path = "lv/kv-a/oeffentlich"
    spaces.commit({f"{path}/_files/plan.pdf": b"%PDF-1.4\n%%EOF\n"})
    body = spaces.login(role).get(f"/-/files/{path}").get_data(as_text=True)
    assert ('enctype="multipart/form-data"' in body) is shown
    assert (f"/-/file-delete/{path}/plan.pdf" in body) is shown


@pytest.mark.parametrize(
    ("role", "manage", "move"),
    [
        ("member_a", False, False),
        ("board_a", True, False),  # manages lv/kv-a, but only the board of lv dissolves it
        ("board_lv", True, True),
    ],
)
def test_space_settings_and_moves_are_offered_only_to_who_may(spaces, role, manage, move):
    client = spaces.login(role)
    body = client.get("/lv/kv-a").get_data(as_text=True)
    assert ('href="/-/spaces/lv/kv-a/members"' in body) is manage
    assert ('href="/-/rename/lv/kv-a"' in body) is move
    assert ('href="/-/delete/lv/kv-a"' in body) is move
    assert client.get("/-/rename/lv/kv-a").status_code == (200 if move else 403)
    assert client.get("/-/delete/lv/kv-a").status_code == (200 if move else 403)
