"""Alembic wiring: the core's and every plugin's version folders, applied by init and upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(state) -> Config:
    """An Alembic configuration for the app's database and enabled plugins."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    folders = [str(MIGRATIONS / "versions")]
    folders += [str(f) for group in state.pm.hook.wiki_migration_folders() for f in group]
    cfg.set_main_option("version_locations", " ".join(folders))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", str(state.engine.url).replace("%", "%%"))
    cfg.attributes["engine"] = state.engine
    return cfg


def upgrade(state) -> None:
    """Apply every pending migration of the core and the plugins."""
    command.upgrade(alembic_config(state), "heads")


def current_heads(state) -> set[str]:
    """The revisions the database is at."""
    from alembic.runtime.migration import MigrationContext

    with state.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
