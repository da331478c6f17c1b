"""Robustness against hostile input (issue 9): linear heading ids, YAML without aliases and with
bounded values, front matter errors as listed problems (never a 500, never a stuck sync), no 500
for malformed numbers, 400 (not 403) for broken YAML on a new page, feeds keep their
``Referrer-Policy``, and the import command reads Latin-1 and refuses malformed input cleanly."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import head, log_in, save

from wiki.auth import issue_token
from wiki.db import PageRow, User
from wiki.markup import Renderer
from wiki.storage import Author

ALIASES = (
    "---\ntitle: Bombe\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a]\n---\nx\n"
)
LONG_INT = "---\ntitle: Zahl\nn: " + "9" * 5000 + "\n---\nx\n"
HEX_INT = "---\ntitle: Hex\nn: 0x" + "f" * 4000 + "\n---\nx\n"
BAD_DATE = "---\ntitle: Datum\nam: 2022-13-45\n---\nx\n"
BROKEN_FRONT_MATTER = {
    "aliases": (ALIASES, "Anker und Verweise"),
    "long-int": (LONG_INT, "nicht lesen lässt"),
    "hex-int": (HEX_INT, "mehr als 100 Ziffern"),
    "bad-date": (BAD_DATE, "nicht lesen lässt"),
}


def push(app, files: dict[str, str | None], message="Push"):
    """Commit straight into the repository, bypassing validation (like ``git push``), and sync."""
    state = app.extensions["wiki"]
    data = {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in files.items()}
    state.store.commit(
        data, base=state.store.head(), author=Author("u-admin", "a@x.invalid"), message=message
    )
    with app.app_context():
        state.syncer.sync()


# -- headings ------------------------------------------------------------------------------------


def test_duplicate_heading_ids_keep_their_scheme_and_stay_unique():
    text = "# a-3\n\n" + "# a\n\n" * 5 + "## Fn 1\n\n" + "# A\n\n"
    rendered = Renderer().render(text, "seite")
    ids = [hid for _level, hid, _text in rendered.toc]
    assert ids == ["a-3", "a", "a-2", "a-4", "a-5", "a-6", "fn-1-2", "a-7"]  # fn-N: footnotes
    many = Renderer().render("# a\n\n" * 3000, "seite")
    ids = [hid for _level, hid, _text in many.toc]
    assert len(set(ids)) == 3000
    assert ids[:3] == ["a", "a-2", "a-3"] and ids[-1] == "a-3000"


# -- YAML in front matter and widgets ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BROKEN_FRONT_MATTER))
def test_broken_front_matter_is_refused_on_save(app, login, name):
    text, message = BROKEN_FRONT_MATTER[name]
    before = head(app)
    response = save(login("user"), f"neu-{name}", text)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert head(app) == before


@pytest.mark.parametrize("name", sorted(BROKEN_FRONT_MATTER))
def test_pushed_broken_front_matter_is_a_listed_problem(app, login, name):
    text, message = BROKEN_FRONT_MATTER[name]
    push(app, {f"gepusht-{name}.md": text})
    state = app.extensions["wiki"]
    assert state.syncer.synced_head == head(app)
    with state.sessions() as session:
        row = session.get(PageRow, f"gepusht-{name}")
        assert row.effective_visibility == "board"
        assert message in row.problems
    admin = login("admin")
    assert f"gepusht-{name}" in admin.get("/-/problems").get_data(as_text=True)
    page = admin.get(f"/-/api/v1/pages/gepusht-{name}")
    assert page.status_code == 200 and len(page.data) < 50_000
    for url in ("/", "/start", "/-/changes", "/-/pages", f"/gepusht-{name}", "/-/problems"):
        assert admin.get(url).status_code == 200, url
        assert login("user").get(url).status_code in (200, 404), url


def test_widget_yaml_refuses_aliases():
    renderer = Renderer(widget_kinds=("poll",))
    rendered = renderer.render("```poll\na: &x [1, 2]\nb: *x\n```\n", "seite")
    (widget,) = rendered.widgets
    assert widget.data is None and "Anker und Verweise" in widget.error
    rendered = renderer.render("```poll\nn: " + "1" * 5000 + "\n```\n", "seite")
    assert rendered.widgets[0].error and rendered.widgets[0].data is None


def test_a_validator_that_crashes_does_not_stop_the_sync(app, login):
    from wiki.hookspecs import hookimpl

    class Crashing:
        @hookimpl
        def wiki_page_types(self):
            def validate(new, old, ctx):
                raise TypeError("bug")

            return {"kaputt": validate}

    state = app.extensions["wiki"]
    plugin = Crashing()
    state.pm.register(plugin)
    try:
        push(app, {"typ.md": "---\ntype: kaputt\n---\nx\n"})
        assert state.syncer.synced_head == head(app)
        with state.sessions() as session:
            assert "nicht geprüft" in session.get(PageRow, "typ").problems
        assert login("admin").get("/-/problems").status_code == 200
    finally:
        state.pm.unregister(plugin)


# -- no 500 / the right status -------------------------------------------------------------------


def test_broken_yaml_on_a_new_page_is_a_400_with_the_problem(app, login):
    before = head(app)
    response = save(login("user"), "neue-seite", "---\ntitle: [kaputt\n---\nText\n")
    assert response.status_code == 400
    assert "Die Metadaten (YAML) sind fehlerhaft" in response.get_data(as_text=True)
    assert head(app) == before
    # Still 403 where the user may not create a page at all.
    assert save(log_in(app, "anon"), "neue-seite", "---\ntitle: [x\n---\n").status_code in (
        302,
        400,
        403,
    )
    assert head(app) == before


def test_a_non_numeric_token_id_is_not_a_500(app, login):
    client = login("user")
    for value in ("abc", "²", "9" * 5000, "-1", ""):
        response = client.form("/-/account", {"action": "revoke", "token_id": value})
        assert response.status_code == 404, value


# -- headers -------------------------------------------------------------------------------------


def test_feeds_with_a_token_keep_no_referrer(app, client):
    state = app.extensions["wiki"]
    with state.sessions() as session:
        user = session.query(User).filter_by(handle="alice").one()
        token = issue_token(session, user, "feed", "Feed")
        session.commit()
    response = client.get(f"/-/changes.atom?token={token}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/-/changes.atom").headers["Referrer-Policy"] == "same-origin"


# -- the import command --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """An instance with the resolutions plugin (no demo) and the CLI with its commands."""
    from wiki.cli import cli, create_instance
    from wiki.plugins import make_plugin_manager

    path = tmp_path_factory.mktemp("cli") / "inst"
    mp = pytest.MonkeyPatch()
    mp.setenv("WIKI_PASSWORD_METHOD", "pbkdf2:sha256:1")
    mp.setenv("WIKI_PLUGINS", "plugins.spaces,plugins.resolutions")
    create_instance(path, demo=False)
    make_plugin_manager(["plugins.spaces", "plugins.resolutions"]).hook.wiki_cli(cli=cli)

    def run(*args):
        return CliRunner().invoke(cli, ["resolutions", "import", *args, "--instance", str(path)])

    yield run
    mp.undo()


def test_import_reads_a_latin1_csv_with_a_warning(instance, tmp_path):
    csv = tmp_path / "beschluesse.csv"
    csv.write_bytes(
        "Titel;Ergebnis;Beschlossen;Beschlusstext\nFür Grün;angenommen;19.03.2022;Text ä\n".encode(
            "cp1252"
        )
    )
    result = instance(str(csv), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "als Windows-1252 gelesen" in result.output
    assert "Für Grün" in result.output


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("tief.json", "[" * 100_000 + "]" * 100_000, "zu tief verschachtelt"),
        ("tief.html", "<div>" * 100_000, "zu tief verschachtelt"),
        (
            "typen.json",
            json.dumps(
                {
                    "motion_links": "abc",
                    "motions": [
                        {
                            "id": 3,
                            "title": "T",
                            "sections": [{"title": 1, "html": 5}],
                            "status_title": 4,
                        },
                    ],
                }
            ),
            "unerwarteter Aufbau",
        ),
    ],
)
def test_import_refuses_malformed_input_with_one_line(instance, tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_text(data, encoding="utf-8")
    result = instance(str(path), "--dry-run")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert f"{path}: kann nicht gelesen werden" in result.output
    assert reason in result.output


def test_malformed_numbers_in_plugin_routes_are_not_a_500(tmp_path):
    from conftest import make_test_app

    app = make_test_app(tmp_path, WIKI_PLUGINS=["plugins.spaces", "plugins.resolutions"])
    client = app.test_client()
    for value in ("²", "9" * 5000, "-1", "abc"):
        assert client.get(f"/-/api/v1/resolutions?per_page={value}").status_code == 400, value
        assert client.get(f"/-/resolutions/?page={value}").status_code == 400, value
    assert client.get("/-/api/v1/resolutions?per_page=5").status_code == 200
    state = app.extensions["wiki"]
    state.search.close()
    state.store.close()
    state.engine.dispose()
