"""Fixtures for the spaces plugin: an app with the plugin, a space tree, and users per role.

The tree: Landesverband ``lv`` → Kreisverbände ``lv/kv-a`` and ``lv/kv-b`` → Ortsverband
``lv/kv-a/ov``. Roles: ``anon``, ``user`` (logged in, no membership), ``member_a`` / ``board_a``
(of ``lv/kv-a``), ``member_b`` / ``board_b`` (of ``lv/kv-b``), ``admin``; and for some tests
``board_lv`` (board of ``lv``) and ``member_ov`` (member of ``lv/kv-a/ov``).

pytest imports this file as module ``conftest`` as well, replacing ``tests/conftest.py`` in
``sys.modules``; test modules do ``from conftest import …`` and may be collected after this
folder. So every helper of ``tests/conftest.py`` (not its fixtures) is re-exported here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from wiki.acl import Principal
from wiki.storage import Author


def _load_root_conftest():
    name = "_wiki_root_conftest"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent.parent / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_root = _load_root_conftest()
for _name, _value in vars(_root).items():
    if not _name.startswith("_") and not hasattr(_value, "_fixture_function_marker"):
        globals().setdefault(_name, _value)

make_test_app = _root.make_test_app
PASSWORD = _root.PASSWORD

#: path → (name, code, kind, default_visibility). The definition pages are public.
SPACE_TREE = {
    "lv": ("Landesverband Beispiel", "LV", "landesverband", "internal"),
    "lv/kv-a": ("Kreisverband A", "KVA", "kreisverband", "members"),
    "lv/kv-b": ("Kreisverband B", "KVB", "kreisverband", "members"),
    "lv/kv-a/ov": ("Ortsverband A-Nord", "OVA", "ortsverband", "members"),
}

#: path → (visibility or None for the space's default, title, body).
PAGES = {
    "lv/kv-a/protokoll": (
        None,
        "Protokoll Kreisverband A",
        "Geheime Beschlüsse von A. Siehe [[hilfe]] und [[lv/kv-a/oeffentlich]].",
    ),
    "lv/kv-a/vorstand": ("board", "Vorstandsnotizen A", "Nur für den Vorstand von A."),
    "lv/kv-a/oeffentlich": ("public", "Öffentliche Seite A", "Alle dürfen das lesen."),
    "lv/kv-a/ov/treffen": (None, "Treffen Ortsverband", "Jeden Dienstag."),
    "lv/kv-b/protokoll": (None, "Protokoll Kreisverband B", "Geheime Beschlüsse von B."),
    "lv/rundbrief": ("members", "Rundbrief Landesverband", "Für alle Mitglieder im Land."),
}
DOCUMENT = ("lv/kv-a/protokoll", "protokoll.pdf", b"%PDF-1.4\n% geheim\n%%EOF\n")

#: role → (handle, display name, space, role in that space); anon, user and admin come from
#: tests/conftest.py (``user`` is alice, without membership).
MEMBERS = {
    "member_a": ("mia", "Mia Mitglied A", "lv/kv-a", "member"),
    "board_a": ("bea", "Bea Vorstand A", "lv/kv-a", "board"),
    "member_b": ("max", "Max Mitglied B", "lv/kv-b", "member"),
    "board_b": ("ben", "Ben Vorstand B", "lv/kv-b", "board"),
    "board_lv": ("lena", "Lena Landesvorstand", "lv", "board"),
    "member_ov": ("otto", "Otto Ortsverband", "lv/kv-a/ov", "member"),
}
HANDLES = {"user": "alice", "other": "bob", "admin": "admin"} | {
    role: spec[0] for role, spec in MEMBERS.items()
}


def space_text(
    path: str,
    name: str | None = None,
    code: str | None = None,
    kind: str | None = None,
    default_visibility: str | None = None,
    edit: str = "members",
    visibility: str | None = "public",
    body: str = "",
    **extra,
) -> str:
    """The definition page of a space (``SPACE_TREE`` values unless given)."""
    spec = SPACE_TREE.get(path, ("Neue Gliederung", "NEU", "arbeitskreis", "members"))
    meta = {
        "type": "space",
        "name": name if name is not None else spec[0],
        "code": code if code is not None else spec[1],
        "kind": kind if kind is not None else spec[2],
        "default_visibility": default_visibility or spec[3],
        "edit": edit,
    }
    if visibility:
        meta["visibility"] = visibility
    meta.update(extra)
    lines = [f"{key}: {value}" for key, value in meta.items() if value is not None]
    return (
        "---\n"
        + "\n".join(lines)
        + "\n---\n"
        + (body or f"# {meta['name']}\n\nDas ist {meta['name']}.\n")
    )


def page_text(title: str, body: str, visibility: str | None = None) -> str:
    """A plain page with a title and an optional visibility."""
    head = f"title: {title}\n" + (f"visibility: {visibility}\n" if visibility else "")
    return f"---\n{head}---\n{body}\n"


@dataclass
class Spaces:
    """The test app with the space tree, and helpers to act in it."""

    app: object

    @property
    def state(self):
        return self.app.extensions["wiki"]

    def head(self) -> str:
        return self.state.store.head()

    def user_id(self, role: str) -> int:
        from wiki.db import User

        with self.state.sessions() as session:
            return session.scalar(select(User.id).where(User.handle == HANDLES.get(role, role)))

    def principal(self, role: str) -> Principal:
        """The principal of ``role`` as a request builds it (memberships preloaded)."""
        from wiki.auth import principal_for
        from wiki.db import User, get_db

        if role == "anon":
            return Principal()
        with self.app.test_request_context():
            user = get_db().scalar(select(User).where(User.handle == HANDLES.get(role, role)))
            return principal_for(user)

    def commit(self, files: dict[str, bytes | str | None], message: str = "Test") -> str:
        """Commit files straight into the repository (like a push by an admin) and sync."""
        data = {
            path: value.encode("utf-8") if isinstance(value, str) else value
            for path, value in files.items()
        }
        result = self.state.store.commit(
            data,
            base=self.head(),
            author=Author("u-system", "system@noreply.invalid"),
            message=message,
        )
        with self.app.app_context():
            self.state.syncer.sync()
        return result.sha

    def add_member(self, role_or_handle: str, space: str, role: str = "member", term_ends=None):
        """Add or change a direct membership (``plugins.spaces.directory.add_member``)."""
        from plugins.spaces.directory import add_member
        from wiki.db import User

        handle = HANDLES.get(role_or_handle, role_or_handle)
        with self.state.sessions() as session:
            user = session.scalar(select(User).where(User.handle == handle))
            add_member(session, user.id, space, role, term_ends)
            session.commit()

    def create_user(self, handle: str, name: str, space: str | None = None, role="member"):
        """A new account (``wiki.cli.create_user``), optionally a member of ``space``."""
        from wiki.cli import create_user

        with self.app.app_context(), self.state.sessions() as session:
            user = create_user(session, handle, name, f"{handle}@example.org", PASSWORD)
            session.commit()
            user_id = user.id
        if space:
            self.add_member(handle, space, role)
        return user_id

    def login(self, role: str):
        """A new client logged in as ``role`` (``anon``: not logged in)."""
        client = self.app.test_client()
        if role == "anon":
            return client
        response = client.form(
            "/-/login", {"handle": HANDLES.get(role, role), "password": PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client


def make_spaces_app(tmp_path, **overrides):
    """A fresh instance with the spaces plugin, the space tree, its pages and members."""
    from plugins.spaces.directory import add_member
    from wiki.cli import create_user

    config = {"WIKI_PLUGINS": ["plugins.spaces"], "SPACES_DIRECTORY_REQUIRES_2FA": False}
    config.update(overrides)
    app = make_test_app(tmp_path, **config)
    state = app.extensions["wiki"]
    files: dict[str, bytes] = {}
    for path in SPACE_TREE:
        files[f"{path}.md"] = space_text(path).encode()
    for path, (visibility, title, body) in PAGES.items():
        files[f"{path}.md"] = page_text(title, body, visibility).encode()
    page, name, data = DOCUMENT
    files[f"{page}/_files/{name}"] = data
    state.store.commit(
        files,
        base=state.store.head(),
        author=Author("u-system", "system@noreply.invalid"),
        message="Gliederungen angelegt",
    )
    with app.app_context():
        state.syncer.sync()
        with state.sessions() as session:
            for handle, display_name, space, role in MEMBERS.values():
                user = create_user(session, handle, display_name, f"{handle}@example.org", PASSWORD)
                add_member(session, user.id, space, role)
            session.commit()
    return app


@pytest.fixture
def app(tmp_path):
    app = make_spaces_app(tmp_path)
    yield app
    app.extensions["wiki"].search.wait_idle()
    app.extensions["wiki"].search.close()
    app.extensions["wiki"].store.close()
    app.extensions["wiki"].engine.dispose()


@pytest.fixture
def spaces(app):
    """Helpers bound to the test app (see :class:`Spaces`)."""
    return Spaces(app)


@pytest.fixture
def login(spaces):
    """``login(role)`` → a client for ``role``; cached per role within a test."""
    cache: dict = {}

    def _login(role: str = "user"):
        if role not in cache:
            cache[role] = spaces.login(role)
        return cache[role]

    return _login


# -- resolutions ---------------------------------------------------------------------------------


def resolution_text(
    rid: str,
    title: str = "Für mehr Beteiligung",
    body: str = "Landeskonferenz",
    decided: str | None = "2022-03-19",
    outcome: str = "angenommen",
    validity: str | None = "in_kraft",
    text: str = "Der Landesverband setzt sich für mehr Beteiligung ein.",
    visibility: str | None = None,
    **fields,
) -> str:
    """The page text of a resolution (``fields`` adds or overrides front matter)."""
    from plugins.resolutions.schema import page_text as make_text

    meta = {"id": rid, "title": title, "body": body, "decided": decided, "outcome": outcome}
    if validity and outcome in ("angenommen", "angenommen_geaendert"):
        meta["validity"] = validity
    if visibility:
        meta["visibility"] = visibility
    meta.update(fields)
    return make_text(meta, {"Beschlusstext": text})


def log_in(app, role: str):
    """A new client logged in as any role of this folder's apps (``anon``: not logged in);
    replaces the root helper, which knows only ``user``, ``other`` and ``admin``."""
    return Spaces(app).login(role)


def make_resolutions_app(tmp_path, **overrides):
    """The spaces test app (tree, pages, members) with the resolutions plugin enabled too."""
    config = {"WIKI_PLUGINS": ["plugins.spaces", "plugins.resolutions"]}
    config.update(overrides)
    return make_spaces_app(tmp_path, **config)


def make_polls_app(tmp_path, calendar: bool = True, **overrides):
    """The spaces test app (tree, pages, members) with the polls plugin enabled too (and the
    calendar plugin, if it exists and ``calendar`` is true: a date poll's slot becomes an
    event)."""
    plugins = ["plugins.spaces", "plugins.polls"]
    if calendar and importlib.util.find_spec("plugins.calendar") is not None:
        plugins.append("plugins.calendar")
    config = {"WIKI_PLUGINS": plugins}
    config.update(overrides)
    return make_spaces_app(tmp_path, **config)


def poll_block(poll_id: str, **fields) -> str:
    """A fenced ``poll`` block (YAML written as given: values are strings or YAML text)."""
    meta = {"id": poll_id, "frage": "Wann feiern wir?", "optionen": "{fr: Freitag, sa: Samstag}"}
    meta.update(fields)
    lines = [f"{key}: {value}" for key, value in meta.items() if value is not None]
    return "```poll\n" + "\n".join(lines) + "\n```\n"


def make_calendar_app(tmp_path, **overrides):
    """The spaces test app (tree, pages, members) with the calendar plugin enabled too."""
    config = {"WIKI_PLUGINS": ["plugins.spaces", "plugins.calendar"]}
    config.update(overrides)
    return make_spaces_app(tmp_path, **config)


def termin_block(event_id: str, **fields) -> str:
    """A fenced ``termin`` block (YAML written as given: values are strings or YAML text)."""
    meta = {"id": event_id, "titel": "Stammtisch", "beginn": "2026-12-07 19:00", "ende": "21:00"}
    meta.update(fields)
    lines = [f"{key}: {value}" for key, value in meta.items() if value is not None]
    return "```termin\n" + "\n".join(lines) + "\n```\n"


@pytest.fixture
def fresh_instance(tmp_path, monkeypatch):
    """A fresh instance (``verbandswiki init``, spaces and resolutions enabled) with the account
    ``alice``; call it with CLI arguments (``--instance`` is added), ``.path`` is the folder."""
    from click.testing import CliRunner

    from wiki.cli import cli
    from wiki.plugins import make_plugin_manager

    monkeypatch.setenv("WIKI_PASSWORD_METHOD", "pbkdf2:sha256:1")
    path = tmp_path / "inst"
    path.mkdir()
    (path / "config.py").write_text(
        "SECRET_KEY = 'test'\nWIKI_PLUGINS = ['plugins.spaces', 'plugins.resolutions']\n",
        encoding="utf-8",
    )
    make_plugin_manager(["plugins.spaces", "plugins.resolutions"]).hook.wiki_cli(cli=cli)

    def run(*args):
        return CliRunner().invoke(cli, [*args, "--instance", str(path)], catch_exceptions=False)

    assert run("init").exit_code == 0
    added = run("user", "add", "alice", "--email", "alice@example.org", "--password", "x" * 16)
    assert added.exit_code == 0, added.output
    run.path = path
    return run


FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)


def page_code_problems(url: str, response) -> list[str]:
    """What is wrong with an HTML page of a permission matrix: a POST form without CSRF token,
    an inline script, an inline style or an event-handler attribute (the CSP forbids them)."""
    if response.status_code != 200 or response.mimetype != "text/html":
        return []
    html = response.get_data(as_text=True)
    problems = []
    for attributes, body in FORM_RE.findall(html):
        if re.search(r'method="post"', attributes, re.I) and 'name="csrf_token"' not in body:
            problems.append(f"{url}: POST form without CSRF token ({attributes.strip()})")
    if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html, re.I):
        problems.append(f"{url}: inline <script>")
    if re.search(r"<style\b|\sstyle=\"|\son[a-z]+=\"", html, re.I):
        problems.append(f"{url}: inline style or event handler")
    return problems
