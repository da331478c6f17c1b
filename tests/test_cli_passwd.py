"""``verbandswiki user passwd`` prints a new strong password when none is given, and ``serve``
ends its start-up output with a framed block: the address and, with ``--demo``, the demo
accounts (their passwords on the first start only)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from wiki import banner
from wiki.cli import cli


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A plain instance with one account ``carla`` (password ``alt-und-lang-genug``)."""
    monkeypatch.setenv("WIKI_PASSWORD_METHOD", "pbkdf2:sha256:1")
    path = tmp_path / "inst"
    assert run("init", "--instance", str(path)).exit_code == 0
    result = run("user", "add", "carla", "--email", "c@example.org",
                 "--password", "alt-und-lang-genug", "--instance", str(path))  # fmt: skip
    assert result.exit_code == 0, result.output
    return path


def run(*args):
    return CliRunner().invoke(cli, [*args])


def account(path, handle="carla"):
    """(matches(password), session generation) of an account, read from the database."""
    from wiki import auth, create_app
    from wiki.db import User

    app = create_app({"WIKI_INSTANCE": str(path), "WIKI_MAIL_WORKER": False})
    state = app.extensions["wiki"]
    try:
        with app.app_context(), state.sessions() as session:
            user = session.query(User).filter_by(handle=handle).one()
            generation = user.session_generation or 0
            return (lambda pw: auth.check_password(user, pw)), user.password_hash, generation
    finally:
        state.store.close()
        state.engine.dispose()


def test_passwd_without_password_prints_a_new_strong_one(instance):
    _, old_hash, generation = account(instance)
    result = run("user", "passwd", "carla", "--instance", str(instance))
    assert result.exit_code == 0, result.output
    password = re.fullmatch(r"Neues Passwort für carla: (\S+)\n", result.output)[1]
    assert len(password) >= 16
    matches, new_hash, new_generation = account(instance)
    assert new_hash != old_hash
    assert matches(password) and not matches("alt-und-lang-genug")
    assert new_generation == generation + 1  # sessions with the old password end
    again = run("user", "passwd", "carla", "--instance", str(instance)).output
    assert password not in again  # a new one each time


def test_passwd_with_password_sets_it_and_refuses_a_short_one(instance):
    result = run("user", "passwd", "carla", "--password", "neu-und-lang-genug",
                 "--instance", str(instance))  # fmt: skip
    assert result.exit_code == 0 and result.output == "Passwort gesetzt.\n"
    matches, hash_before, _ = account(instance)
    assert matches("neu-und-lang-genug")
    short = run("user", "passwd", "carla", "--password", "kurz", "--instance", str(instance))
    assert short.exit_code != 0 and "mindestens" in short.output
    assert account(instance)[1] == hash_before  # unchanged
    unknown = run("user", "passwd", "niemand", "--instance", str(instance))
    assert unknown.exit_code != 0 and "Unbekannter Zugang" in unknown.output


def test_banner_parts():
    assert banner.url_of("0.0.0.0", 8080) == "http://127.0.0.1:8080/"
    assert banner.url_of("::", 80) == "http://[::1]:80/"
    assert banner.command("instance", "user", "passwd", "admin").endswith(
        "verbandswiki user passwd admin"
    )
    assert banner.command("/srv/wiki", "user", "passwd", "admin").endswith(
        "user passwd admin --instance /srv/wiki"
    )
    plain = banner.notice("http://x/", [], None, "vw user passwd admin")
    assert "http://x/" in plain and "passwd" not in plain  # no demo: no accounts, no hint


def test_serve_demo_creates_the_instance_and_ends_with_the_logins(tmp_path, monkeypatch):
    """The first ``serve --demo`` shows the passwords; later starts list the accounts and how to
    get a new password. The block is printed by the last worker once it has loaded the app."""
    monkeypatch.setenv("WIKI_PASSWORD_METHOD", "pbkdf2:sha256:1")
    from gunicorn.app.base import BaseApplication

    printed = []

    def fake_run(self):  # instead of serving: load the settings, start "workers" 1 and 2
        self.load_config()
        for age in (1, 2, 3):  # 3: a worker restarted later prints nothing
            self.cfg.post_worker_init(SimpleNamespace(age=age))
        printed.append(self.cfg.settings["bind"].value)

    monkeypatch.setattr(BaseApplication, "run", fake_run)
    path = tmp_path / "demo"
    args = ["serve", "--demo", "--instance", str(path), "--port", "8123", "--workers", "2"]
    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert printed == [["127.0.0.1:8123"]]
    assert first.output.count(banner.RULE) == 2  # printed once
    assert first.output.rstrip("\n").endswith(banner.RULE)
    assert "http://127.0.0.1:8123/" in first.output
    logins = dict(re.findall(r"^\s+(\S+)\s+Passwort: (\S+)", first.output, re.M))
    assert {"admin", "vorstand-land", "mitglied-erfurt"} <= set(logins)
    assert account(path, "admin")[0](logins["admin"])  # the shown password works

    again = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert "Passwort:" not in again.output
    assert "Zugänge: admin, mitglied-erfurt" in again.output
    assert f"user passwd admin --instance {path}" in again.output
    assert again.output.rstrip("\n").endswith(banner.RULE)
