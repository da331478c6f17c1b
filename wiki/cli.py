"""The ``verbandswiki`` command line."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from sqlalchemy import select

from wiki import ROOT

CONTENT = ROOT / "content"
#: Plugins a demo instance enables.
DEMO_PLUGINS = ("plugins.spaces", "plugins.resolutions", "plugins.polls", "plugins.calendar")


def make_app(instance: str | None = None, **extra):
    """The app for ``instance`` (``--instance``, else ``WIKI_INSTANCE``, else ``./instance``)."""
    from wiki import create_app

    config = dict(extra)
    if instance:
        config["WIKI_INSTANCE"] = instance
    config.setdefault("WIKI_MAIL_WORKER", False)
    return create_app(config)


def synced_app(instance: str | None = None, **extra):
    """:func:`make_app` with the projections first brought up to git's HEAD, as the server does
    at start-up: for every command that reads pages, spaces or resolutions, so a change pushed
    a moment ago is known. (``check`` uses :func:`make_app`: it must see the difference.)"""
    app = make_app(instance, **extra)
    with app.app_context():
        app.extensions["wiki"].syncer.sync()
    return app


def instance_option(f):
    return click.option(
        "--instance",
        envvar="WIKI_INSTANCE",
        default="instance",
        show_default=True,
        help="Instanzordner (Konfiguration, Datenbank, Git-Repository).",
    )(f)


@click.group()
def cli():
    """Verbandswiki: Wiki, Beschlussdatenbank und Gliederungen."""


def seed_files() -> dict[str, bytes]:
    """The starter pages in ``content/`` as repository files."""
    files = {}
    for path in sorted(CONTENT.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            files[path.relative_to(CONTENT).as_posix()] = path.read_bytes()
    return files


def write_instance_config(instance: Path, demo: bool = False) -> None:
    """Create ``<instance>/config.py`` with a generated SECRET_KEY (once)."""
    instance.mkdir(parents=True, exist_ok=True)
    target = instance / "config.py"
    if target.exists():
        return
    text = (
        "# Settings of this instance; every key is documented in the project's config.py.\n"
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
    )
    if demo:
        text += (
            "\n# Demo: chapter spaces enabled; the member directory without two-factor login.\n"
            f"WIKI_PLUGINS = {list(DEMO_PLUGINS)!r}\n"
            "SPACES_DIRECTORY_REQUIRES_2FA = False\n"
        )
    target.write_text(text, encoding="utf-8")
    target.chmod(0o600)


def new_password() -> str:
    """A strong random password (16 URL-safe characters, 96 bits) to print once."""
    return secrets.token_urlsafe(12)


def create_user(session, handle, name, email, password, admin=False, verified=False):
    """Add an account (the caller commits)."""
    from wiki import auth
    from wiki.db import User, utcnow

    user = User(
        handle=auth.normalise_handle(handle),
        display_name=name,
        email=email,
        email_verified_at=utcnow() if verified else None,
        password_hash=auth.hash_password(password),
        is_admin=admin,
    )
    session.add(user)
    session.flush()
    return user


@cli.command()
@instance_option
@click.option("--demo", is_flag=True, help="Mit Demo-Inhalten und Demo-Zugängen.")
def init(instance, demo):
    """Lege eine neue Instanz an (Datenbank, Git-Repository, Startseiten)."""
    lines, created = create_instance(Path(instance).resolve(), demo)
    click.echo("\n".join(lines))
    if not created:
        click.echo("Das Repository bestand schon; es wurde nicht verändert.")


def create_instance(path: Path, demo: bool) -> tuple[list[str], bool]:
    """Set up (or complete) the instance at ``path``; returns the lines to print (with the demo
    passwords, shown only now) and whether the repository was created."""
    from wiki.migrate import upgrade
    from wiki.storage import Author

    write_instance_config(path, demo=demo)
    app = make_app(str(path))
    state = app.extensions["wiki"]
    upgrade(state)
    created = False
    if not state.store.exists() or state.store.head() is None:
        state.store.init(
            seed_files(),
            author=Author("u-system", f"system@{app.config['WIKI_NOREPLY_DOMAIN']}"),
            message="Startseiten angelegt",
        )
        created = True
    with app.app_context():
        state.syncer.sync()
        lines = [f"Instanz: {path}"]
        if demo:
            lines += demo_content(app)
    return lines, created


def demo_content(app) -> list[str]:
    """The demo admin (password generated and printed once) plus plugin demo content."""
    from wiki.db import User

    state = app.extensions["wiki"]
    with state.sessions() as session:
        if session.scalar(select(User).where(User.handle == "admin")) is not None:
            return ["Demo-Zugang „admin“ besteht bereits (Passwort wurde bei init ausgegeben)."]
        password = new_password()
        create_user(session, "admin", "Demo-Admin", "admin@example.org", password, admin=True)
        session.commit()
    lines = [
        "Demo-Zugänge (die Passwörter werden nur jetzt angezeigt):",
        demo_login_line("admin", password, "Administrator*in, liest alles"),
    ]
    state.pm.hook.wiki_demo(state=state, say=lines.append)
    return lines


def demo_login_line(handle: str, password: str, role: str) -> str:
    """One demo account as ``init --demo`` prints it (plugins' demos use the same form)."""
    return f"  {handle:<16} Passwort: {password}   ({role})"


@cli.command()
@instance_option
def upgrade(instance):
    """Wende ausstehende Datenbank-Migrationen an."""
    from wiki.migrate import upgrade as run_upgrade

    run_upgrade(make_app(instance).extensions["wiki"])
    click.echo("Datenbank ist aktuell.")


@cli.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Flask-Entwicklungsserver mit Reloader.")
@click.option(
    "--demo",
    is_flag=True,
    help="Fehlt die Instanz, lege sie mit Demo-Inhalten an; zeige die Demo-Zugänge an.",
)
def serve(instance, host, port, workers, threads, dev, demo):
    """Starte den Server (gunicorn mit Threads); sobald er bereit ist, stehen Adresse und
    (mit --demo) die Zugänge eingerahmt am Ende der Ausgabe."""
    from wiki import banner

    logins = []
    if demo and not (Path(instance) / "config.py").exists():
        logins, _ = create_instance(Path(instance).resolve(), demo=True)
        logins = logins[1:]  # without "Instanz: …"
    app = make_app(instance)
    with app.app_context():
        app.extensions["wiki"].syncer.sync()
    names = banner.account_names(app) if demo else None
    passwd = banner.command(instance, "user", "passwd", "admin")
    notice = banner.notice(banner.url_of(host, port), logins, names, passwd)
    if dev:
        click.echo(notice)
        app.run(host=host, port=port, debug=True)
        return
    run_gunicorn(instance, host, port, workers, threads, notice)


def run_gunicorn(instance, host, port, workers, threads, notice: str = "") -> None:
    """Serve with gunicorn's threaded workers; each worker builds its own app. ``notice`` is
    printed by the last worker of the first round once it has loaded the app, so it follows
    gunicorn's own start-up lines."""
    from gunicorn.app.base import BaseApplication

    def ready(worker):
        if notice and worker.age == workers:
            click.echo(notice)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", "-")
            self.cfg.set("post_worker_init", ready)

        def load(self):
            return make_app(instance, WIKI_MAIL_WORKER=True)

    Server().run()


@cli.group()
def user():
    """Zugänge verwalten."""


@user.command("add")
@instance_option
@click.argument("handle")
@click.option("--name", help="Anzeigename (Standard: Benutzername).")
@click.option("--email", required=True)
@click.option("--admin", is_flag=True)
@click.option("--password", help="Sonst wird eines erzeugt und ausgegeben.")
@click.option(
    "--verified",
    is_flag=True,
    help="Die Adresse gilt als bestätigt (nur wenn die Person sie dir selbst genannt hat).",
)
def user_add(instance, handle, name, email, admin, password, verified):
    """Lege einen Zugang an."""
    from wiki import auth
    from wiki.db import User

    app = make_app(instance)
    with app.app_context():
        problems = auth.handle_problems(auth.normalise_handle(handle))
        if problems:
            raise click.ClickException(problems[0])
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        state = app.extensions["wiki"]
        with state.sessions() as session:
            if session.scalar(select(User).where(User.handle == auth.normalise_handle(handle))):
                raise click.ClickException("Dieser Benutzername ist vergeben.")
            if auth.email_taken(session, email):
                raise click.ClickException("Diese E-Mail-Adresse hat schon ein anderer Zugang.")
            create_user(session, handle, name or handle, email, password, admin, verified)
            session.commit()
    click.echo(f"Zugang {handle} angelegt." + (f" Passwort: {password}" if generated else ""))


@user.command("passwd")
@instance_option
@click.argument("handle")
@click.option("--password", help="Sonst wird ein starkes Passwort erzeugt und ausgegeben.")
def user_passwd(instance, handle, password):
    """Setze das Passwort eines Zugangs (ohne --password: ein neues erzeugen und ausgeben);
    bestehende Anmeldungen des Zugangs enden."""
    from wiki import auth
    from wiki.db import User

    app = make_app(instance)
    generated = password is None
    with app.app_context(), app.extensions["wiki"].sessions() as session:
        account = session.scalar(select(User).where(User.handle == auth.normalise_handle(handle)))
        if account is None:
            raise click.ClickException("Unbekannter Zugang.")
        if generated:
            password = new_password()
        with app.test_request_context():  # the message is translated (gettext needs one)
            problems = [str(problem) for problem in auth.password_problems(password)]
        if problems:
            raise click.ClickException(problems[0])
        account.password_hash = auth.hash_password(password)
        auth.end_sessions(account)
        session.commit()
    if generated:
        click.echo(f"Neues Passwort für {account.handle}: {password}")
    else:
        click.echo("Passwort gesetzt.")


@user.command("list")
@instance_option
def user_list(instance):
    """Liste alle Zugänge."""
    from wiki.db import User

    app = make_app(instance)
    with app.extensions["wiki"].sessions() as session:
        for account in session.scalars(select(User).order_by(User.handle)):
            flags = " (Admin)" if account.is_admin else ""
            click.echo(f"{account.handle}\t{account.display_name}\t{account.email}{flags}")


@user.command("admin")
@instance_option
@click.argument("handle")
@click.option("--revoke", is_flag=True, help="Admin-Recht entziehen.")
def user_admin(instance, handle, revoke):
    """Gib einem Zugang Admin-Rechte (oder entziehe sie)."""
    from wiki.db import User

    app = make_app(instance)
    with app.extensions["wiki"].sessions() as session:
        account = session.scalar(select(User).where(User.handle == handle.lower()))
        if account is None:
            raise click.ClickException("Unbekannter Zugang.")
        account.is_admin = not revoke
        session.commit()
    click.echo("Gespeichert.")


@user.command("reset-2fa")
@instance_option
@click.argument("handle")
def user_reset_2fa(instance, handle):
    """Schalte die Zwei-Faktor-Anmeldung eines Zugangs ab (Telefon und Codes verloren)."""
    from wiki import totp
    from wiki.db import User

    app = make_app(instance)
    with app.app_context(), app.extensions["wiki"].sessions() as session:
        account = session.scalar(select(User).where(User.handle == handle.lower()))
        if account is None:
            raise click.ClickException("Unbekannter Zugang.")
        totp.disable(session, account)
        session.commit()
    click.echo("Zwei-Faktor-Anmeldung abgeschaltet; die Person meldet sich mit Passwort an.")


@cli.command()
@instance_option
def reindex(instance):
    """Baue alle Projektionen (Seiten, Links, Dokumente, Plugins) aus Git neu auf."""
    app = make_app(instance)

    def progress(done, total):
        click.echo(f"\r{done}/{total} Dateien", nl=False, err=True)

    with app.app_context():
        head = app.extensions["wiki"].syncer.reindex(progress=progress)
    click.echo(f"\nNeu aufgebaut bis {head}.")


@cli.command()
@instance_option
def check(instance):
    """Vergleiche die Projektionen mit Git; Exit-Code 1 bei Abweichungen."""
    app = make_app(instance)
    with app.app_context():
        problems = app.extensions["wiki"].syncer.check()
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    click.echo("Alles in Ordnung.")


@cli.command()
@instance_option
def maintain(instance):
    """Schreibe den Commit-Graphen (mit Pfadfiltern), räume das Repository auf und
    optimiere den Suchindex."""
    app = make_app(instance)
    click.echo("Wartung läuft …")
    app.extensions["wiki"].store.maintain()
    with app.app_context():
        app.extensions["wiki"].search.optimize()
    click.echo("Fertig.")


@cli.command()
@instance_option
@click.argument("path")
@click.option("--yes", is_flag=True, help="Ohne Rückfrage.")
def purge(instance, path, yes):
    """Entferne eine Datei oder einen Ordner aus der GESAMTEN Historie (Löschpflicht)."""
    app = make_app(instance)
    if not yes:
        click.confirm(f"{path} unwiderruflich aus allen Versionen entfernen?", abort=True)
    count = app.extensions["wiki"].store.purge(path)
    with app.app_context():
        app.extensions["wiki"].syncer.reindex()
    click.echo(f"{count} Commits umgeschrieben; Projektionen neu aufgebaut.")


@cli.group()
def mail():
    """Ausgehende E-Mails."""


@mail.command("send")
@instance_option
def mail_send(instance):
    """Sende fällige E-Mails jetzt."""
    app = make_app(instance)
    sent = app.extensions["wiki"].mailer.process()
    click.echo(f"{sent} gesendet.")


@mail.command("status")
@instance_option
def mail_status(instance):
    """Zeige den Stand der Warteschlange."""
    app = make_app(instance)
    with app.extensions["wiki"].sessions() as session:
        for status, count in app.extensions["wiki"].mailer.status_counts(session).items():
            click.echo(f"{status}\t{count}")


def configured_plugins(args) -> list[str]:
    """``WIKI_PLUGINS`` as the app will see it (instance config, then environment)."""
    from flask import Config

    from wiki import _from_env

    instance = os.environ.get("WIKI_INSTANCE", "instance")
    for index, arg in enumerate(args):
        if arg == "--instance" and index + 1 < len(args):
            instance = args[index + 1]
        elif arg.startswith("--instance="):
            instance = arg.split("=", 1)[1]
    config = Config(str(Path(instance).resolve()))
    config["WIKI_PLUGINS"] = []
    config.from_pyfile("config.py", silent=True)
    if "WIKI_PLUGINS" in os.environ:
        return _from_env(os.environ["WIKI_PLUGINS"], [])
    return list(config["WIKI_PLUGINS"])


def main(argv=None):
    """Entry point of the console script; plugins add commands through ``wiki_cli``."""
    from wiki.plugins import make_plugin_manager

    names = configured_plugins(sys.argv[1:] if argv is None else argv)
    try:
        make_plugin_manager(names).hook.wiki_cli(cli=cli)
    except ImportError as exc:
        click.echo(f"Plugin nicht ladbar: {exc}", err=True)
    cli.main(args=argv, prog_name="verbandswiki")
