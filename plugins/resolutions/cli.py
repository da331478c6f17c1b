"""``verbandswiki resolutions …`` commands: import from Antragsgrün or CSV."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import click

from wiki.cli import instance_option, make_app

#: Largest download accepted by ``--url``.
MAX_DOWNLOAD = 20 * 1024 * 1024


def fetch(url: str) -> str:
    """The text at ``url`` (http/https only; the network is optional, files work offline)."""
    if not url.startswith(("https://", "http://")):
        raise click.BadParameter("nur http(s)-Adressen", param_hint="--url")
    request = urllib.request.Request(url, headers={"Accept": "application/json, text/html"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - scheme checked
        data = response.read(MAX_DOWNLOAD + 1)
        charset = response.headers.get_content_charset() or "utf-8"
    if len(data) > MAX_DOWNLOAD:
        raise click.ClickException("Die Antwort ist größer als 20 MB.")
    return data.decode(charset, "replace")


def parse_inputs(paths, urls, fmt: str) -> list:
    """Import items from files, directories and URLs."""
    from plugins.resolutions import antragsgruen, csvimport

    items = []
    for raw in paths:
        path = Path(raw)
        if fmt == "csv" or (fmt == "auto" and path.is_file() and path.suffix.lower() == ".csv"):
            items.extend(csvimport.parse_csv(path.read_text(encoding="utf-8-sig")))
        else:
            items.extend(antragsgruen.parse_path(path))
    for url in urls:
        text = fetch(url)
        if fmt == "csv":
            items.extend(csvimport.parse_csv(text))
        elif text.lstrip().startswith(("{", "[")):
            import json

            items.extend(antragsgruen.parse_json(json.loads(text)))
        else:
            items.extend(antragsgruen.parse_html(text, url=url))
    return items


def register(cli) -> None:
    """Add the ``resolutions`` group to the ``verbandswiki`` command line."""
    if "resolutions" in cli.commands:
        return

    @cli.group()
    def resolutions():
        """Beschlüsse importieren."""

    @resolutions.command("import")
    @instance_option
    @click.argument("paths", nargs=-1, type=click.Path(exists=True))
    @click.option("--url", "urls", multiple=True, help="Von dieser Adresse laden (mehrfach).")
    @click.option("--space", default="", help="Gliederung, in die importiert wird (Pfad).")
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["auto", "antragsgruen", "csv"]),
        default="auto",
        show_default=True,
        help="Eingabeformat (auto: .csv ist CSV, sonst Antragsgrün-HTML oder -JSON).",
    )
    @click.option(
        "--visibility",
        type=click.Choice(["public", "internal", "members", "board"]),
        help="Sichtbarkeit neuer Beschlüsse (sonst der Standard der Gliederung).",
    )
    @click.option("--body", default="", help="Beschließendes Gremium, wo die Quelle keins nennt.")
    @click.option("--event", default="", help="Veranstaltung, wo die Quelle keine nennt.")
    @click.option("--dry-run", is_flag=True, help="Nur berichten, nichts speichern.")
    def import_cmd(instance, paths, urls, space, fmt, visibility, body, event, dry_run):
        """Importiere Beschlüsse aus Antragsgrün (HTML-Seite, plainhtml, REST-JSON; Dateien oder
        Verzeichnisse) oder aus einer CSV-Tabelle. Wiederholtes Importieren ist sicher:
        Einträge werden über ihre Quell-ID wiedererkannt."""
        from plugins.resolutions.importer import Importer
        from wiki.acl import Principal
        from wiki.pages import is_valid_path

        if not paths and not urls:
            raise click.UsageError("Bitte Dateien, Verzeichnisse oder --url angeben.")
        space = space.strip("/")
        if space and not is_valid_path(space):
            raise click.BadParameter("kein gültiger Pfad", param_hint="--space")
        app = make_app(instance)
        state = app.extensions["wiki"]
        with app.app_context():
            state.syncer.ensure_current()
            if space:
                with state.sessions() as session:
                    found, _default = state.syncer.page_scope(session, f"{space}/beschluesse")
                if found != space:
                    raise click.BadParameter(
                        f"„{space}“ ist keine Gliederung", param_hint="--space"
                    )
            items = parse_inputs(paths, urls, fmt)
            principal = Principal(public_id="system", is_admin=True)
            defaults = {"body": body.strip(), "event": event.strip()}
            importer = Importer(state, principal, space or None, visibility, dry_run, defaults)
            with click.progressbar(items, label="Importiere", file=None) as bar:
                report = importer.run(bar)
        for line in report.lines():
            click.echo(line)
        if dry_run:
            click.echo("Probelauf: nichts gespeichert.")
