"""Verbandswiki: a git-backed wiki for nested associations.

Everything is built inside :func:`create_app`; no module keeps state at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class WikiState:
    """The services of one app, kept in ``app.extensions["wiki"]``."""

    instance: Path
    config: Any
    pm: Any
    acl: Any
    engine: Any
    sessions: Any
    store: Any
    renderer: Any
    render_cache: Any
    mailer: Any
    syncer: Any
    search: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content(self):
        """The page operations (:class:`wiki.content.Content`) of this app."""
        found = self.extra.get("content")
        if found is None:
            from wiki.content import Content

            found = self.extra.setdefault("content", Content(self))
        return found

    @property
    def revisions(self):
        """Who may read past revisions (:class:`wiki.revisions.Revisions`) in this app."""
        found = self.extra.get("revisions")
        if found is None:
            from wiki.revisions import Revisions

            found = self.extra.setdefault("revisions", Revisions(self))
        return found


def load_config(app: Flask, config: dict | None) -> None:
    """defaults ← instance config.py ← environment ← ``config`` mapping."""
    from config import DefaultConfig

    app.config.from_object(DefaultConfig)
    overrides = dict(config or {})
    instance = Path(
        overrides.get("WIKI_INSTANCE") or os.environ.get("WIKI_INSTANCE") or "instance"
    ).resolve()
    instance_config = instance / "config.py"
    if instance_config.is_file():
        app.config.from_pyfile(str(instance_config))
    for key in list(app.config):
        if key in os.environ:
            app.config[key] = _from_env(os.environ[key], app.config[key])
    app.config.update(overrides)
    app.config["WIKI_INSTANCE"] = str(instance)
    app.config["MAX_CONTENT_LENGTH"] = int(float(app.config["WIKI_MAX_UPLOAD_MB"]) * 1024 * 1024)


def _from_env(raw: str, default: Any) -> Any:
    """Convert an environment string to the type of the default."""
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list | tuple):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app with every service it needs."""
    from flask_babel import Babel
    from flask_wtf.csrf import CSRFProtect

    from wiki import auth, db, markup, views, web
    from wiki.acl import Acl
    from wiki.mail import Mailer
    from wiki.plugins import make_plugin_manager, register_plugin_objects
    from wiki.search import SearchService
    from wiki.storage import GitStore
    from wiki.sync import Syncer

    app = Flask(
        __name__,
        static_folder="static",
        static_url_path="/-/static",
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    load_config(app, config)
    app.url_map.converters["page"] = web.PageConverter
    if not app.config.get("SECRET_KEY"):
        if app.config.get("TESTING"):
            app.config["SECRET_KEY"] = os.urandom(32).hex()
        else:
            raise RuntimeError(
                "SECRET_KEY fehlt: bitte `verbandswiki init` ausführen oder SECRET_KEY setzen."
            )
    instance = Path(app.config["WIKI_INSTANCE"])
    instance.mkdir(parents=True, exist_ok=True)
    db_url = app.config["WIKI_DATABASE_URL"] or f"sqlite:///{instance / 'wiki.sqlite'}"
    app.config["WIKI_DATABASE_URL"] = db_url
    repo_path = Path(app.config["WIKI_REPOSITORY"] or instance / "content.git")

    pm = make_plugin_manager(app.config["WIKI_PLUGINS"])
    engine = db.make_engine(db_url)
    sessions = db.make_sessionmaker(engine)
    store = GitStore(repo_path, lock_path=instance / "write.lock")
    mailer = Mailer(
        sessions,
        outbox=instance / "outbox",
        lock_path=instance / "mail.lock",
        sender=app.config["WIKI_MAIL_FROM"],
        smtp_host=app.config["WIKI_SMTP_HOST"] or None,
        smtp_port=int(app.config["WIKI_SMTP_PORT"]),
        smtp_user=app.config["WIKI_SMTP_USER"] or None,
        smtp_password=app.config["WIKI_SMTP_PASSWORD"] or None,
        smtp_security=app.config["WIKI_SMTP_SECURITY"],
        message_id_domain=app.config["WIKI_NOREPLY_DOMAIN"],
    )
    state = WikiState(
        instance=instance,
        config=app.config,
        pm=pm,
        acl=Acl(pm, edit_policy=app.config["WIKI_EDIT"]),
        engine=engine,
        sessions=sessions,
        store=store,
        renderer=None,
        render_cache=markup.RenderCache(int(app.config["WIKI_RENDER_CACHE_SIZE"])),
        mailer=mailer,
        syncer=None,
    )
    state.syncer = Syncer(state)
    app.extensions["wiki"] = state
    register_plugin_objects(pm, state)
    state.search = SearchService(state)
    pm.register(state.search, name="wiki.search")
    state.renderer = markup.Renderer(
        plugins=[p for group in pm.hook.wiki_markdown_plugins() for p in group],
        widget_kinds=[k for group in pm.hook.wiki_widget_kinds() for k in group],
    )

    site_templates = instance / "templates"
    plugin_folders = [str(f) for group in pm.hook.wiki_template_folders() for f in group]
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader([str(site_templates), *plugin_folders]), app.jinja_loader]
    )
    app.teardown_appcontext(db.close_db)
    CSRFProtect(app)
    # The core's catalog first, then each plugin's own (Flask-Babel merges them in this order).
    translation_dirs = [ROOT / "wiki" / "translations"]
    translation_dirs += [d for group in pm.hook.wiki_translation_dirs() for d in group or ()]
    Babel(
        app,
        locale_selector=web.select_locale,
        timezone_selector=lambda: app.config["WIKI_TIMEZONE"],
        default_translation_directories=";".join(str(d) for d in translation_dirs),
    )
    auth.init_app(app)
    web.init_app(app)
    views.register(app)
    for blueprints in pm.hook.wiki_blueprints():
        for blueprint in blueprints:
            app.register_blueprint(blueprint)
    if app.config["WIKI_MAIL_WORKER"] and not app.config.get("TESTING"):
        mailer.start_worker()
    if not app.config.get("TESTING"):
        freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Move every object alive now (modules, the app, its services) out of the garbage
    collector's reach, so that no full collection inside a request walks them again.

    Called at the end of :func:`create_app`, i.e. in each gunicorn worker after it has built
    its app (workers do not preload, so nothing is shared copy-on-write that this would
    spoil). Not in tests: there every test builds an app, and frozen objects are never freed.
    """
    import gc

    gc.collect()
    gc.freeze()


def state() -> WikiState:
    """The services of the current app."""
    from flask import current_app

    return current_app.extensions["wiki"]
