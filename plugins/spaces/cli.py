"""``verbandswiki space …`` commands."""

from __future__ import annotations

import click
from sqlalchemy import select

from wiki.api import instance_option, synced_app


def register(cli) -> None:
    """Add the ``space`` group to the ``verbandswiki`` command line."""
    if "space" in cli.commands:
        return

    @cli.group()
    def space():
        """Gliederungen und Mitgliedschaften verwalten."""

    @space.command("list")
    @instance_option
    def space_list(instance):
        """Liste alle Gliederungen."""
        from plugins.spaces.directory import member_count
        from plugins.spaces.models import Space

        app = synced_app(instance)
        with app.app_context(), app.extensions["wiki"].sessions() as session:
            for row in session.scalars(select(Space).order_by(Space.path)):
                count = member_count(session, row.path)
                people = "1 Mitglied" if count == 1 else f"{count} Mitglieder"
                click.echo(f"{row.path}\t{row.code}\t{row.kind}\t{row.name}\t{people}")

    @space.command("members")
    @instance_option
    @click.argument("space_path")
    def space_members(instance, space_path):
        """Liste die Mitglieder einer Gliederung (mit Untergliederungen)."""
        from plugins.spaces.directory import entries

        app = synced_app(instance)
        plugin = app.extensions["wiki"].pm.get_plugin("plugins.spaces:app")
        with app.app_context(), app.extensions["wiki"].sessions() as session:
            _require_space(plugin, session, space_path)
            for entry in entries(session, plugin, space_path):
                role = "Vorstand" if entry.role == "board" else "Mitglied"
                click.echo(
                    f"{entry.user.handle}\t{entry.user.display_name}\t{role}\t{entry.chapter}"
                )

    @space.command("add-member")
    @instance_option
    @click.argument("space_path")
    @click.argument("user")
    @click.option("--board", is_flag=True, help="Als Vorstandsmitglied.")
    @click.option("--until", "term_ends", help="Ende der Amtszeit (JJJJ-MM-TT).")
    def add_member_cmd(instance, space_path, user, board, term_ends):
        """Nimm USER (Benutzername oder E-Mail) in eine Gliederung auf."""
        from plugins.spaces.directory import add_member, parse_date

        app = synced_app(instance)
        plugin = app.extensions["wiki"].pm.get_plugin("plugins.spaces:app")
        with app.app_context(), app.extensions["wiki"].sessions() as session:
            _require_space(plugin, session, space_path)
            account = _lookup(session, user)
            term = parse_date(term_ends or "")
            if term is False:
                raise click.ClickException("--until erwartet ein Datum JJJJ-MM-TT.")
            add_member(session, account.id, space_path, "board" if board else "member", term)
            session.commit()
        click.echo("Gespeichert.")

    @space.command("remove-member")
    @instance_option
    @click.argument("space_path")
    @click.argument("user")
    def remove_member_cmd(instance, space_path, user):
        """Entferne USER aus einer Gliederung."""
        from plugins.spaces.models import Membership

        app = synced_app(instance)
        with app.app_context(), app.extensions["wiki"].sessions() as session:
            account = _lookup(session, user)
            row = account and session.scalar(
                select(Membership).where(
                    Membership.user_id == account.id, Membership.space == space_path
                )
            )
            if not row:
                raise click.ClickException("Keine solche Mitgliedschaft.")
            session.delete(row)
            session.commit()
        click.echo("Entfernt.")


def _lookup(session, text: str):
    """The account named by user name or verified address; a clear error otherwise."""
    from plugins.spaces.directory import AMBIGUOUS_EMAIL
    from plugins.spaces.views import user_lookup
    from wiki.api import AmbiguousEmail

    try:
        account = user_lookup(session, text)
    except AmbiguousEmail:
        raise click.ClickException(AMBIGUOUS_EMAIL) from None
    if account is None:
        if "@" in text:
            raise click.ClickException(
                "Kein Zugang mit dieser bestätigten E-Mail-Adresse (unbestätigte Adressen "
                "zählen nicht; der Benutzername geht immer)."
            )
        raise click.ClickException("Unbekannter Zugang.")
    return account


def _require_space(plugin, session, path: str) -> None:
    if path not in plugin.spaces(None):
        raise click.ClickException(f"Keine Gliederung „{path}“.")
