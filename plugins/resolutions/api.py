"""JSON API of the resolutions plugin under ``/-/api/v1/resolutions``.

``GET /-/api/v1/resolutions`` takes the archive's filters (``q``, ``year``, ``chapter``, ``sub``,
``body``, ``event``, ``outcome``, ``validity``, ``topic``, ``initiator``, ``scope=all``, ``sort``,
``page``, ``per_page``) and answers the readable resolutions with facet counts;
``GET /-/api/v1/resolutions/<id>`` answers one with its texts and links in both directions.
Reads work with a session or ``Authorization: Bearer <token>``, like the core API.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for
from sqlalchemy import select

from plugins.resolutions import schema as S
from plugins.resolutions.archive import Archive
from plugins.resolutions.models import ResolutionLink, ResolutionRow
from plugins.resolutions.views import (
    QueryError,
    archive_for,
    base_url,
    item_json,
    read_filters,
    related,
    texts_of,
)
from wiki.api import current_principal, get_db
from wiki.api import state as wiki

MAX_PER_PAGE = 200


def make_api_blueprint(plugin) -> Blueprint:
    bp = Blueprint("resolutions_api", __name__, url_prefix="/-/api/v1/resolutions")

    @bp.get("")
    def list_resolutions():
        """Resolutions of the filter, one page of them, with facet counts."""
        per_page = request.args.get("per_page", "25")
        if (
            not (per_page.isascii() and per_page.isdigit() and len(per_page) <= 6)
            or not 1 <= int(per_page) <= MAX_PER_PAGE
        ):
            return jsonify({"error": f"per_page muss zwischen 1 und {MAX_PER_PAGE} liegen."}), 400
        try:
            filters = read_filters()
            archive = archive_for(filters)
        except QueryError as exc:
            return jsonify({"error": str(exc)}), exc.status
        result = archive.query(filters, per_page=int(per_page))
        extra = related(get_db(), [r.path for r, _ in result.rows])
        base = base_url()
        return jsonify(
            {
                "total": result.total,
                "page": result.page,
                "per_page": result.per_page,
                "has_next": result.has_next,
                "filters": filters.args(page=result.page),
                "resolutions": [item_json(r, p, extra[r.path], base) for r, p in result.rows],
                "facets": {
                    name: [
                        {"value": f.value, "count": f.count, "active": f.active}
                        | ({"total": f.total} if name == "chapter" else {})
                        for f in values
                    ]
                    for name, values in result.facets.items()
                },
            }
        )

    @bp.get("/<rid>")
    def get_resolution(rid):
        """One resolution by id: its fields, texts and typed links in both directions (only
        to resolutions the caller may read)."""
        if not S.valid_id(rid):
            abort(404)
        read_filter = wiki().acl.read_filter(current_principal())
        archive = Archive(get_db(), read_filter)
        found = archive.rows_where(ResolutionRow.rid_key == S.key_of(rid))
        if not found:
            abort(404)
        row, page = found[0]
        session = get_db()
        item = item_json(row, page, related(session, [row.path])[row.path], base_url())
        item["texts"] = texts_of(page)
        item["revision"] = wiki().store.head()
        incoming = session.scalars(
            select(ResolutionLink).where(ResolutionLink.dst_key == row.rid_key)
        ).all()
        paths = sorted({link.path for link in incoming})
        sources = {r.path: r for r, _ in archive.rows_where(ResolutionRow.path.in_(paths), None)}
        item["linked_from"] = [
            {"kind": link.kind, "id": sources[link.path].rid}
            for link in incoming
            if link.path in sources
        ]
        item["html_url"] = base_url() + url_for("pages.view", path=row.path)
        return jsonify(item)

    return bp
