"""Documents of a page: list, upload, download, replace, delete, old versions."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from wiki import acl as A
from wiki import pages as P
from wiki.auth import current_principal
from wiki.content import Forbidden, NotFound, ValidationFailed
from wiki.db import Document, PageRow, get_db
from wiki.views.common import (
    breadcrumbs,
    can,
    content,
    readable_ref,
    require,
    resolve_rev_or_404,
    wiki,
)
from wiki.views.history import unreadable_commits

bp = Blueprint("files", __name__)

#: Raster image types shown inline, recognised by their leading bytes (never by the name).
RASTER_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def raster_type(data: bytes) -> str | None:
    """The image type of ``data`` if it is a raster image we show inline."""
    for signature, mimetype in RASTER_SIGNATURES:
        if data.startswith(signature):
            return mimetype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@bp.route("/-/files/<path:rest>", methods=["GET", "POST"])
def files(rest):
    """``/-/files/<page>`` lists a page's documents, ``/-/files/<page>/<name>`` is one of them.

    A page path never contains upper case, ``.`` or ``_``; where a document name could also be a
    subpage name, an existing page wins.
    """
    page_path, _sep, name = rest.rpartition("/")
    if (
        request.method == "POST"
        or P.is_valid_path(rest)
        and (not page_path or get_db().get(PageRow, rest) is not None)
    ):
        return listing(rest)
    return download(page_path, name)


def listing(path):
    """The documents of a page, with the upload form (POST uploads or replaces one)."""
    ref = readable_ref(path)
    problems = []
    if request.method == "POST":
        if not current_principal().logged_in:
            abort(403)
        require(A.EDIT, ref)
        upload = request.files.get("file")
        # Browsers may send a client-side path as the file name; the explicit name field is
        # taken as typed (and refused if it breaks the grammar).
        sent = (upload.filename if upload else "") or ""
        name = (request.form.get("name") or "").strip() or sent.replace("\\", "/").rsplit("/")[-1]
        if upload is None or not upload.filename:
            problems.append(_("Bitte eine Datei auswählen."))
        else:
            try:
                P.check_filename(name)
                data = upload.read()
                content().upload(
                    current_principal(),
                    path,
                    name,
                    data,
                    request.form.get("message", "").strip()
                    or _("Dokument %(name)s hochgeladen", name=name),
                )
            except (P.BadName, ValidationFailed, NotFound) as exc:
                problems.append(str(exc))
            except Forbidden:
                abort(403)
            else:
                flash(_("Dokument gespeichert."), "success")
                return redirect(url_for("files.files", rest=path))
    documents = (
        get_db()
        .scalars(select(Document).where(Document.page == path).order_by(Document.name))
        .all()
    )
    row = get_db().get(PageRow, path)
    return render_template(
        "files.html",
        path=path,
        row=row,
        documents=documents,
        problems=problems,
        may_edit=current_principal().logged_in and can(A.EDIT, ref),
        max_mb=wiki().config["WIKI_MAX_UPLOAD_MB"],
        crumbs=breadcrumbs(path),
    ), (400 if problems else 200)


def download(path, name):
    """One document (``?rev=`` for an old version); raster images inline, all else as download."""
    readable_ref(path)
    try:
        P.check_filename(name)
    except P.BadName:
        abort(404)
    rev = request.args.get("rev")
    sha = resolve_rev_or_404(rev) if rev else None
    if sha is not None:
        page = content().page(path, sha)
        if page is not None and not can(A.READ, content().ref_for(get_db(), path, page)):
            abort(404)
    data = wiki().store.read(P.document_file(path, name), sha)
    if data is None:
        abort(404)
    mimetype = raster_type(data)
    response = Response(data, mimetype=mimetype or "application/octet-stream")
    disposition = "inline" if mimetype else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.get("/-/file-history/<path:path>/<name>")
def versions(path, name):
    """Old versions of one document."""
    readable_ref(path)
    try:
        P.check_filename(name)
    except P.BadName:
        abort(404)
    revisions = wiki().store.history(P.document_file(path, name), limit=100)
    if not revisions:
        abort(404)
    hidden = unreadable_commits(current_principal(), [r.sha for r in revisions])
    revisions = [replace(r, message="") if r.sha in hidden else r for r in revisions]
    return render_template(
        "file_history.html", path=path, name=name, revisions=revisions, crumbs=breadcrumbs(path)
    )


@bp.post("/-/file-delete/<path:path>/<name>")
@login_required
def delete(path, name):
    """Delete a document (its old versions stay in the history)."""
    ref = readable_ref(path)
    require(A.EDIT, ref)
    try:
        P.check_filename(name)
        content().delete_document(
            current_principal(),
            path,
            name,
            request.form.get("message", "").strip() or _("Dokument %(name)s gelöscht", name=name),
        )
    except (P.BadName, NotFound):
        abort(404)
    except Forbidden:
        abort(403)
    flash(_("Dokument gelöscht."), "success")
    return redirect(url_for("files.files", rest=path))
