"""The documents of a space: every page attachment in the space and its sub-spaces that the
reader may see, and an upload form into a page of the space."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from plugins.spaces.directory import in_subtree
from plugins.spaces.views import space_ref
from wiki import api as A
from wiki import api as P
from wiki.api import (
    Conflict,
    Document,
    Forbidden,
    NotFound,
    PageRow,
    ValidationFailed,
    can,
    content,
    current_principal,
    get_db,
    page_number,
    read_clause,
)
from wiki.api import state as wiki

PER_PAGE = 100
#: At most this many pages are offered as upload targets (the nearest to the space first).
TARGETS_MAX = 500


def readable(principal):
    """SQL: the pages ``principal`` may read."""
    read_filter = current_app.extensions["wiki"].acl.read_filter(principal)
    return read_clause(read_filter, PageRow.effective_visibility, PageRow.space)


def upload_targets(db, space: str, principal) -> list[PageRow]:
    """Pages of the space (and below) the principal may add documents to."""
    if not principal.logged_in:
        return []
    rows = db.scalars(
        select(PageRow)
        .where(in_subtree(PageRow.space, space), readable(principal))
        .order_by(PageRow.path)
        .limit(TARGETS_MAX)
    )
    acl = wiki().acl
    return [
        row
        for row in rows
        if acl.can(principal, A.EDIT, A.PageRef(row.path, row.effective_visibility, row.space))
    ]


def upload(db, space: str, principal) -> tuple[str | None, list[str]]:
    """Store the uploaded file on the chosen page; (page, problems)."""
    target = request.form.get("page", "").strip()
    row = db.get(PageRow, target) if P.is_valid_path(target) else None
    if (
        row is None
        or row.space is None
        or not (row.space == space or row.space.startswith(space + "/"))
    ):
        return None, [_("Bitte eine Seite dieser Gliederung auswählen.")]
    ref = content().ref(db, target)
    if ref is None or not can(A.READ, ref):
        return None, [_("Bitte eine Seite dieser Gliederung auswählen.")]
    if not can(A.EDIT, ref):
        abort(403)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None, [_("Bitte eine Datei auswählen.")]
    typed = (request.form.get("name") or "").strip()
    name = typed
    try:
        name = P.check_filename(typed) if typed else P.normalize_filename(upload.filename)
        content().upload(
            principal,
            target,
            name,
            upload.read(),
            request.form.get("message", "").strip()
            or _("Dokument %(name)s hochgeladen", name=name),
        )
    except (P.BadName, ValidationFailed, NotFound) as exc:
        return None, [str(exc)]
    except Forbidden:
        abort(403)
    except Conflict:
        return None, [_("Die Seite wurde gerade geändert. Bitte erneut versuchen.")]
    if name != upload.filename.replace("\\", "/").rsplit("/")[-1]:
        flash(_("Dokument gespeichert als „%(name)s“.", name=name), "success")
    else:
        flash(_("Dokument gespeichert."), "success")
    return target, []


def register(bp, plugin) -> None:
    """``/-/spaces/<space>/documents``."""

    @bp.route("/<path:space>/documents", methods=["GET", "POST"])
    def documents(space):
        """Every document in the space the reader may see; upload into one of its pages."""
        space_ref(plugin, space)
        principal = current_principal()
        db = get_db()
        problems: list[str] = []
        chosen = request.form.get("page", "") if request.method == "POST" else ""
        if request.method == "POST":
            if not principal.logged_in:
                abort(403)
            target, problems = upload(db, space, principal)
            if not problems:
                return redirect(url_for("spaces.documents", space=space))
        page = page_number(request.args.get("page"))
        rows = db.execute(
            select(Document, PageRow)
            .join(PageRow, PageRow.path == Document.page)
            .where(in_subtree(PageRow.space, space), readable(principal))
            .order_by(PageRow.path, Document.name)
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        ).all()
        has_next = len(rows) > PER_PAGE
        targets = upload_targets(db, space, principal)
        return render_template(
            "spaces/documents.html",
            space=space,
            info=plugin.rows(db)[space],
            documents=rows[:PER_PAGE],
            page=page,
            has_next=has_next,
            targets=targets,
            chosen=chosen or space,
            problems=problems,
            max_mb=current_app.config["WIKI_MAX_UPLOAD_MB"],
        ), (400 if problems else 200)
