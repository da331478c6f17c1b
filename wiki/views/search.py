"""Search: the results page, title suggestions and the JSON API (all permission-filtered)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from wiki import pages as P
from wiki.auth import current_principal
from wiki.db import PageRow, get_db
from wiki.search import BadQuery, SearchUnavailable
from wiki.search.querylang import with_filter, without_filter
from wiki.views.common import page_number, visible_paths, wiki

bp = Blueprint("search", __name__)

#: Facet names in the query language → heading.
FACET_ORDER = ("typ", "in", "jahr")
#: Space facet values shown before "more".
FACET_LIMIT = 12


def service():
    return wiki().search


def bad_query_message(exc: BadQuery) -> str:
    """The German (translatable) message for a malformed query."""
    p = exc.params
    messages = {
        "too_long": lambda: _(
            "Die Suchanfrage ist zu lang (höchstens %(limit)d Zeichen).", limit=p["limit"]
        ),
        "too_many": lambda: _(
            "Die Suchanfrage hat zu viele Teile (höchstens %(limit)d).", limit=p["limit"]
        ),
        "unclosed_quote": lambda: _(
            "Ein Anführungszeichen wird nicht geschlossen. Eine Phrase steht zwischen zwei "
            "Anführungszeichen."
        ),
        "or_position": lambda: _("„OR“ muss zwischen zwei Suchbegriffen stehen."),
        "or_negated": lambda: _(
            "Ein ausgeschlossener Begriff (mit „-“) kann nicht mit „OR“ verbunden werden."
        ),
        "lone_minus": lambda: _(
            "Nach „-“ fehlt der auszuschließende Begriff (ohne Leerzeichen: -Wort)."
        ),
        "empty_filter": lambda: _("Nach „%(key)s:“ fehlt ein Wert.", key=p["key"]),
        "unknown_field": lambda: _(
            "Unbekanntes Suchfeld „%(key)s:“. Möglich sind: %(known)s.",
            key=p["key"],
            known=p["known"],
        ),
        "short_prefix": lambda: _(
            "Vor dem „*“ müssen mindestens %(limit)d Buchstaben stehen.", limit=p["limit"]
        ),
        "inner_star": lambda: _("Der Stern „*“ ist nur am Ende eines Wortes erlaubt."),
        "bad_year": lambda: _(
            "„jahr:“ erwartet eine Jahreszahl wie 2024 oder einen Bereich wie 2020-2023."
        ),
        "bad_value": lambda: _(
            "Der Wert „%(value)s“ passt nicht zum Feld „%(key)s:“.",
            value=p["value"],
            key=p["key"],
        ),
        "nothing": lambda: _("Bitte mindestens einen Suchbegriff angeben."),
    }
    make = messages.get(exc.code)
    return make() if make else str(exc)


def unavailable_message() -> str:
    return _("Der Suchindex wird gerade aufgebaut. Bitte versuche es in einer Minute noch einmal.")


def sort_arg() -> str:
    return "date" if request.args.get("sort") in ("datum", "date") else "relevance"


def crumbs_for(paths) -> dict[str, list[tuple[str, str | None]]]:
    """Breadcrumbs (title, url) of the ancestors of every path; hidden ones without title."""
    parents = sorted({parent for path in paths for parent in P.parent_paths(path)})
    if not parents:
        return {path: [] for path in paths}
    rows = dict(
        get_db().execute(select(PageRow.path, PageRow.title).where(PageRow.path.in_(parents))).all()
    )
    visible = visible_paths(parents)
    result = {}
    for path in paths:
        crumbs = []
        for parent in P.parent_paths(path):
            if parent in visible:
                crumbs.append((rows[parent], url_for("pages.view", path=parent)))
            else:
                crumbs.append((parent.rsplit("/", 1)[-1], None))
        result[path] = crumbs
    return result


def space_labels(values) -> dict[str, str]:
    """Titles of the space pages the reader may see (else the space's path)."""
    values = list(values)
    visible = visible_paths(values)
    rows = {}
    if visible:
        query = select(PageRow.path, PageRow.title).where(PageRow.path.in_(sorted(visible)))
        rows = dict(get_db().execute(query).all())
    return {v: rows.get(v, v) for v in values}


@bp.get("/-/search")
def search():
    """The results page (a form with the syntax help when there is no query)."""
    q = request.args.get("q", "").strip()
    sort = sort_arg()
    number = page_number(request.args.get("page"))
    context = {"q": q, "sort": sort, "results": None, "error": None}
    if not q:
        return render_template("search.html", **context)
    try:
        results = service().search(current_principal(), q, page=number, sort=sort)
    except BadQuery as exc:
        context["error"] = bad_query_message(exc)
        return render_template("search.html", **context), 400
    except SearchUnavailable:
        context["error"] = unavailable_message()
        return render_template("search.html", **context), 503
    spaces = [f.value for f in results.facets.get("in", [])]
    labels = space_labels(spaces + [h.space for h in results.hits if h.space])
    context.update(
        results=results,
        crumbs=crumbs_for([h.path for h in results.hits]),
        labels=labels,
        facets=[(name, results.facets.get(name, [])) for name in FACET_ORDER],
        facet_limit=FACET_LIMIT,
        with_filter=with_filter,
        without_filter=without_filter,
    )
    return render_template("search.html", **context)


@bp.get("/-/search/titles")
def titles():
    """Pages whose title starts like ``?q=`` (JSON list of ``{"path", "title"}``)."""
    q = request.args.get("q", "")
    try:
        items = service().titles(current_principal(), q, limit=10)
    except SearchUnavailable:
        items = []
    response = jsonify(items)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/-/api/v1/search")
def api():
    """``?q=…&page=&sort=relevanz|datum``: results, total, facets and suggestion as JSON."""
    q = request.args.get("q", "").strip()
    try:
        results = service().search(
            current_principal(), q, page=page_number(request.args.get("page")), sort=sort_arg()
        )
    except BadQuery as exc:
        return jsonify(
            {"error": "bad_query", "code": exc.code, "message": bad_query_message(exc)}
        ), 400
    except SearchUnavailable:
        return jsonify({"error": "unavailable", "message": unavailable_message()}), 503
    return jsonify(
        {
            "query": results.query,
            "total": results.total,
            "page": results.page,
            "per_page": results.per_page,
            "has_next": results.has_next,
            "sort": "datum" if results.sort == "date" else "relevanz",
            "results": [
                {
                    "path": hit.path,
                    "title": hit.title,
                    "type": hit.type,
                    "space": hit.space,
                    "visibility": hit.visibility,
                    "tags": hit.tags,
                    "updated_at": hit.updated.isoformat() + "Z" if hit.updated else None,
                    "snippet_html": str(hit.snippet),
                    "score": round(hit.score, 4),
                }
                for hit in results.hits
            ],
            "facets": {
                name: {f.value: f.count for f in values} for name, values in results.facets.items()
            },
            "suggestion": results.suggestion,
        }
    )
