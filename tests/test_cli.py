"""The verbandswiki command line: init, users, reindex, check, maintain, purge, migrations."""

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from wiki.cli import cli
from wiki.db import Base


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("WIKI_PASSWORD_METHOD", "pbkdf2:sha256:1")
    path = tmp_path / "inst"
    result = CliRunner().invoke(cli, ["init", "--demo", "--instance", str(path)])
    assert result.exit_code == 0, result.output
    return path, result.output


def run(*args):
    return CliRunner().invoke(cli, [*args], catch_exceptions=False)


def test_init_demo_prints_generated_password_once(instance):
    path, output = instance
    password = re.search(r"Passwort:\s+(\S+)", output).group(1)
    assert len(password) >= 12
    assert (path / "content.git").is_dir() and (path / "wiki.sqlite").is_file()
    assert "SECRET_KEY" in (path / "config.py").read_text()
    again = run("init", "--demo", "--instance", str(path))
    assert password not in again.output


def test_user_commands(instance):
    path, _ = instance
    result = run("user", "add", "carla", "--email", "c@example.org", "--instance", str(path))
    assert "Passwort:" in result.output
    assert "carla" in run("user", "list", "--instance", str(path)).output
    assert run("user", "admin", "carla", "--instance", str(path)).exit_code == 0
    assert (
        "carla\tcarla\tc@example.org (Admin)" in run("user", "list", "--instance", str(path)).output
    )
    bad = CliRunner().invoke(
        cli, ["user", "add", "Bad Name!", "--email", "x@example.org", "--instance", str(path)]
    )
    assert bad.exit_code != 0 and "Benutzername" in bad.output


def test_reindex_check_maintain(instance):
    path, _ = instance
    assert run("check", "--instance", str(path)).exit_code == 0
    assert run("reindex", "--instance", str(path)).exit_code == 0
    assert run("maintain", "--instance", str(path)).exit_code == 0
    assert (path / "content.git" / "objects" / "info" / "commit-graph").exists() or list(
        (path / "content.git" / "objects" / "info").glob("commit-graphs/*")
    )
    assert "Alles in Ordnung" in run("check", "--instance", str(path)).output


def test_purge_removes_a_page_from_history(instance):
    path, _ = instance
    result = run("purge", "spielwiese.md", "--yes", "--instance", str(path))
    assert result.exit_code == 0
    import subprocess

    log = subprocess.run(
        ["git", "--git-dir", str(path / "content.git"), "log", "--all", "--name-only", "--format="],
        capture_output=True,
        text=True,
    ).stdout
    assert "spielwiese.md" not in log
    assert run("check", "--instance", str(path)).exit_code == 0


def test_migrations_match_the_models(instance):
    path, _ = instance
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{path / 'wiki.sqlite'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_reset_two_factor(instance):
    path, _ = instance
    from wiki import create_app
    from wiki.db import User

    app = create_app({"WIKI_INSTANCE": str(path), "WIKI_MAIL_WORKER": False})
    with app.extensions["wiki"].sessions() as session:
        admin = session.query(User).filter_by(handle="admin").one()
        admin.totp_secret = "JBSWY3DPEHPK3PXP"
        from wiki.db import utcnow

        admin.totp_enabled_at = utcnow()
        session.commit()
    assert run("user", "reset-2fa", "admin", "--instance", str(path)).exit_code == 0
    with app.extensions["wiki"].sessions() as session:
        assert not session.query(User).filter_by(handle="admin").one().has_totp
    assert run("user", "reset-2fa", "nobody", "--instance", str(path)).exit_code != 0
