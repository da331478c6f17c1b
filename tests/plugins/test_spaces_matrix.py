"""The permission matrix of an app with the spaces and resolutions plugins: every route × role.

Each entry of ``CASES`` is (endpoint, request, expected status per role in ``ROLES`` order). The
request is a path (GET) or ``"METHOD path"``; ``{placeholders}`` are filled with real objects made
by the ``world`` fixture (the first revision, an announcement, invitations, tokens). Every
endpoint in ``app.url_map`` needs at least one case: a new route fails
``test_every_route_is_in_the_matrix`` until its expected answers are written down here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import make_resolutions_app, resolution_text
from matrix_support import (
    cases_of,
    csrf_problems,
    matrix_problems,
    misrouted,
    missing_routes,
    page_problems,
    stale_endpoints,
)

ROLES = ("anon", "user", "member_a", "board_a", "member_b", "board_b", "admin")

#: Answers per role, in ROLES order.
EVERYONE = (200, 200, 200, 200, 200, 200, 200)
NOBODY = (404, 404, 404, 404, 404, 404, 404)
NO_GET = (405, 405, 405, 405, 405, 405, 405)
LOGGED_IN = (302, 200, 200, 200, 200, 200, 200)
#: Reading a page (or anything of it) that only these may read; others: 404 like a missing page.
MEMBERS_A = (404, 404, 200, 200, 404, 404, 200)
BOARD_A = (404, 404, 404, 200, 404, 404, 200)
MEMBERS_B = (404, 404, 404, 404, 200, 200, 200)
MEMBERS_LV = (404, 404, 200, 200, 200, 200, 200)
#: Editing (login first; 404 if the page is hidden, 403 if readable but not editable).
EDIT_ANY = LOGGED_IN
EDIT_MEMBERS_A = (302, 404, 200, 200, 404, 404, 200)
EDIT_BOARD_A = (302, 404, 404, 200, 404, 404, 200)
EDIT_PUBLIC_IN_A = (302, 403, 200, 200, 403, 403, 200)
EDIT_MEMBERS_B = (302, 404, 404, 404, 200, 200, 200)
#: Managing a space (directory, invitations, requests): its board or an enclosing one, admins.
MANAGE_A = (302, 403, 403, 200, 403, 403, 200)
MANAGE_B = (302, 403, 403, 403, 403, 200, 200)
#: Space routes for members (contacts, announcements): login first, then 404 for non-members.
IN_A = (302, 404, 200, 200, 404, 404, 200)
IN_B = (302, 404, 404, 404, 200, 200, 200)
IN_LV = (302, 404, 200, 200, 200, 200, 200)
SPACE_MISSING = (302, 404, 404, 404, 404, 404, 404)
BAD_REQUEST = (400, 400, 400, 400, 400, 400, 400)
#: A redirect to a resolution's page, for those who may read it.
JUMP_EVERYONE = (302, 302, 302, 302, 302, 302, 302)
JUMP_MEMBERS_A = (404, 404, 302, 302, 404, 404, 302)

MEMBERS_PAGE = "lv/kv-a/protokoll"
BOARD_PAGE = "lv/kv-a/vorstand"
PUBLIC_IN_A = "lv/kv-a/oeffentlich"
DOCUMENT = f"{MEMBERS_PAGE}/protokoll.pdf"
#: Resolutions (committed by ``world``): members-only in A, public in A.
RESOLUTION_A = "lv/kv-a/beschluesse/2023/kva-kmv-2023-a1"
RESOLUTION_PUBLIC = "lv/kv-a/beschluesse/2023/kva-kmv-2023-a2"

CASES = [
    # -- core: pages
    ("pages.home", "/", EVERYONE),
    ("pages.view", "/hilfe", EVERYONE),
    ("pages.view", "/lv/kv-a", EVERYONE),
    ("pages.view", f"/{PUBLIC_IN_A}", EVERYONE),
    ("pages.view", f"/{MEMBERS_PAGE}", MEMBERS_A),
    ("pages.view", f"/{MEMBERS_PAGE}?rev={{first}}", MEMBERS_A),
    ("pages.view", f"/{BOARD_PAGE}", BOARD_A),
    ("pages.view", "/lv/kv-b/protokoll", MEMBERS_B),
    ("pages.view", "/lv/rundbrief", MEMBERS_LV),
    # membership goes up, never down: the members and board of A are no members of its OV
    ("pages.view", "/lv/kv-a/ov/treffen", (404, 404, 404, 404, 404, 404, 200)),
    ("pages.view", "/lv/kv-a/gibt-es-nicht", NOBODY),
    ("pages.view", "/gibt-es-nicht", NOBODY),
    ("pages.edit", "/-/edit/hilfe", EDIT_ANY),
    ("pages.edit", f"/-/edit/{MEMBERS_PAGE}", EDIT_MEMBERS_A),
    # hidden = missing: members of A get the editor of a new page (saving: "nicht verfügbar")
    ("pages.edit", f"/-/edit/{BOARD_PAGE}", EDIT_MEMBERS_A),
    ("pages.edit", f"/-/edit/{PUBLIC_IN_A}", EDIT_PUBLIC_IN_A),
    ("pages.edit", "/-/edit/lv/kv-a/neu", EDIT_MEMBERS_A),
    ("pages.edit", "/-/edit/lv/kv-b/protokoll", EDIT_MEMBERS_B),
    ("pages.new", "/-/new", LOGGED_IN),
    ("pages.new", "/-/new?parent=lv/kv-a", LOGGED_IN),
    ("pages.preview", "/-/preview", NO_GET),
    ("pages.raw", "/-/raw/hilfe", EVERYONE),
    ("pages.raw", f"/-/raw/{MEMBERS_PAGE}", MEMBERS_A),
    ("pages.raw", f"/-/raw/{MEMBERS_PAGE}?rev={{first}}", MEMBERS_A),
    ("pages.raw", f"/-/raw/{BOARD_PAGE}", BOARD_A),
    ("pages.backlinks", "/-/backlinks/hilfe", EVERYONE),
    ("pages.backlinks", f"/-/backlinks/{MEMBERS_PAGE}", MEMBERS_A),
    ("pages.backlinks", f"/-/backlinks/{BOARD_PAGE}", BOARD_A),
    ("pages.index", "/-/pages", EVERYONE),
    ("pages.index", "/-/pages?prefix=lv/kv-a", EVERYONE),
    ("pages.problems", "/-/problems", EVERYONE),
    ("pages.rename", f"/-/rename/{MEMBERS_PAGE}", EDIT_MEMBERS_A),
    ("pages.rename", f"/-/rename/{BOARD_PAGE}", EDIT_BOARD_A),
    ("pages.rename", f"/-/rename/{PUBLIC_IN_A}", EDIT_PUBLIC_IN_A),
    # a space's definition moves (and goes) only with the board above it (here: lv's), admins
    ("pages.rename", "/-/rename/lv/kv-a", (302, 403, 403, 403, 403, 403, 200)),
    ("pages.delete", f"/-/delete/{MEMBERS_PAGE}", EDIT_MEMBERS_A),
    ("pages.delete", f"/-/delete/{BOARD_PAGE}", EDIT_BOARD_A),
    ("pages.delete", f"/-/delete/{PUBLIC_IN_A}", EDIT_PUBLIC_IN_A),
    ("pages.delete", "/-/delete/lv/kv-a", (302, 403, 403, 403, 403, 403, 200)),
    ("pages.revert", f"/-/revert/{MEMBERS_PAGE}?rev={{first}}", EDIT_MEMBERS_A),
    ("pages.revert", f"/-/revert/{BOARD_PAGE}?rev={{first}}", EDIT_BOARD_A),
    # -- core: history and documents
    ("history.history", "/-/history/hilfe", EVERYONE),
    ("history.history", f"/-/history/{MEMBERS_PAGE}", MEMBERS_A),
    ("history.history", f"/-/history/{BOARD_PAGE}", BOARD_A),
    ("history.diff", f"/-/diff/{MEMBERS_PAGE}", MEMBERS_A),
    ("history.diff", f"/-/diff/{BOARD_PAGE}?from={{first}}", BOARD_A),
    ("history.changes", "/-/changes", EVERYONE),
    ("history.feed", "/-/changes.atom", EVERYONE),
    ("files.files", "/-/files/hilfe", EVERYONE),
    ("files.files", f"/-/files/{MEMBERS_PAGE}", MEMBERS_A),
    ("files.files", f"/-/files/{DOCUMENT}", MEMBERS_A),
    ("files.files", f"/-/files/{DOCUMENT}?rev={{first}}", MEMBERS_A),
    ("files.files", f"/-/files/{BOARD_PAGE}", BOARD_A),
    ("files.versions", f"/-/file-history/{DOCUMENT}", MEMBERS_A),
    ("files.delete", f"/-/file-delete/{DOCUMENT}", NO_GET),
    # -- core: accounts and administration
    ("account.login", "/-/login", (200, 302, 302, 302, 302, 302, 302)),
    ("account.login_2fa", "/-/login/2fa", (302, 302, 302, 302, 302, 302, 302)),
    ("account.logout", "/-/logout", NO_GET),
    ("account.account", "/-/account", LOGGED_IN),
    ("account.delete_account", "/-/account/delete", LOGGED_IN),
    ("account.export", "/-/account/export", LOGGED_IN),
    ("account.verify", "/-/verify/nope", NOBODY),
    ("account.reset_request", "/-/password-reset", EVERYONE),
    ("account.reset", "/-/password-reset/nope", NOBODY),
    ("account.me", "/-/me", LOGGED_IN),
    # The language switch only sets a cookie (no CSRF token needed) and redirects back.
    ("language.switch", "/-/language?lang=en&next=/", JUMP_EVERYONE),
    ("language.switch", "/-/language?lang=xx", BAD_REQUEST),
    ("admin.overview", "/-/admin/", (302, 403, 403, 403, 403, 403, 200)),
    ("admin.toggle_admin", "/-/admin/users/1/admin", NO_GET),
    # -- core: JSON API (writes need a bearer token; a session cookie is never enough)
    ("api.list_pages", "/-/api/v1/pages", EVERYONE),
    ("api.get_page", "/-/api/v1/pages/hilfe", EVERYONE),
    ("api.get_page", f"/-/api/v1/pages/{MEMBERS_PAGE}", MEMBERS_A),
    ("api.get_page", f"/-/api/v1/pages/{MEMBERS_PAGE}?rev={{first}}", MEMBERS_A),
    ("api.get_page", f"/-/api/v1/pages/{BOARD_PAGE}", BOARD_A),
    ("api.save_page", f"PUT /-/api/v1/pages/{MEMBERS_PAGE}", (401,) * 7),
    ("api.changes", "/-/api/v1/changes", EVERYONE),
    ("static", "/-/static/wiki.css", EVERYONE),
    # -- search (results are filtered: see test_spaces.py)
    ("search.search", "/-/search", EVERYONE),
    ("search.search", "/-/search?q=Geheime", EVERYONE),
    ("search.titles", "/-/search/titles?q=Proto", EVERYONE),
    ("search.api", "/-/api/v1/search?q=Geheime", EVERYONE),
    ("search.api", "/-/api/v1/search", (400,) * 7),
    # -- spaces: listing, directory, audit log, contacts, profile
    ("spaces.index", "/-/spaces/", EVERYONE),
    ("spaces.members", "/-/spaces/lv/kv-a/members", MANAGE_A),
    ("spaces.members", "/-/spaces/lv/kv-a/ov/members", MANAGE_A),
    ("spaces.members", "/-/spaces/lv/kv-b/members", MANAGE_B),
    ("spaces.members", "/-/spaces/lv/nirgends/members", SPACE_MISSING),
    ("spaces.members", "/-/spaces/hilfe/members", SPACE_MISSING),
    ("spaces.members_csv", "/-/spaces/lv/kv-a/members.csv", MANAGE_A),
    ("spaces.members_csv", "/-/spaces/lv/kv-b/members.csv", MANAGE_B),
    ("spaces.members_vcard", "/-/spaces/lv/kv-a/members.vcf", MANAGE_A),
    ("spaces.members_vcard", "/-/spaces/lv/kv-b/members.vcf", MANAGE_B),
    ("spaces.audit_log", "/-/spaces/lv/kv-a/audit", MANAGE_A),
    ("spaces.audit_log", "/-/spaces/lv/kv-b/audit", MANAGE_B),
    ("spaces.contacts", "/-/spaces/lv/kv-a/contacts", IN_A),
    ("spaces.contacts", "/-/spaces/lv/kv-b/contacts", IN_B),
    ("spaces.contacts", "/-/spaces/lv/contacts", IN_LV),
    ("spaces.profile", "/-/spaces/profile", LOGGED_IN),
    # -- spaces: announcements, documents, invitations, requests
    ("spaces.announcements", "/-/spaces/lv/kv-a/announcements", IN_A),
    ("spaces.announcements", "/-/spaces/lv/kv-b/announcements", IN_B),
    ("spaces.announcement", "/-/spaces/lv/kv-a/announcements/{announcement}", IN_A),
    ("spaces.announcement", "/-/spaces/lv/kv-b/announcements/{announcement}", SPACE_MISSING),
    ("spaces.documents", "/-/spaces/lv/kv-a/documents", EVERYONE),
    ("spaces.documents", "/-/spaces/lv/nirgends/documents", NOBODY),
    ("spaces.invitations", "/-/spaces/lv/kv-a/invitations", MANAGE_A),
    ("spaces.invitations", "/-/spaces/lv/kv-b/invitations", MANAGE_B),
    ("spaces.join_link", "/-/spaces/lv/kv-a/invitations/{link}", MANAGE_A),
    ("spaces.join_qr", "/-/spaces/lv/kv-a/invitations/{link}/qr.png", MANAGE_A),
    ("spaces.requests", "/-/spaces/lv/kv-a/requests", MANAGE_A),
    ("spaces.requests", "/-/spaces/lv/kv-b/requests", MANAGE_B),
    # -- spaces: public links (GET only shows a page; nothing is used up or changed)
    ("spaces_public.accept_invitation", "/-/invite/{invite}", EVERYONE),
    ("spaces_public.accept_invitation", "/-/invite/nope", NOBODY),
    ("spaces_public.join", "/-/join/{join}", EVERYONE),
    ("spaces_public.join", "/-/join/nope", NOBODY),
    ("spaces_public.unsubscribe", "/-/unsubscribe/{unsubscribe}", EVERYONE),
    ("spaces_public.unsubscribe", "/-/unsubscribe/nope", NOBODY),
    # -- resolutions: archive, lookup, exports, forms, API
    ("resolutions.archive", "/-/resolutions/", EVERYONE),
    ("resolutions.archive", "/-/resolutions/?scope=all&chapter=lv/kv-a&topic=Verkehr", EVERYONE),
    ("resolutions.archive", "/-/resolutions/?year=zwanzig", BAD_REQUEST),
    ("resolutions.archive", "/-/resolutions/?q=KVA-KMV-2023-A2", JUMP_EVERYONE),
    ("resolutions.lookup", "/-/resolutions/KVA-KMV-2023-A1", JUMP_MEMBERS_A),
    ("resolutions.lookup", "/-/resolutions/KVA-KMV-2023-A2", JUMP_EVERYONE),
    ("resolutions.lookup", "/-/resolutions/Gibt-es-nicht", NOBODY),
    ("resolutions.export_csv", "/-/resolutions/export.csv?scope=all", EVERYONE),
    ("resolutions.export_json", "/-/resolutions/export.json?scope=all", EVERYONE),
    ("resolutions.feed", "/-/resolutions/feed.atom", EVERYONE),
    ("resolutions.feed", "/-/resolutions/feed.atom?token=falsch", NOBODY),
    ("resolutions.book", "/-/resolutions/beschlussbuch?scope=all", EVERYONE),
    ("resolutions.new", "/-/resolutions/new", LOGGED_IN),
    ("resolutions.edit", f"/-/resolutions/edit/{RESOLUTION_A}", EDIT_MEMBERS_A),
    ("resolutions.edit", f"/-/resolutions/edit/{RESOLUTION_PUBLIC}", EDIT_PUBLIC_IN_A),
    ("resolutions.edit", "/-/resolutions/edit/lv/kv-a/gibt-es-nicht", SPACE_MISSING),
    ("pages.edit", f"/-/edit/{RESOLUTION_A}?quelltext=1", EDIT_MEMBERS_A),
    ("pages.view", f"/{RESOLUTION_A}?zeilen=1", MEMBERS_A),
    ("resolutions_api.list_resolutions", "/-/api/v1/resolutions?scope=all", EVERYONE),
    ("resolutions_api.list_resolutions", "/-/api/v1/resolutions?outcome=x", BAD_REQUEST),
    ("resolutions_api.get_resolution", "/-/api/v1/resolutions/KVA-KMV-2023-A1", MEMBERS_A),
    ("resolutions_api.get_resolution", "/-/api/v1/resolutions/KVA-KMV-2023-A2", EVERYONE),
]


@pytest.fixture
def app(tmp_path):
    app = make_resolutions_app(tmp_path)
    yield app
    state = app.extensions["wiki"]
    state.search.wait_idle()
    state.search.close()
    state.store.close()
    state.engine.dispose()


@pytest.fixture
def world(spaces):
    """Real objects for the placeholders of ``CASES``."""
    spaces.commit(
        {
            f"{RESOLUTION_A}.md": resolution_text(
                "KVA-KMV-2023-A1", decided="2023-05-01", topics=["Verkehr"]
            ),
            f"{RESOLUTION_PUBLIC}.md": resolution_text(
                "KVA-KMV-2023-A2", decided="2023-05-01", visibility="public"
            ),
        },
        "Beschlüsse",
    )
    from plugins.spaces import announce, invite
    from plugins.spaces.models import Announcement, Delivery, Invitation
    from wiki.auth import token_hash
    from wiki.db import User, utcnow

    values = {"first": spaces.head(), "invite": "einladung-" + "x" * 32}
    with spaces.app.test_request_context(), spaces.state.sessions() as session:
        board_a = session.get(User, spaces.user_id("board_a"))
        member_a = session.get(User, spaces.user_id("member_a"))
        announcement = Announcement(
            space="lv/kv-a",
            audience="members",
            subject="Einladung zur Mitgliederversammlung",
            body="Am Dienstag.",
            author_id=board_a.id,
        )
        session.add(announcement)
        session.flush()
        session.add(Delivery(announcement_id=announcement.id, user_id=member_a.id))
        session.add(
            Invitation(
                space="lv/kv-a",
                kind="personal",
                token_hash=token_hash(values["invite"]),
                email="neu@example.org",
                name="Neu Zugang",
                created_by=board_a.id,
                expires_at=utcnow() + timedelta(days=7),
            )
        )
        link = invite.create_link(session, "lv/kv-a", 7, 10, board_a)
        values["link"] = link.id
        values["join"] = invite.link_token(link)
        values["unsubscribe"] = announce.unsubscribe_token(session, member_a, None)[0]
        values["announcement"] = announcement.id
        session.commit()
    return values


@pytest.fixture
def matrix(world):
    return cases_of(CASES, world)


def test_every_route_is_in_the_matrix(app):
    missing = missing_routes(app.url_map.iter_rules(), CASES)
    assert not missing, (
        f"{len(missing)} route(s) missing from the permission matrix of the spaces app; add a "
        "case with the expected status per role to CASES in "
        "tests/plugins/test_spaces_matrix.py:\n" + "\n".join(missing)
    )


def test_the_matrix_names_only_existing_routes(app):
    stale = stale_endpoints(app, CASES)
    assert not stale, f"CASES name endpoints that no longer exist: {stale}"


def test_each_case_reaches_its_endpoint(app, matrix):
    """A case must test the route it is filed under (not another one matching the URL)."""
    wrong = misrouted(app, matrix)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(spaces, matrix, role):
    problems = matrix_problems(spaces.login(role), matrix, ROLES.index(role))
    assert not problems, f"{role}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ["board_a", "admin"])
def test_pages_have_csrf_tokens_and_no_inline_code(spaces, matrix, role):
    """Every POST form carries a CSRF token; no inline scripts, styles or event handlers."""
    problems = page_problems(spaces.login(role), matrix)
    assert not problems, "\n".join(problems)


#: POST routes that are deliberately exempt from the CSRF check, with the reason.
CSRF_EXEMPT = {
    "spaces_public.unsubscribe": "one-click unsubscribe by mail clients (RFC 8058); the secret "
    "token in the address authorises it, and it only ever switches mails off",
}


def test_every_post_route_refuses_a_missing_csrf_token(spaces, matrix):
    """Form routes that change state accept no POST without the CSRF token (the API is exempt:
    its writes need a bearer token)."""
    before = spaces.head()
    posting = sorted(
        rule.endpoint
        for rule in spaces.app.url_map.iter_rules()
        if "POST" in rule.methods
        and not rule.endpoint.startswith("api.")
        and rule.endpoint not in CSRF_EXEMPT
    )
    data = {"action": "add", "user": "bob", "text": "x"}
    problems = csrf_problems(spaces.login("board_a"), matrix, posting, data)
    assert not problems, "\n".join(problems)
    assert spaces.head() == before
    assert "lv/kv-a" not in spaces.principal("other").memberships
