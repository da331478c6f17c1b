"""Routes of the resolutions plugin under ``/-/resolutions/``: the archive with facets, lookup by
id, and the exports of the current filter (CSV, JSON, Atom, printable Beschlussbuch)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from plugins.resolutions import labels
from plugins.resolutions import schema as S
from plugins.resolutions.archive import NO_CHAPTER, Archive, BadFilter, Filters
from plugins.resolutions.models import (
    ResolutionInitiator,
    ResolutionLink,
    ResolutionRow,
    ResolutionTopic,
)
from wiki.api import BadQuery, PageRow, SearchUnavailable, csv_text, current_principal, get_db
from wiki.api import state as wiki

#: At most this many resolutions go into one printable Beschlussbuch.
BOOK_LIMIT = 500
#: Entries of the Atom feed.
FEED_LIMIT = 50
#: Column names of the CSV export — the same the CSV import reads, so an export re-imports.
CSV_COLUMNS = (
    "Kennung", "Nummer", "Titel", "Gliederung", "Gremium", "Veranstaltung", "Tagesordnungspunkt",
    "Eingereicht", "Beschlossen", "Antragsteller", "Ergebnis", "Ergebnis-Details",
    "Überwiesen an", "Abstimmung", "Gültigkeit", "Gültig bis", "Themen", "Verknüpfungen",
    "Beschlusstext", "Begründung", "Protokollnotiz", "Quelle", "Seite",
)  # fmt: skip


class QueryError(Exception):
    """A filter or query the archive cannot answer: message and HTTP status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def filter_message(exc: BadFilter) -> str:
    messages = {
        "year": lambda: _("„%(value)s“ ist keine Jahreszahl.", value=exc.value),
        "outcome": lambda: _("Unbekanntes Ergebnis „%(value)s“.", value=exc.value),
        "validity": lambda: _("Unbekannte Gültigkeit „%(value)s“.", value=exc.value),
        "sort": lambda: _("Unbekannte Sortierung „%(value)s“.", value=exc.value),
        "page": lambda: _("Ungültige Seitenzahl „%(value)s“.", value=exc.value),
        "scope": lambda: _("Unbekannter Umfang „%(value)s“.", value=exc.value),
        "too_many": lambda: _("Zu viele Werte für „%(value)s“.", value=exc.value),
        "too_long": lambda: _("Der Wert für „%(value)s“ ist zu lang.", value=exc.value),
    }
    return messages[exc.code]()


def archive_for(filters: Filters, principal=None) -> Archive:
    """The archive as ``principal`` may see it, narrowed to the full-text hits of ``q``."""
    from wiki.api import bad_query_message
    from wiki.api import search_unavailable_message as unavailable_message

    state = wiki()
    principal = principal or current_principal()
    hits = None
    if filters.q:
        try:
            hits = state.search.scores(principal, filters.q, page_type=S.TYPE)
        except BadQuery as exc:
            raise QueryError(bad_query_message(exc), 400) from None
        except SearchUnavailable:
            raise QueryError(unavailable_message(), 503) from None
    return Archive(get_db(), state.acl.read_filter(principal), hits)


def read_filters() -> Filters:
    try:
        return Filters.from_args(request.args)
    except BadFilter as exc:
        raise QueryError(filter_message(exc), 400) from None


def chapter_names(values) -> dict[str, str]:
    """Display names of chapters (their space's name or page title where the reader may see
    it, else the path)."""
    from wiki.api import space_labels

    labels = space_labels([v for v in values if v and v != NO_CHAPTER])
    labels[NO_CHAPTER] = _("ohne Gliederung")
    return labels


# -- serialisation (exports and API) ----------------------------------------------------------


def related(session, paths) -> dict[str, dict]:
    """Topics, initiators and outgoing links of ``paths`` (one query each)."""
    result = {p: {"topics": [], "initiators": [], "links": {}} for p in paths}
    if not result:
        return result
    chosen = sorted(result)
    for path, topic in session.execute(
        select(ResolutionTopic.path, ResolutionTopic.topic)
        .where(ResolutionTopic.path.in_(chosen))
        .order_by(ResolutionTopic.path, ResolutionTopic.position)
    ):
        result[path]["topics"].append(topic)
    for path, name in session.execute(
        select(ResolutionInitiator.path, ResolutionInitiator.name)
        .where(ResolutionInitiator.path.in_(chosen))
        .order_by(ResolutionInitiator.path, ResolutionInitiator.position)
    ):
        result[path]["initiators"].append(name)
    for link in session.scalars(
        select(ResolutionLink).where(ResolutionLink.path.in_(chosen)).order_by(ResolutionLink.id)
    ):
        result[link.path]["links"].setdefault(link.kind, []).append(link.dst)
    return result


def votes_of(row: ResolutionRow) -> dict | str | None:
    if row.unanimous:
        return "unanimous"
    counts = {
        key: value
        for key, value in (
            ("yes", row.votes_yes),
            ("no", row.votes_no),
            ("abstain", row.votes_abstain),
            ("invalid", row.votes_invalid),
        )
        if value is not None
    }
    return counts or None


def votes_text(votes) -> str:
    """The votes as the CSV import reads them (``Ja: 40, Nein: 3, Enthaltungen: 2``)."""
    if votes == "unanimous":
        return "einstimmig"
    if not votes:
        return ""
    names = {"yes": "Ja", "no": "Nein", "abstain": "Enthaltungen", "invalid": "Ungültig"}
    return ", ".join(f"{names[k]}: {v}" for k, v in votes.items())


def item_json(row: ResolutionRow, page: PageRow, extra: dict, base: str) -> dict:
    """A resolution for JSON exports and the API."""
    return {
        "id": row.rid,
        "number": row.number or None,
        "title": row.title,
        "path": row.path,
        "url": base + url_for("pages.view", path=row.path),
        "chapter": page.space,
        "visibility": page.effective_visibility,
        "body": row.body,
        "event": row.event or None,
        "agenda_item": row.agenda_item or None,
        "submitted": row.submitted.isoformat(timespec="minutes") if row.submitted else None,
        "decided": row.decided.isoformat() if row.decided else None,
        "year": row.year,
        "initiators": extra["initiators"],
        "outcome": row.outcome,
        "outcome_detail": row.outcome_detail or None,
        "referred_to": row.referred_to or None,
        "votes": votes_of(row),
        "validity": row.validity,
        "valid_until": row.valid_until.isoformat() if row.valid_until else None,
        "topics": extra["topics"],
        "links": extra["links"],
        "source": {
            k: v
            for k, v in (
                ("system", row.source_system),
                ("url", row.source_url),
                ("id", row.source_id),
            )
            if v
        }
        or None,
        "updated_at": page.updated_at.isoformat() + "Z",
    }


def texts_of(page: PageRow) -> dict[str, str]:
    """The body sections (Beschlusstext, Begründung, …) of a resolution's page."""
    return S.named_sections(wiki().content.cached_page(page.path, page.blob).body)


def base_url() -> str:
    return (wiki().config["WIKI_BASE_URL"] or request.host_url).rstrip("/")


def describe(filters: Filters) -> list[tuple[str, str]]:
    """The active filters as (label, value) pairs (cover of the Beschlussbuch, feed title)."""
    names = chapter_names(filters.chapter)
    parts = []
    if filters.q:
        parts.append((_("Suche"), filters.q))
    for label, values in (
        (_("Jahr"), [str(y) for y in filters.year]),
        (_("Gliederung"), [names.get(c, c) for c in filters.chapter]),
        (_("Beschluss durch"), list(filters.body)),
        (_("Veranstaltung"), list(filters.event)),
        (_("Ergebnis"), [str(labels.OUTCOME_LABELS.get(o, o)) for o in filters.outcome]),
        (_("Gültigkeit"), [str(labels.VALIDITY_LABELS.get(v, v)) for v in filters.validity]),
        (_("Thema"), list(filters.topic)),
        (_("Antragsteller*in"), list(filters.initiator)),
    ):
        if values:
            parts.append((label, ", ".join(values)))
    if filters.current_only:
        parts.append((_("Umfang"), _("geltende Beschlusslage")))
    return parts


def make_blueprint(plugin) -> Blueprint:
    """The archive, lookup by id, exports and the forms."""
    from plugins.resolutions import forms

    bp = Blueprint("resolutions", __name__, url_prefix="/-/resolutions")

    @bp.record_once
    def labels_for_templates(setup_state):
        setup_state.app.jinja_env.globals["resolution_labels"] = labels

    def error_page(exc: QueryError):
        return render_template(
            "resolutions/archive.html", error=str(exc), filters=None, result=None
        ), exc.status

    @bp.get("/")
    def archive():
        """The archive: full text, facets with counts, sorting, pagination; an id jumps."""
        found = []
        try:
            filters = read_filters()
            if filters.q and filters.page == 1:
                read_filter = wiki().acl.read_filter(current_principal())
                found = Archive(get_db(), read_filter).by_id(filters.q)
                if len(found) == 1:
                    return redirect(url_for("pages.view", path=found[0][0].path))
            archive = archive_for(filters)
        except QueryError as exc:
            return error_page(exc)
        result = archive.query(filters)
        # What the default view leaves out, so nobody misses a rejected motion they look for.
        beyond = 0
        if filters.current_only and filters.active():
            beyond = archive.count(replace(filters, everything=True)) - result.total
        names = chapter_names(
            [f.value for f in result.facets.get("chapter", [])]
            + [p.space for _, p in result.rows if p.space]
        )
        return render_template(
            "resolutions/archive.html",
            filters=filters,
            result=result,
            matches=found,
            beyond=beyond,
            names=names,
            error=None,
        )

    @bp.get("/<rid>")
    def lookup(rid):
        """A resolution by its id (a stable link for citations and printed references)."""
        if not S.valid_id(rid):
            abort(404)
        archive = Archive(get_db(), wiki().acl.read_filter(current_principal()))
        found = archive.rows_where(ResolutionRow.rid_key == S.key_of(rid))
        if not found:
            abort(404)
        return redirect(url_for("pages.view", path=found[0][0].path))

    def export_rows(filters: Filters, limit=None, principal=None):
        archive = archive_for(filters, principal)
        return archive.all_rows(filters, limit=limit)

    @bp.get("/export.csv")
    def export_csv():
        """Every resolution of the current filter as CSV (German spreadsheet conventions)."""
        try:
            filters = read_filters()
            rows = export_rows(filters)
        except QueryError as exc:
            return Response(str(exc), status=exc.status, mimetype="text/plain")
        session = get_db()
        extra = related(session, [r.path for r, _ in rows])
        names = chapter_names({p.space for _, p in rows if p.space})
        base = base_url()

        def lines():
            for row, page in rows:
                more = extra[row.path]
                texts = texts_of(page)
                links = "; ".join(
                    f"{kind}: {', '.join(ids)}" for kind, ids in more["links"].items()
                )
                yield [
                    row.rid, row.number, row.title,
                    names.get(page.space, page.space) if page.space else "",
                    row.body, row.event, row.agenda_item,
                    row.submitted.strftime("%Y-%m-%d %H:%M") if row.submitted else "",
                    row.decided.isoformat() if row.decided else "",
                    "; ".join(more["initiators"]), row.outcome, row.outcome_detail,
                    row.referred_to, votes_text(votes_of(row)), row.validity or "",
                    row.valid_until.isoformat() if row.valid_until else "",
                    "; ".join(more["topics"]), links,
                    texts.get("Beschlusstext", ""), texts.get("Begründung", ""),
                    texts.get("Protokollnotiz", ""), row.source_url,
                    base + url_for("pages.view", path=row.path),
                ]  # fmt: skip

        return attachment(csv_text(CSV_COLUMNS, lines()), "text/csv", "csv")

    @bp.get("/export.json")
    def export_json():
        """Every resolution of the current filter as JSON (with the text sections)."""
        try:
            filters = read_filters()
            rows = export_rows(filters)
        except QueryError as exc:
            return jsonify({"error": str(exc)}), exc.status
        extra = related(get_db(), [r.path for r, _ in rows])
        base = base_url()
        items = []
        for row, page in rows:
            item = item_json(row, page, extra[row.path], base)
            item["texts"] = texts_of(page)
            items.append(item)
        data = {
            "filters": filters.args(page=1),
            "total": len(items),
            "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "resolutions": items,
        }
        text = json.dumps(data, ensure_ascii=False, indent=1)
        return attachment(text, "application/json", "json")

    def attachment(text: str, mimetype: str, suffix: str) -> Response:
        response = Response(text, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="beschluesse.{suffix}"'
        if current_principal().logged_in:
            response.headers["Cache-Control"] = "private, no-store"
        return response

    @bp.get("/feed.atom")
    def feed():
        """Atom feed of the newest resolutions of the current filter (``?token=`` for a
        personal feed token, as for recent changes)."""
        from wiki.api import feed_principal

        principal = feed_principal()
        try:
            filters = read_filters()
            rows = export_rows(filters, limit=FEED_LIMIT, principal=principal)
        except QueryError as exc:
            return Response(str(exc), status=exc.status, mimetype="text/plain")
        args = filters.args()
        base = base_url()
        body = render_template(
            "resolutions/feed.xml",
            rows=rows,
            base=base,
            self_url=base + url_for("resolutions.feed", **args),
            archive_url=base + url_for("resolutions.archive", **args),
            updated=max((p.updated_at for _, p in rows), default=None),
            description=describe(filters),
        )
        response = make_response(body)
        response.mimetype = "application/atom+xml"
        if request.args.get("token"):
            response.headers["Cache-Control"] = "private, no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @bp.get("/beschlussbuch")
    def book():
        """The printable Beschlussbuch of the current filter: cover, contents, one section per
        resolution with its data and texts."""
        from wiki.api import finish_html

        try:
            filters = read_filters()
            rows = export_rows(filters, limit=BOOK_LIMIT + 1)
        except QueryError as exc:
            return error_page(exc)
        if len(rows) > BOOK_LIMIT:
            message = _(
                "Ein Beschlussbuch fasst höchstens %(limit)d Beschlüsse. Bitte die Auswahl "
                "eingrenzen.",
                limit=BOOK_LIMIT,
            )
            return error_page(QueryError(message, 400))
        extra = related(get_db(), [r.path for r, _ in rows])
        names = chapter_names({p.space for _, p in rows if p.space})
        entries = []
        content = wiki().content
        for row, page in rows:
            parsed = content.cached_page(page.path, page.blob)
            rendered = wiki().syncer.render(parsed)
            entries.append((row, page, extra[row.path], Markup(finish_html(rendered, parsed))))
        return render_template(
            "resolutions/book.html",
            entries=entries,
            names=names,
            filters=filters,
            description=describe(filters),
            today=datetime.now(UTC),
            votes_of=votes_of,
        )

    forms.register(bp, plugin)
    return bp
