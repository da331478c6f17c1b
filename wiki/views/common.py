"""Helpers shared by the views: services, page loading with the permission check, rendering."""

from __future__ import annotations

from flask import abort, current_app, g, url_for
from markupsafe import Markup
from sqlalchemy import select

from wiki import acl as A
from wiki import pages as P
from wiki.auth import current_principal
from wiki.content import Content
from wiki.db import PageRow, get_db
from wiki.markup import fill_widgets, mark_links
from wiki.storage import BadRevision


def wiki():
    """The services of the current app."""
    return current_app.extensions["wiki"]


def content() -> Content:
    """The page operations of the current app."""
    return wiki().content


def can(action: str, ref) -> bool:
    """The one decision, for the current principal."""
    return wiki().acl.can(current_principal(), action, ref)


def valid_path_or_404(path: str) -> str:
    """Malformed page names answer 404 on reads."""
    if not P.is_valid_path(path):
        abort(404)
    return path


def readable_ref(path: str) -> A.PageRef:
    """The page's permission view, or 404 if it is missing or hidden."""
    valid_path_or_404(path)
    ref = content().ref(get_db(), path)
    if ref is None or not can(A.READ, ref):
        abort(404)
    return ref


def require(action: str, ref) -> None:
    """403 if the principal may read the page but not do ``action``; 404 if it may not read."""
    if ref is not None and not can(A.READ, ref):
        abort(404)
    if not can(action, ref):
        abort(403)


def resolve_rev_or_404(rev: str) -> str:
    """A full commit sha for ``rev``, or 404 for anything malformed or unknown."""
    try:
        return wiki().store.resolve(rev)
    except (BadRevision, ValueError):
        abort(404)


def page_at(path: str, rev: str | None) -> P.Page:
    """The page at ``rev`` if the reader may read that revision (:mod:`wiki.revisions`), else 404.

    A deleted page's past revisions count too; a revision from before a rename is found under
    the name the page had then and judged there.
    """
    valid_path_or_404(path)
    if rev is None:
        row = get_db().get(PageRow, path)
        if row is None or not can(A.READ, content().ref_of(row)):
            abort(404)
        return content().cached_page(path, row.blob)
    sha = resolve_rev_or_404(rev)
    page = wiki().revisions.readable(get_db(), current_principal(), path, sha)
    if page is None:
        abort(404)
    return page


def page_titles(paths) -> dict[str, tuple[str, bool]]:
    """``{path: (title, readable)}`` for the existing pages among ``paths``.

    One query for all paths not looked up yet in this request (links and breadcrumbs share it).
    """
    memo = g.setdefault("wiki_page_titles", {})
    unknown = [p for p in dict.fromkeys(paths) if p not in memo]
    if unknown:
        for path in unknown:
            memo[path] = None
        acl, principal = wiki().acl, current_principal()
        rows = get_db().execute(
            select(PageRow.path, PageRow.title, PageRow.effective_visibility, PageRow.space).where(
                PageRow.path.in_(unknown)
            )
        )
        for path, title, visibility, space in rows:
            memo[path] = (title, acl.can(principal, A.READ, A.PageRef(path, visibility, space)))
    return {p: memo[p] for p in paths if memo.get(p) is not None}


def page_title(path: str) -> str:
    """The title of page ``path`` for headings if the reader may read it, else the path
    (a deleted page, or one the view has not checked: a title never leaks)."""
    title, readable = page_titles([path]).get(path, (None, False))
    return title if readable and title else path


def visible_paths(paths) -> set[str]:
    """Those of ``paths`` that exist and that the principal may read."""
    return {path for path, (_title, ok) in page_titles(list(paths)).items() if ok}


def render_page(page: P.Page) -> tuple[Markup, list]:
    """HTML of ``page`` for the current reader, and its table of contents."""
    rendered = wiki().syncer.render(page)
    page_titles([*rendered.links, *P.parent_paths(page.path)])
    html = finish_html(rendered, page)
    if html is not rendered.html:
        return Markup(html), rendered.toc
    if rendered.markup is None:  # two threads at once make equal ones: either may stay
        rendered.markup = Markup(html)
    return rendered.markup, rendered.toc


def finish_html(rendered, page: P.Page) -> str:
    """Per-request parts of cached HTML: red links for missing or hidden pages, widgets."""
    visible = visible_paths(rendered.links)
    html = mark_links(rendered.html, lambda p: p in visible)
    if rendered.widgets:
        state, principal = wiki(), current_principal()

        def fill(index: int) -> str:
            widget = rendered.widgets[index]
            if widget.error:
                return f'<div class="widget-error">{Markup.escape(widget.error)}</div>'
            out = state.pm.hook.wiki_render_widget(
                kind=widget.kind,
                data=widget.data,
                page=page,
                principal=principal,
                session=get_db(),
            )
            return str(out) if out is not None else ""

        html = fill_widgets(html, fill)
    return html


def breadcrumbs(path: str) -> list[tuple[str, str | None]]:
    """(title, url) of the ancestors the reader may see, then the page itself."""
    crumbs: list[tuple[str, str | None]] = []
    parents = P.parent_paths(path)
    found = page_titles(parents)
    for parent in parents:
        title, readable = found.get(parent, (None, False))
        if readable:
            crumbs.append((title, url_for("pages.view", path=parent)))
        else:
            crumbs.append((parent.rsplit("/", 1)[-1], None))
    return crumbs


def page_number(arg: str | None) -> int:
    """A page number from the query string (1 if malformed)."""
    try:
        return max(1, min(int(arg or 1), 100000))
    except ValueError:
        return 1
