"""Documents of a page: list, upload, download, replace, delete, old versions."""

from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from wiki import acl as A
from wiki import pages as P
from wiki.auth import current_principal
from wiki.content import Forbidden, NotFound, ValidationFailed
from wiki.db import Document, PageRow, get_db
from wiki.storage import Conflict
from wiki.views.common import (
    breadcrumbs,
    can,
    content,
    page_at,
    readable_ref,
    require,
    resolve_rev_or_404,
    valid_path_or_404,
    wiki,
)
from wiki.views.history import unreadable_commits
from wiki.web import error_messages

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
        and (not page_path or get_db().get(PageRow, rest) is not None or orphaned(rest))
    ):
        return listing(rest)
    return download(page_path, name)


def orphaned(path: str) -> bool:
    """True for an admin asking for documents of ``path`` where the page does not exist."""
    return current_principal().is_admin and (
        get_db().scalar(select(Document.name).where(Document.page == path).limit(1)) is not None
    )


def document_ref(path: str) -> A.PageRef | None:
    """The permission view of the page whose documents are asked for, else 404.

    A document's visibility is always its page's. Documents without a page (pushed, or left
    from before deleting a page took its documents along) are for admins only; None then.
    """
    valid_path_or_404(path)
    if current_principal().is_admin and content().ref(get_db(), path) is None:
        return None
    return readable_ref(path)


def listing(path):
    """The documents of a page, with the upload form (POST uploads or replaces one)."""
    ref = document_ref(path)
    problems = []
    if request.method == "POST":
        if not current_principal().logged_in or ref is None:
            abort(403)
        require(A.EDIT, ref)
        upload = request.files.get("file")
        # The explicit name field is taken as typed (and refused if it breaks the grammar);
        # the file's own name is normalised (P.normalize_filename).
        typed = (request.form.get("name") or "").strip()
        name = typed
        if upload is None or not upload.filename:
            problems.append(_("Bitte eine Datei auswählen."))
        else:
            try:
                name = P.check_filename(typed) if typed else P.normalize_filename(upload.filename)
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
                problems.extend(error_messages(exc))
            except Forbidden:
                abort(403)
            except Conflict:
                problems.append(_("Die Seite wurde gerade geändert. Bitte erneut versuchen."))
            else:
                return uploaded(path, name, upload.filename)
        if problems and wants_json():
            return jsonify(problems=problems), 400
    documents = (
        get_db()
        .scalars(select(Document).where(Document.page == path).order_by(Document.name))
        .all()
    )
    row = get_db().get(PageRow, path)
    may_edit = ref is not None and current_principal().logged_in and can(A.EDIT, ref)
    return render_template(
        "files.html",
        path=path,
        row=row,
        documents=documents,
        problems=problems,
        may_edit=may_edit,
        may_delete=may_edit or ref is None,
        max_mb=wiki().config["WIKI_MAX_UPLOAD_MB"],
        crumbs=breadcrumbs(path),
    ), (400 if problems else 200)


def wants_json() -> bool:
    """True if the client asks for a JSON answer (the editor's script, API clients)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def uploaded(path: str, name: str, sent: str):
    """The answer to a successful upload, saying what the name became."""
    renamed = name != sent.replace("\\", "/").rsplit("/")[-1]
    if wants_json():
        url = url_for("files.files", rest=f"{path}/{name}")
        return jsonify(name=name, sent=sent, renamed=renamed, url=url)
    if renamed:
        flash(_("Dokument gespeichert als „%(name)s“.", name=name), "success")
    else:
        flash(_("Dokument gespeichert."), "success")
    return redirect(url_for("files.files", rest=path))


def download(path, name):
    """One document (``?rev=`` for an old version); raster images inline, all else as download.

    An old version is judged by its page as it was at that revision (:func:`page_at`): it is
    readable only if the page existed then and that revision may be read.
    """
    document_ref(path)
    try:
        P.check_filename(name)
    except P.BadName:
        abort(404)
    rev = request.args.get("rev")
    sha = resolve_rev_or_404(rev) if rev else None
    if sha is not None and not current_principal().is_admin:
        page_at(path, sha)
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
    document_ref(path)
    try:
        P.check_filename(name)
    except P.BadName:
        abort(404)
    revisions = wiki().store.history(P.document_file(path, name), limit=100)
    if not revisions:
        abort(404)
    # Versions from when the reader could not read the page are left out (wiki.revisions).
    principal, db = current_principal(), get_db()
    if not principal.is_admin:  # admins also see documents left without a page
        readable = wiki().revisions.readable
        revisions = [r for r in revisions if readable(db, principal, path, r.sha) is not None]
        if not revisions:
            abort(404)
    hidden = unreadable_commits(principal, [r.sha for r in revisions])
    revisions = [replace(r, message="") if r.sha in hidden else r for r in revisions]
    return render_template(
        "file_history.html", path=path, name=name, revisions=revisions, crumbs=breadcrumbs(path)
    )


@bp.post("/-/file-delete/<path:path>/<name>")
@login_required
def delete(path, name):
    """Delete a document (its old versions stay in the history; admins may delete orphans)."""
    ref = document_ref(path)
    if ref is not None:
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
