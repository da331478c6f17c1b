"""Page views: show, edit, new, preview, raw, rename, delete, revert, backlinks, index, problems."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import func, select

from wiki import acl as A
from wiki import pages as P
from wiki.auth import current_principal
from wiki.content import Forbidden, NotAvailable, NotFound, TooLarge, ValidationFailed
from wiki.db import Document, Link, PageRow, Redirect, get_db
from wiki.markup import RenderCache
from wiki.storage import REV_RE, Conflict
from wiki.views.common import (
    breadcrumbs,
    can,
    content,
    finish_html,
    page_at,
    page_number,
    readable_ref,
    render_page,
    require,
    resolve_rev_or_404,
    valid_path_or_404,
    visible_paths,
    wiki,
)
from wiki.views.conflict import RESOLUTIONS, conflict_page, resolved_text
from wiki.views.editor_documents import sent_documents, with_links
from wiki.web import USER_NAME_SECONDS, error_messages, format_dt

bp = Blueprint("pages", __name__)


def read_filter_clause(vis_col, space_col):
    """SQL condition for the rows the current principal may read."""
    from wiki.queries import read_clause

    return read_clause(wiki().acl.read_filter(current_principal()), vis_col, space_col)


@bp.get("/")
def home():
    """The start page."""
    return view(P.HOME)


@bp.get("/<page:path>")
def view(path):
    """A page, or a past revision of it with ``?rev=``."""
    if not P.is_valid_path(path):
        abort(404)
    state = wiki()
    principal = current_principal()
    rev = request.args.get("rev")
    # Anonymous readers all see the same page at a given HEAD: serve it from memory, without
    # touching the database (HEAD fixes the page, its visibility and every link's target).
    cache_key = None
    if not principal.logged_in and not request.args and not session.get("_flashes"):
        cache_key = (path, state.syncer.synced_head, str(get_locale()))
        cached = anonymous_pages().get(cache_key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
    row = get_db().get(PageRow, path)
    ref = content().ref_of(row)
    if ref is not None and not can(A.READ, ref):
        ref = row = None  # a page the reader may not read answers exactly like a missing one
    if ref is None and not rev:
        return missing(path)
    page = page_at(path, rev)  # a past revision: judged alike for hidden and missing pages
    # What the reader may see, as a cache key of the parts of the current version.
    reader = None if rev else state.acl.read_filter(principal).key()
    html, toc, crumbs = (
        reader_parts(page, reader) if reader else (*render_page(page), breadcrumbs(path))
    )
    replaced = state.pm.hook.wiki_page_body(page=page, principal=principal, args=request.args)
    if replaced is not None:
        html = Markup(replaced)
    sections = []
    for part in state.pm.hook.wiki_page_sections(page=page, principal=principal):
        sections.extend(part if isinstance(part, list | tuple) else [part] if part else [])
    after = [s for s in sections if getattr(s, "place", "before") == "after"]
    sections = [s for s in sections if getattr(s, "place", "before") != "after"]
    frame = page_frame(
        page,
        row,
        resolve_rev_or_404(rev) if rev else None,
        reader=reader,
        toc=toc,
        crumbs=crumbs,
        may_edit=ref is not None and can(A.EDIT, ref),
        may_move=ref is not None and can(A.MOVE, ref),
        # Pages usually start with "# Title": then the text brings its own heading.
        body_has_title=html.lstrip().startswith("<h1"),
    )
    body = render_template("page.html", page=page, html=html, sections=sections, after=after,
                           frame=frame)  # fmt: skip
    cacheable = all(getattr(s, "cacheable", False) for s in (*sections, *after))
    if cache_key is not None and cacheable and not state.syncer.render(page).widgets:
        body = body.encode("utf-8")  # half the size of a str that holds any non-Latin-1 mark
        anonymous_pages().put(cache_key, (time.monotonic() + USER_NAME_SECONDS, body))
    return body


@dataclass(frozen=True)
class Frame:
    """The parts of a page view around its text and plugin blocks (HTML)."""

    header: Markup
    footer: Markup
    tabs: Markup
    crumbs: Markup
    toc: Markup


def page_frame(page, row, rev, *, reader, toc, crumbs, may_edit, may_move, body_has_title) -> Frame:
    """Header, footer, tabs, breadcrumbs and contents of a page view (``_page_frame.html``).

    They depend on the reader only through the allow-set (breadcrumb titles), the two rights
    and the language, so the current version's frame is kept per HEAD for all readers alike
    (``reader``: the key of their allow-set; None for a past version, which is not kept).
    The footer names the last author: entries live as long as a cached name
    (``USER_NAME_SECONDS``) and go with :func:`wiki.web.forget_user_name`."""
    state = wiki()
    key = None
    if reader is not None:
        key = (page.path, page.blob, state.syncer.synced_head, reader, may_edit, may_move,
               body_has_title, str(get_locale()))  # fmt: skip
        frames = cache_in(state, "page_frames")
        found = frames.get(key)
        if found is not None and found[0] > time.monotonic():
            return found[1]
    macros = get_template_attribute
    name = "_page_frame.html"
    frame = Frame(
        header=macros(name, "header")(page, row, rev, may_edit, body_has_title),
        footer=macros(name, "footer")(page, row, rev, may_move),
        tabs=macros(name, "tabs")(page.path, may_edit),
        crumbs=macros(name, "crumbs")(crumbs, page.title),
        toc=macros(name, "toc")(toc),
    )
    if key is not None:
        frames.put(key, (time.monotonic() + USER_NAME_SECONDS, frame))
    return frame


def cache_in(state, name: str) -> RenderCache:
    """The per-process cache ``name`` of the page views (a quarter of the render cache's size)."""
    extra = state.extra
    if name not in extra:
        extra[name] = RenderCache(int(state.config["WIKI_RENDER_CACHE_SIZE"]) // 4)
    return extra[name]


def reader_parts(page: P.Page, reader: tuple) -> tuple[Markup, list, list]:
    """Body HTML, table of contents and breadcrumbs of the current ``page`` for the reader.

    They depend on the reader only through what the reader may see (red links for hidden
    pages, breadcrumb titles), so they are kept per HEAD and ``reader`` (the key of the
    reader's allow-set): every reader with the same allow-set shares them. Pages with widgets
    (live per reader) are built anew."""
    state = wiki()
    if state.syncer.render(page).widgets:
        return (*render_page(page), breadcrumbs(page.path))
    key = (page.path, page.blob, state.syncer.synced_head, reader)
    parts = cache_in(state, "reader_parts")
    found = parts.get(key)
    if found is None:
        found = (*render_page(page), breadcrumbs(page.path))
        parts.put(key, found)
    return found


def anonymous_pages() -> RenderCache:
    """Whole page views for anonymous readers, keyed by path, HEAD and language: ``(expires,
    body)``, the body encoded in UTF-8. The footer names the last author, whose name may
    change or, with a deleted account, must vanish without a commit: entries live as long as a
    cached name (``USER_NAME_SECONDS``), and :func:`wiki.web.forget_user_name` empties the
    cache.

    Widgets are live per request, so pages with widgets are never kept here, nor pages with
    plugin blocks that are not marked cacheable (upcoming events, a chapter's board).
    """
    return cache_in(wiki(), "anonymous_pages")


def missing(path):
    """A missing page: follow a rename redirect, offer to create it, or 404."""
    target = get_db().get(Redirect, path)
    if target is not None and target.new_path in visible_paths([target.new_path]):
        return redirect(url_for("pages.view", path=target.new_path), code=301)
    prospective = content().ref_for(get_db(), path, None)
    may_create = current_principal().logged_in and can(A.EDIT, prospective)
    return render_template("missing.html", path=path, may_create=may_create), 404


@bp.route("/-/edit/<path:path>", methods=["GET", "POST"])
@login_required
def edit(path):
    """The editor: GET shows the form, POST previews or saves with the base revision."""
    valid_path_or_404(path)
    ref = content().ref(get_db(), path)
    hidden = ref is not None and not can(A.READ, ref)
    if hidden:
        # Exactly like a missing page: whoever may create pages here gets the editor, and the
        # save then says only that the name is not available.
        ref = None
    if ref is not None:
        require(A.EDIT, ref)
        page = content().page(path)
        form = wiki().pm.hook.wiki_edit_form(page=page) if page else None
        if form and request.method == "GET" and not request.args.get("quelltext"):
            return redirect(form)
        text = page.text() if page else ""
        base = wiki().store.head()
    else:
        require(A.EDIT, content().ref_for(get_db(), path, None))
        title = request.args.get("title", "").strip()[:200]
        text = f"# {title}\n\n" if title else ""
        base = ""
    if request.method == "GET":
        return render_template("edit.html", path=path, text=text, base=base, exists=ref is not None)
    text = request.form.get("text", "")
    base = "" if hidden else request.form.get("base", "")
    message = request.form.get("message", "").strip()
    if request.form.get("resolve") in RESOLUTIONS:
        # A button of the conflict page: save my version or the edited merge, or keep theirs.
        text = resolved_text()
        if text is None:
            flash(
                _("Die andere Fassung bleibt gespeichert; deine Änderung wurde verworfen."),
                "success",
            )
            return redirect(url_for("pages.view", path=path))
    # Files cannot be handed back to the browser: after a preview or a refused save the
    # editor asks to pick them again (the editor script previews without a round trip).
    files_dropped = any(f.filename for f in request.files.getlist("documents"))
    if "preview" in request.form:
        preview = preview_html(path, text)
        return render_template(
            "edit.html",
            path=path,
            text=text,
            base=base,
            message=message,
            preview=preview,
            exists=ref is not None,
            files_dropped=files_dropped,
        )
    default = _("Seite bearbeitet") if ref is not None else _("Seite angelegt")
    return save(path, text, base, message or default, exists=ref is not None, with_documents=True)


def save(path, text, base, message, exists, with_documents=False):
    """Save through the content layer; conflicts → 409, invalid → 400, both keep the text.

    ``with_documents``: commit the files of the editor's ``documents`` field with the page.
    """
    documents: dict[str, bytes] = {}
    try:
        if base and not REV_RE.fullmatch(base):
            raise ValidationFailed([_("Ungültige Ausgangsversion.")])
        if with_documents:
            documents = sent_documents()
            text = with_links(text, documents)
        content().save(
            current_principal(),
            path,
            text,
            base or None,
            message,
            create=not base,
            documents=documents,
        )
    except Conflict as conflict:
        return conflict_page(conflict, path, text, message)
    except (ValidationFailed, NotAvailable, Forbidden, P.BadName, TooLarge) as exc:
        # The editor again, with the user's text and every problem; nothing was saved.
        status = {NotAvailable: 409, Forbidden: 403, TooLarge: 413}.get(type(exc), 400)
        return render_template(
            "edit.html",
            path=path,
            text=text,
            base=base,
            message=message,
            problems=error_messages(exc),
            exists=exists,
            files_dropped=with_documents
            and any(f.filename for f in request.files.getlist("documents")),
        ), status
    if documents:
        names = ", ".join(documents)
        flash(_("Gespeichert, mit den Dokumenten: %(names)s.", names=names), "success")
    else:
        flash(_("Gespeichert."), "success")
    return redirect(url_for("pages.view", path=path))


def preview_html(path: str, text: str) -> Markup:
    """Rendered preview of unsaved text (never cached)."""
    page = P.Page.parse(path, text)
    rendered = wiki().renderer.render(page.body, path)
    return Markup(finish_html(rendered, page))


@bp.post("/-/preview")
@login_required
def preview():
    """The live preview fragment for the editor's script."""
    path = request.form.get("path", "")
    valid_path_or_404(path)
    return str(preview_html(path, request.form.get("text", "")))


@bp.route("/-/new", methods=["GET", "POST"])
@login_required
def new():
    """A new page from a title (and an optional parent page)."""
    title = request.values.get("title", "").strip()
    parent = request.values.get("parent", "").strip().strip("/")
    problems = []
    if request.method == "POST":
        slug = P.slugify(title)
        path = f"{parent}/{slug}" if parent else slug
        if not title or not slug:
            problems.append(_("Bitte einen Titel angeben."))
        elif not P.is_valid_path(path):
            problems.append(_("Aus diesem Titel entsteht kein gültiger Seitenname."))
        # Permission first: whoever may not create here learns nothing about taken names.
        elif not can(A.EDIT, content().ref_for(get_db(), path, None)):
            problems.append(_("Keine Berechtigung, hier eine Seite anzulegen."))
        elif wiki().store.blob_id(P.page_file(path)) is not None:
            problems.append(_("Dieser Seitenname ist nicht verfügbar."))
        else:
            return redirect(url_for("pages.edit", path=path, title=title))
    status = 400 if problems else 200
    return render_template("new.html", title=title, parent=parent, problems=problems), status


@bp.get("/-/raw/<path:path>")
def raw(path):
    """The page's markdown (``?rev=`` for a past revision)."""
    page = page_at(path, request.args.get("rev"))
    return Response(page.text(), mimetype="text/plain")


@bp.get("/-/backlinks/<path:path>")
def backlinks(path):
    """Readable pages that link here ("Was verlinkt hierher?")."""
    valid_path_or_404(path)
    ref = content().ref(get_db(), path)
    if ref is not None and not can(A.READ, ref):
        abort(404)
    if ref is None and get_db().scalar(select(Link.src).where(Link.dst == path).limit(1)) is None:
        abort(404)
    rows = (
        get_db()
        .scalars(
            select(PageRow)
            .join(Link, Link.src == PageRow.path)
            .where(
                Link.dst == path, read_filter_clause(PageRow.effective_visibility, PageRow.space)
            )
            .order_by(PageRow.title)
        )
        .all()
    )
    title = get_db().get(PageRow, path).title if ref else path
    return render_template("backlinks.html", path=path, title=title, rows=rows)


@bp.get("/-/pages")
def index():
    """The page index as a tree: the children of ``?prefix=`` with their descendant counts."""
    prefix = request.args.get("prefix", "").strip("/")
    if prefix and not P.is_valid_path(prefix):
        abort(404)
    db = get_db()
    allowed = read_filter_clause(PageRow.effective_visibility, PageRow.space)
    depth = prefix.count("/") + 2 if prefix else 1
    like = f"{prefix}/%" if prefix else "%"
    size = int(wiki().config["WIKI_PAGE_SIZE"])
    number = page_number(request.args.get("page"))
    rows = db.scalars(
        select(PageRow)
        .where(
            allowed,
            PageRow.path.like(like),
            func.length(PageRow.path) - func.length(func.replace(PageRow.path, "/", ""))
            == depth - 1,
        )
        .order_by(PageRow.path)
        .offset((number - 1) * size)
        .limit(size + 1)
    ).all()
    has_next = len(rows) > size
    rows = rows[:size]
    counts = {}
    for row in rows:
        counts[row.path] = db.scalar(
            select(func.count()).where(allowed, PageRow.path.like(f"{row.path}/%"))
        )
    return render_template(
        "index.html",
        rows=rows,
        counts=counts,
        prefix=prefix,
        number=number,
        has_next=has_next,
        crumbs=breadcrumbs(prefix) if prefix else [],
    )


@bp.get("/-/problems")
def problems():
    """Pages whose front matter does not validate (e.g. after a push)."""
    rows = (
        get_db()
        .scalars(
            select(PageRow)
            .where(
                PageRow.problems != "",
                read_filter_clause(PageRow.effective_visibility, PageRow.space),
            )
            .order_by(PageRow.path)
        )
        .all()
    )
    items = [(row, json.loads(row.problems)) for row in rows]
    orphans = []
    if current_principal().is_admin:
        # Documents whose page does not exist: readable by admins only, listed for them here.
        orphans = (
            get_db()
            .scalars(
                select(Document)
                .outerjoin(PageRow, PageRow.path == Document.page)
                .where(PageRow.path.is_(None))
                .order_by(Document.page, Document.name)
                .limit(500)
            )
            .all()
        )
    return render_template("problems.html", items=items, orphans=orphans)


@bp.route("/-/rename/<path:path>", methods=["GET", "POST"])
@login_required
def rename(path):
    """Move a page with its documents and subpages; the old path redirects."""
    ref = readable_ref(path)
    require(A.MOVE, ref)
    problems, new_path = [], request.form.get("new_path", path).strip().strip("/")
    if request.method == "POST":
        try:
            content().rename(
                current_principal(),
                path,
                new_path,
                request.form.get("message", "").strip() or _("Seite verschoben"),
                update_links="update_links" in request.form,
            )
        except (P.BadName, ValidationFailed, NotAvailable, NotFound, Forbidden) as exc:
            problems = error_messages(exc)
        except Conflict:
            problems = [_("Die Seite wurde gerade geändert. Bitte erneut versuchen.")]
        else:
            flash(_("Seite verschoben."), "success")
            return redirect(url_for("pages.view", path=new_path))
    row = get_db().get(PageRow, path)
    status = 400 if problems else 200
    return render_template(
        "rename.html", path=path, row=row, new_path=new_path, problems=problems
    ), status


@bp.route("/-/delete/<path:path>", methods=["GET", "POST"])
@login_required
def delete(path):
    """Delete a page (restorable from its history)."""
    ref = readable_ref(path)
    require(A.MOVE, ref)
    row = get_db().get(PageRow, path)
    if request.method == "POST":
        base = request.form.get("base", "")
        try:
            content().delete(
                current_principal(),
                path,
                base or wiki().store.head(),
                request.form.get("message", "").strip() or _("Seite gelöscht"),
            )
        except Conflict:
            flash(_("Die Seite wurde inzwischen geändert; bitte die neue Fassung prüfen."), "error")
            return redirect(url_for("pages.view", path=path))
        except Forbidden:
            abort(403)
        except ValidationFailed as exc:
            return render_template(
                "delete.html",
                path=path,
                row=row,
                base=wiki().store.head(),
                problems=error_messages(exc),
            ), 400
        flash(_("Seite gelöscht. Sie lässt sich aus den Versionen wiederherstellen."), "success")
        return redirect(url_for("history.changes"))
    return render_template("delete.html", path=path, row=row, base=wiki().store.head())


def restored_message(sha: str) -> str:
    """The default description of a revert: the restored version by its date (the author's
    name stays out of git, which keeps only pseudonyms)."""
    date = wiki().store.revision(sha).date
    return _("Version vom %(date)s wiederhergestellt", date=format_dt(date, _("d. M. yyyy, HH:mm")))


@bp.route("/-/revert/<path:path>", methods=["GET", "POST"])
@login_required
def revert(path):
    """Restore a past revision of a page as a new version."""
    valid_path_or_404(path)
    rev = request.values.get("rev", "")
    sha = resolve_rev_or_404(rev)
    ref = content().ref(get_db(), path)
    # The revision must be readable (wiki.revisions; from before a rename: under its old name).
    old = page_at(path, sha)
    # A deleted page: restorable by whoever may read and edit it where it would come back.
    require(A.EDIT, ref if ref is not None else content().ref_for(get_db(), path, old))
    if request.method == "POST":
        try:
            content().revert(
                current_principal(),
                path,
                sha,
                request.form.get("message", "").strip() or restored_message(sha),
            )
        except NotFound:
            abort(404)
        except (Forbidden, ValidationFailed) as exc:
            flash(" ".join(error_messages(exc)), "error")
            return redirect(url_for("history.history", path=path))
        flash(_("Version wiederhergestellt."), "success")
        return redirect(url_for("pages.view", path=path))
    return render_template("revert.html", path=path, rev=sha)
