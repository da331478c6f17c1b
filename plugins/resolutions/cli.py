"""``verbandswiki resolutions …`` commands: import from Antragsgrün or CSV."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import click

from wiki.api import instance_option, synced_app

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


class BadInput(click.ClickException):
    """An input that cannot be read: one clear line, exit code 2, no traceback."""

    exit_code = 2


#: What a malformed input can raise inside the parsers (wrong JSON types, deep nesting).
PARSE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)


def unreadable(name: str, exc: BaseException) -> BadInput:
    """The error line for input ``name`` that a parser could not handle."""
    if isinstance(exc, RecursionError):
        reason = "zu tief verschachtelt"
    elif isinstance(exc, ValueError):
        reason = f"ungültiger Inhalt ({str(exc)[:200]})"
    else:
        reason = "unerwarteter Aufbau (etwa eine Liste, wo ein Objekt stehen muss)"
    return BadInput(f"{name}: kann nicht gelesen werden: {reason}.")


def parse_inputs(paths, urls, fmt: str) -> list:
    """Import items from files, directories and URLs."""
    items = []
    for raw in paths:
        try:
            items.extend(_parse_path(Path(raw), fmt))
        except PARSE_ERRORS as exc:
            raise unreadable(str(raw), exc) from None
        except OSError as exc:
            raise BadInput(f"{raw}: kann nicht gelesen werden: {exc.strerror or exc}.") from None
    for url in urls:
        try:
            text = fetch(url)
        except (OSError, LookupError) as exc:  # network errors, an unknown charset
            raise BadInput(f"{url}: kann nicht geladen werden: {exc}.") from None
        try:
            items.extend(_parse_text(text, url, fmt))
        except PARSE_ERRORS as exc:
            raise unreadable(url, exc) from None
    return items


def _parse_path(path: Path, fmt: str) -> list:
    from plugins.resolutions import antragsgruen, csvimport

    if fmt == "csv" or (fmt == "auto" and path.is_file() and path.suffix.lower() == ".csv"):
        text, warning = csvimport.decode(path.read_bytes())
        if warning:
            click.echo(f"{path}: {warning}", err=True)
        return csvimport.parse_csv(text)
    return antragsgruen.parse_path(path)


def _parse_text(text: str, url: str, fmt: str) -> list:
    from plugins.resolutions import antragsgruen, csvimport

    if fmt == "csv":
        return csvimport.parse_csv(text)
    if text.lstrip().startswith(("{", "[")):
        import json

        return antragsgruen.parse_json(json.loads(text))
    return antragsgruen.parse_html(text, url=url)


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
    @click.option(
        "--date",
        "day",
        default="",
        help="Beschlussdatum (TT.MM.JJJJ oder JJJJ-MM-TT), wo die Quelle keins nennt "
        "(etwa der plainhtml-Export).",
    )
    @click.option("--body", default="", help="Beschließendes Gremium, wo die Quelle keins nennt.")
    @click.option("--event", default="", help="Veranstaltung, wo die Quelle keine nennt.")
    @click.option(
        "--dry-run",
        is_flag=True,
        help="Nur berichten, nichts speichern (zeigt je Eintrag, was aus den Optionen käme).",
    )
    def import_cmd(instance, paths, urls, space, fmt, visibility, day, body, event, dry_run):
        """Importiere Beschlüsse aus Antragsgrün (HTML-Seite, plainhtml, REST-JSON; Dateien oder
        Verzeichnisse) oder aus einer CSV-Tabelle. Wiederholtes Importieren ist sicher:
        Einträge werden über ihre Quell-ID wiedererkannt. --date, --body und --event füllen
        nur, was eine Quelle nicht nennt; der Bericht sagt je Eintrag, was daraus stammt."""
        from plugins.resolutions.importer import Importer
        from wiki.api import Principal, is_valid_path, parse_form_date

        if not paths and not urls:
            raise click.UsageError("Bitte Dateien, Verzeichnisse oder --url angeben.")
        try:
            decided = parse_form_date(day)
        except ValueError:
            raise BadInput(
                f"--date: „{day}“ ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT)."
            ) from None
        space = space.strip("/")
        if space and not is_valid_path(space):
            raise click.BadParameter("kein gültiger Pfad", param_hint="--space")
        app = synced_app(instance)
        state = app.extensions["wiki"]
        with app.app_context():
            if space:
                with state.sessions() as session:
                    found, _default = state.syncer.page_scope(session, f"{space}/beschluesse")
                if found != space:
                    raise click.BadParameter(
                        f"„{space}“ ist keine Gliederung", param_hint="--space"
                    )
            items = parse_inputs(paths, urls, fmt)
            principal = Principal(public_id="system", is_admin=True)
            defaults = {"decided": decided, "body": body.strip(), "event": event.strip()}
            importer = Importer(state, principal, space or None, visibility, dry_run, defaults)
            try:
                with click.progressbar(items, label="Importiere", file=None) as bar:
                    report = importer.run(bar)
            except PARSE_ERRORS as exc:
                raise unreadable("Import abgebrochen", exc) from None
        for line in report.lines():
            click.echo(line)
        if dry_run:
            click.echo("Probelauf: nichts gespeichert.")
