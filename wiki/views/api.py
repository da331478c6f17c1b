"""JSON API v1: pages (get, list, save with base revision) and recent changes.

Writes need ``Authorization: Bearer <personal access token>``; a session cookie is never enough
for a write here, so the API needs no CSRF token. Reads work with either.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from wiki import acl as A
from wiki import pages as P
from wiki.auth import current_principal
from wiki.content import Forbidden, NotAvailable, ValidationFailed
from wiki.db import PageRow, get_db
from wiki.queries import read_clause
from wiki.storage import REV_RE, Conflict
from wiki.views.common import (
    can,
    content,
    page_at,
    page_number,
    render_page,
    resolve_rev_or_404,
    wiki,
)
from wiki.views.history import changes_page
from wiki.web import error_messages

bp = Blueprint("api", __name__, url_prefix="/-/api/v1")


def page_json(row: PageRow) -> dict:
    """The listing fields of a page."""
    return {
        "path": row.path,
        "title": row.title,
        "type": row.type,
        "visibility": row.effective_visibility,
        "space": row.space,
        "updated_at": row.updated_at.isoformat() + "Z",
    }


@bp.get("/pages")
def list_pages():
    """Pages the caller may read (``?prefix=``, ``?page=``)."""
    prefix = request.args.get("prefix", "").strip("/")
    size = int(wiki().config["WIKI_PAGE_SIZE"])
    number = page_number(request.args.get("page"))
    query = select(PageRow).where(
        read_clause(
            wiki().acl.read_filter(current_principal()),
            PageRow.effective_visibility,
            PageRow.space,
        )
    )
    if prefix:
        query = query.where((PageRow.path == prefix) | PageRow.path.like(f"{prefix}/%"))
    rows = (
        get_db()
        .scalars(query.order_by(PageRow.path).offset((number - 1) * size).limit(size + 1))
        .all()
    )
    return jsonify(
        {"pages": [page_json(r) for r in rows[:size]], "page": number, "has_next": len(rows) > size}
    )


@bp.get("/pages/<path:path>")
def get_page(path):
    """One page: markdown, HTML, front matter and the revision to use as base for a save."""
    rev = request.args.get("rev")
    page = page_at(path, rev)
    html, toc = render_page(page)
    row = get_db().get(PageRow, path)
    if row is not None:
        fields = page_json(row)
    else:  # a past revision of a deleted page (page_at checked it): as it was then
        ref = wiki().revisions.ref_at(path, page, resolve_rev_or_404(rev))
        fields = {
            "path": path,
            "title": page.title,
            "type": page.type,
            "visibility": ref.visibility,
            "space": ref.space,
            "updated_at": None,
            "deleted": True,
        }
    return jsonify(
        {
            **fields,
            "markdown": page.text(),
            "body": page.body,
            "html": str(html),
            "meta": page.meta,
            "tags": page.tags,
            "revision": wiki().store.head(),
        }
    )


@bp.route("/pages/<path:path>", methods=["PUT", "POST"])
def save_page(path):
    """Save a page: JSON ``{"text", "base", "message"}``; 409 with details on conflict."""
    # current_user first: it runs the loaders, and the bearer loader marks the request.
    if not current_user.is_authenticated or not getattr(g, "wiki_bearer", False):
        return jsonify({"error": "unauthorized", "message": "Bearer token required"}), 401
    if not P.is_valid_path(path):
        return jsonify({"error": "bad_path", "message": _("Ungültiger Seitenname")}), 400
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return jsonify({"error": "bad_request", "message": _("JSON mit „text“ erwartet")}), 400
    base = data.get("base") or None
    if base is not None and (not isinstance(base, str) or not REV_RE.fullmatch(base)):
        return jsonify({"error": "bad_base", "message": _("Ungültige Ausgangsversion")}), 400
    ref = content().ref(get_db(), path)
    if ref is not None and not can(A.READ, ref):
        abort(404)
    message = str(data.get("message") or _("Seite über die API bearbeitet"))[:2000]
    try:
        result = content().save(
            current_principal(), path, data["text"], base, message, create=ref is None
        )
    except Conflict as conflict:
        revisions = wiki().revisions
        theirs, merged = revisions.conflict_texts(get_db(), current_principal(), path, conflict)
        return jsonify(
            {
                "error": "conflict",
                "message": _("Die Seite wurde inzwischen geändert."),
                "head": conflict.head,
                "theirs": theirs,
                "merged": merged,
            }
        ), 409
    except ValidationFailed as exc:
        return jsonify({"error": "invalid", "problems": error_messages(exc)}), 400
    except NotAvailable as exc:
        return jsonify({"error": "not_available", "message": error_messages(exc)[0]}), 409
    except Forbidden as exc:
        return jsonify({"error": "forbidden", "message": error_messages(exc)[0]}), 403
    return jsonify({"path": path, "revision": result.sha, "changed": result.changed}), (
        201 if ref is None else 200
    )


@bp.get("/changes")
def changes():
    """Recent changes the caller may read."""
    rows, number, has_next = changes_page()
    return jsonify(
        {
            "changes": [
                {
                    "commit": change.commit,
                    "path": change.path,
                    "action": change.action,
                    "old_path": change.old_path,
                    "title": title or change.title,
                    "message": change.message,
                    "at": change.at.isoformat() + "Z",
                }
                for change, title in rows
            ],
            "page": number,
            "has_next": has_next,
        }
    )
