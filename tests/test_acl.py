"""The one permission decision: core rules, and can() agreeing with read_filter()."""

import itertools

import pluggy
import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from wiki import hookspecs
from wiki.acl import ANONYMOUS, Acl, PageRef, Principal, ReadFilter
from wiki.hookspecs import hookimpl
from wiki.queries import read_clause

VISIBILITIES = ("public", "internal", "members", "board")
SPACES = (None, "lv", "lv/kv", "other")


class FakeSpaces:
    """Grants members/board reads like the spaces plugin will (for the agreement test)."""

    @hookimpl
    def wiki_permission(self, principal, action, page):
        if action != "read" or page is None or page.visibility not in ("members", "board"):
            return None
        if page.space is None:
            return None
        role = principal.memberships.get(page.space)
        if page.visibility == "members":
            return role is not None
        return role == "board"

    @hookimpl
    def wiki_read_filter(self, principal):
        members = frozenset(principal.memberships)
        board = frozenset(s for s, r in principal.memberships.items() if r == "board")
        return ReadFilter(visibilities=frozenset(), spaces={"members": members, "board": board})


def make_acl(with_spaces=False):
    pm = pluggy.PluginManager("verbandswiki")
    pm.add_hookspecs(hookspecs)
    if with_spaces:
        pm.register(FakeSpaces())
    return Acl(pm)


PRINCIPALS = [
    ANONYMOUS,
    Principal(user_id=1, public_id="a"),
    Principal(user_id=2, public_id="b", is_admin=True),
    Principal(user_id=3, public_id="c", memberships={"lv": "member"}),
    Principal(user_id=4, public_id="d", memberships={"lv": "member", "lv/kv": "board"}),
    Principal(user_id=5, public_id="e", memberships={"other": "board"}),
]


def test_core_read_rules():
    acl = make_acl()
    public, internal = PageRef("a", "public"), PageRef("a", "internal")
    members = PageRef("a", "members", "lv")
    assert acl.can(ANONYMOUS, "read", public)
    assert not acl.can(ANONYMOUS, "read", internal)
    assert acl.can(PRINCIPALS[1], "read", internal)
    assert not acl.can(PRINCIPALS[1], "read", members)
    assert acl.can(PRINCIPALS[2], "read", members)


def test_core_edit_rules():
    acl = make_acl()
    assert not acl.can(ANONYMOUS, "edit", PageRef("a", "public"))
    assert acl.can(PRINCIPALS[1], "edit", PageRef("a", "public"))
    assert not Acl(acl.pm, edit_policy="admins").can(PRINCIPALS[1], "edit", PageRef("a", "public"))
    assert not acl.can(PRINCIPALS[1], "admin", None)
    assert acl.can(PRINCIPALS[2], "admin", None)


def test_unknown_action_is_an_error():
    with pytest.raises(ValueError):
        make_acl().can(ANONYMOUS, "fly", None)


@pytest.mark.parametrize("with_spaces", [False, True])
def test_can_agrees_with_read_filter_and_sql(with_spaces):
    """Every principal × page: can(read) == read_filter().allows() == the SQL translation."""
    acl = make_acl(with_spaces)
    engine = create_engine("sqlite://")
    meta = MetaData()
    table = Table(
        "t",
        meta,
        Column("path", String, primary_key=True),
        Column("vis", String),
        Column("space", String),
    )
    meta.create_all(engine)
    refs = [
        PageRef(f"p{i}", vis, space)
        for i, (vis, space) in enumerate(itertools.product(VISIBILITIES, SPACES))
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(table), [{"path": r.path, "vis": r.visibility, "space": r.space} for r in refs]
        )
    with engine.connect() as conn:
        for principal in PRINCIPALS:
            read_filter = acl.read_filter(principal)
            allowed_sql = set(
                conn.scalars(
                    select(table.c.path).where(read_clause(read_filter, table.c.vis, table.c.space))
                )
            )
            for ref in refs:
                expected = acl.can(principal, "read", ref)
                assert read_filter.allows(ref.visibility, ref.space) == expected, (principal, ref)
                assert (ref.path in allowed_sql) == expected, (principal, ref)
