"""The spaces' permission rules: ``can(read)`` agrees with the read allow-set and its SQL
translation on random space trees, memberships and pages; and the edit/widen/manage rules.

The property test registers the real plugin object (its ``wiki_permission`` and
``wiki_read_filter`` hooks) with a fixed space map, and also checks both against an oracle
written straight from the design.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pluggy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, MetaData, String, Table, create_engine, delete, insert, select

from plugins.spaces import SpacesPlugin, rules
from wiki import hookspecs
from wiki.acl import ANONYMOUS, Acl, PageRef, Principal
from wiki.pages import VISIBILITIES, parent_paths
from wiki.queries import read_clause

NOW = datetime(2026, 6, 1, 12, 0, 0)
SEGMENTS = ("a", "b", "c")
#: Every folder a space or page may sit in: a, a/b, a/b/c, … (three levels, 39 paths).
FOLDERS = [
    "/".join(parts) for depth in (1, 2, 3) for parts in itertools.product(SEGMENTS, repeat=depth)
]
TERMS = {"none": None, "past": NOW - timedelta(days=1), "future": NOW + timedelta(days=1)}


def make_acl(space_map: dict[str, rules.SpaceInfo], edit_policy: str = "users") -> Acl:
    """The core ACL with the spaces plugin object registered, seeing ``space_map``."""
    plugin = SpacesPlugin(state=None)
    plugin.spaces = lambda session=None: space_map
    pm = pluggy.PluginManager("verbandswiki")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="plugins.spaces:app")
    return Acl(pm, edit_policy=edit_policy)


# -- strategies -------------------------------------------------------------------------------


@st.composite
def space_maps(draw) -> dict[str, rules.SpaceInfo]:
    paths = draw(st.lists(st.sampled_from(FOLDERS), unique=True, max_size=8))
    return {
        path: rules.SpaceInfo(
            path,
            edit=draw(st.sampled_from(rules.EDIT_MODES)),
            default_visibility=draw(st.sampled_from(VISIBILITIES)),
        )
        for path in paths
    }


@st.composite
def worlds(draw):
    """(space map, membership rows per principal, principals, pages, WIKI default)."""
    space_map = draw(space_maps())
    default = draw(st.sampled_from(("public", "internal")))
    spaces = sorted(space_map)
    membership = st.tuples(
        st.sampled_from(spaces) if spaces else st.nothing(),
        st.sampled_from(rules.ROLES),
        st.sampled_from(sorted(TERMS)),
    )
    people = draw(
        st.lists(
            st.tuples(
                st.sampled_from(("anonymous", "user", "admin")),
                st.lists(membership, max_size=4) if spaces else st.just([]),
            ),
            min_size=1,
            max_size=6,
        )
    )
    principals = []
    for index, (kind, rows) in enumerate(people):
        if kind == "anonymous":
            principals.append((ANONYMOUS, []))
            continue
        raw = [(space, role, TERMS[term]) for space, role, term in rows]
        principals.append(
            (
                Principal(
                    user_id=index + 1,
                    public_id=f"p{index}",
                    is_admin=kind == "admin",
                    memberships=rules.effective_memberships(raw, NOW),
                ),
                raw,
            )
        )
    page_specs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(FOLDERS),
                st.sampled_from(("", "/x")),
                st.sampled_from((None, *VISIBILITIES)),
            ),
            min_size=1,
            max_size=12,
        )
    )
    pages = {}
    for folder, leaf, visibility in page_specs:
        path = folder + leaf
        space = rules.nearest_space(path, space_map)
        fallback = space_map[space].default_visibility if space else default
        pages[path] = PageRef(path, visibility or fallback, space)
    return space_map, principals, list(pages.values())


def oracle_read(principal: Principal, raw_rows, page: PageRef) -> bool:
    """The read rule of the design, from the raw membership rows."""
    if principal.is_admin or page.visibility == "public":
        return True
    if page.visibility == "internal":
        return principal.logged_in
    if page.space is None:
        return False
    if page.visibility == "members":
        return any(
            space == page.space or space.startswith(page.space + "/") for space, _, _ in raw_rows
        )
    return any(
        space == page.space and role == "board" and (term is None or term >= NOW)
        for space, role, term in raw_rows
    )


# -- the property -----------------------------------------------------------------------------

ENGINE = create_engine("sqlite://")
TABLE = Table(
    "pages",
    MetaData(),
    Column("path", String, primary_key=True),
    Column("visibility", String),
    Column("space", String),
)
TABLE.metadata.create_all(ENGINE)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_can_read_agrees_with_read_filter_and_sql(world):
    space_map, principals, pages = world
    acl = make_acl(space_map)
    with ENGINE.begin() as conn:
        conn.execute(delete(TABLE))
        conn.execute(
            insert(TABLE),
            [{"path": p.path, "visibility": p.visibility, "space": p.space} for p in pages],
        )
        for principal, raw_rows in principals:
            read_filter = acl.read_filter(principal)
            in_sql = set(
                conn.scalars(
                    select(TABLE.c.path).where(
                        read_clause(read_filter, TABLE.c.visibility, TABLE.c.space)
                    )
                )
            )
            for page in pages:
                expected = acl.can(principal, "read", page)
                assert read_filter.allows(page.visibility, page.space) == expected, (
                    principal,
                    page,
                )
                assert (page.path in in_sql) == expected, (principal, page)
                assert oracle_read(principal, raw_rows, page) == expected, (principal, page)


@settings(max_examples=200, deadline=None)
@given(space_maps(), st.sampled_from(FOLDERS), st.sampled_from(FOLDERS))
def test_membership_implies_exactly_the_enclosing_spaces(space_map, space, other):
    memberships = rules.effective_memberships([(space, "member", None)], NOW)
    principal = Principal(user_id=1, public_id="p", memberships=memberships)
    inside = other == space or space.startswith(other + "/")
    assert rules.is_member(principal, other) == inside
    assert not rules.is_board(principal, other)


# -- edit, widen and manage -------------------------------------------------------------------

SPACE_MAP = {
    "lv": rules.SpaceInfo("lv", edit="members", default_visibility="internal"),
    "lv/kv-a": rules.SpaceInfo("lv/kv-a", edit="members", default_visibility="members"),
    "lv/kv-b": rules.SpaceInfo("lv/kv-b", edit="board", default_visibility="members"),
    "lv/kv-a/ov": rules.SpaceInfo("lv/kv-a/ov", edit="members", default_visibility="members"),
}


def person(direct: dict[str, str]) -> Principal:
    """A logged-in principal with these direct memberships ({space: role})."""
    rows = [(space, role, None) for space, role in direct.items()]
    return Principal(user_id=7, public_id="p", memberships=rules.effective_memberships(rows, NOW))


MEMBER_A = person({"lv/kv-a": "member"})
BOARD_A = person({"lv/kv-a": "board"})
MEMBER_OV = person({"lv/kv-a/ov": "member"})
BOARD_LV = person({"lv": "board"})
MEMBER_B = person({"lv/kv-b": "member"})
BOARD_B = person({"lv/kv-b": "board"})
USER = Principal(user_id=8, public_id="u")
ADMIN = Principal(user_id=9, public_id="adm", is_admin=True)
PRINCIPALS = {
    "anon": ANONYMOUS,
    "user": USER,
    "member_a": MEMBER_A,
    "board_a": BOARD_A,
    "member_ov": MEMBER_OV,
    "board_lv": BOARD_LV,
    "member_b": MEMBER_B,
    "board_b": BOARD_B,
    "admin": ADMIN,
}


def test_principals_are_built_as_intended():
    assert MEMBER_OV.memberships == {"lv/kv-a/ov": "member", "lv/kv-a": "member", "lv": "member"}
    assert BOARD_A.memberships == {"lv/kv-a": "board", "lv": "member"}


def allowed(action: str, page: PageRef) -> set[str]:
    acl = make_acl(SPACE_MAP)
    return {name for name, principal in PRINCIPALS.items() if acl.can(principal, action, page)}


@pytest.mark.parametrize(
    "page,editors",
    [
        # edit: members of the space who may read the page
        (PageRef("lv/kv-a/p", "members", "lv/kv-a"), {"member_a", "board_a", "member_ov"}),
        (PageRef("lv/kv-a/p", "public", "lv/kv-a"), {"member_a", "board_a", "member_ov"}),
        (PageRef("lv/kv-a/p", "board", "lv/kv-a"), {"board_a"}),
        # edit: board → the board of exactly that space
        (PageRef("lv/kv-b/p", "public", "lv/kv-b"), {"board_b"}),
        (PageRef("lv/kv-b/p", "members", "lv/kv-b"), {"board_b"}),
        # the LV: every member of a space inside it
        (
            PageRef("lv/p", "internal", "lv"),
            {"member_a", "board_a", "member_ov", "board_lv", "member_b", "board_b"},
        ),
        (PageRef("lv/kv-a/ov/p", "members", "lv/kv-a/ov"), {"member_ov"}),
        # a space's definition page: its members, and the boards that manage the space
        (PageRef("lv/kv-a", "public", "lv/kv-a"), {"member_a", "board_a", "member_ov", "board_lv"}),
    ],
)
def test_edit_rule(page, editors):
    assert allowed("edit", page) == editors | {"admin"}


@pytest.mark.parametrize(
    "page,boards",
    [
        (PageRef("lv/kv-a/p", "members", "lv/kv-a"), {"board_a", "board_lv"}),
        (PageRef("lv/kv-a/p", "board", "lv/kv-a"), {"board_a", "board_lv"}),
        (PageRef("lv/kv-a/ov/p", "members", "lv/kv-a/ov"), {"board_a", "board_lv"}),
        (PageRef("lv/kv-b/p", "members", "lv/kv-b"), {"board_b", "board_lv"}),
        (PageRef("lv/p", "members", "lv"), {"board_lv"}),
    ],
)
@pytest.mark.parametrize("action", ["widen", "manage"])
def test_widen_and_manage_need_the_board_of_the_space_or_above(page, boards, action):
    assert allowed(action, page) == boards | {"admin"}


def test_outside_spaces_the_core_decides():
    acl = make_acl(SPACE_MAP)
    public = PageRef("hilfe", "public", None)
    assert acl.can(USER, "edit", public) and acl.can(USER, "widen", public)
    assert not acl.can(ANONYMOUS, "edit", public)
    assert not acl.can(BOARD_LV, "manage", public)
    assert not make_acl(SPACE_MAP, edit_policy="admins").can(MEMBER_A, "edit", public)
    assert rules.can(MEMBER_A, "edit", public, SPACE_MAP) is None
    # A page whose space is no longer a space: no opinion either.
    assert rules.can(MEMBER_A, "read", PageRef("x/p", "members", "x"), SPACE_MAP) is None


def test_an_expired_board_term_gives_no_board_rights():
    rows = [("lv/kv-a", "board", NOW - timedelta(minutes=1))]
    principal = Principal(
        user_id=3, public_id="e", memberships=rules.effective_memberships(rows, NOW)
    )
    page = PageRef("lv/kv-a/p", "board", "lv/kv-a")
    acl = make_acl(SPACE_MAP)
    for action in ("read", "edit", "widen", "manage"):
        assert not acl.can(principal, action, page), action
    assert acl.can(principal, "edit", PageRef("lv/kv-a/p", "members", "lv/kv-a"))


def test_enclosing_and_nearest_space():
    assert rules.enclosing_spaces("lv/kv-a/ov/p", SPACE_MAP) == ["lv/kv-a/ov", "lv/kv-a", "lv"]
    assert rules.enclosing_spaces("lv/kv-a", SPACE_MAP) == ["lv"]
    assert rules.nearest_space("lv/kv-a", SPACE_MAP) == "lv/kv-a"
    assert rules.nearest_space("lv/kv-c/p", SPACE_MAP) == "lv"
    assert rules.nearest_space("hilfe", SPACE_MAP) is None
    assert parent_paths("lv/kv-a/ov") == ["lv", "lv/kv-a"]
