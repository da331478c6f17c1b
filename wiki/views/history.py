"""Versions, diffs, recent changes and the Atom feed."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from flask import Blueprint, abort, g, make_response, render_template, request, url_for
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from wiki import acl as A
from wiki import pages as P
from wiki.auth import current_principal, find_token, principal_for
from wiki.db import Change, PageRow, User, get_db
from wiki.diffs import diff_rows
from wiki.queries import read_clause
from wiki.views.common import (
    breadcrumbs,
    can,
    content,
    page_number,
    resolve_rev_or_404,
    valid_path_or_404,
    wiki,
)

bp = Blueprint("history", __name__)


def history_ref(path: str) -> A.PageRef:
    """The page (or, once deleted, its last version) if the reader may see it; else 404."""
    valid_path_or_404(path)
    ref = content().ref(get_db(), path)
    if ref is not None:
        if not can(A.READ, ref):
            abort(404)
        return ref
    revisions = wiki().revisions
    principal = current_principal()
    last = None
    for revision in wiki().store.history(P.page_file(path), limit=2):
        entry = revisions.entry(principal, None, path, revision)
        if not entry.readable:
            abort(404)
        if entry.page is not None:
            last = entry.page
            break
    if last is None:
        abort(404)
    return content().ref_for(get_db(), path, last)


@bp.get("/-/history/<path:path>")
def history(path):
    """The versions of a page the reader may read, newest first, paginated; follows renames
    made in the wiki. Versions the reader may not read are left out (:mod:`wiki.revisions`)."""
    ref = history_ref(path)
    size = int(wiki().config["WIKI_PAGE_SIZE"])
    number = page_number(request.args.get("page"))
    principal = current_principal()
    found, has_next = wiki().revisions.history(get_db(), principal, path, (number - 1) * size, size)
    hidden = unreadable_commits(principal, [e.revision.sha for e in found])
    entries = []
    for entry in found:
        revision = entry.revision
        if revision.sha in hidden:
            revision = replace(revision, message="")
        entries.append((revision, entry.page is not None, entry.path))
    row = get_db().get(PageRow, path)
    return render_template(
        "history.html",
        path=path,
        row=row,
        entries=entries,
        number=number,
        has_next=has_next,
        crumbs=breadcrumbs(path),
        may_edit=can(A.EDIT, ref),
    )


@bp.get("/-/diff/<path:path>")
def diff(path):
    """Changes between two revisions (``from``, ``to``; default: the last change)."""
    history_ref(path)
    store = wiki().store
    to_rev = request.args.get("to")
    from_rev = request.args.get("from")
    explicit_from = bool(from_rev)
    filename = P.page_file(path)
    if not to_rev:
        latest = store.history(filename, limit=2)
        if not latest:
            abort(404)
        to_rev = latest[0].sha
        if not from_rev and len(latest) > 1:
            from_rev = latest[1].sha
    to_sha = resolve_rev_or_404(to_rev)
    if not from_rev:
        # The version before ``to`` (the page was created there if there is none).
        previous = store.history(filename, limit=2, rev=to_sha)
        from_rev = previous[1].sha if len(previous) > 1 and previous[0].sha == to_sha else None
    from_sha = resolve_rev_or_404(from_rev) if from_rev else None
    revisions, principal = wiki().revisions, current_principal()
    current = content().ref(get_db(), path)
    texts = []
    for sha in (from_sha, to_sha):
        found = revisions.locate(path, sha) if sha else None
        if found is None:
            texts.append("")
        elif revisions.may_read(principal, current, *found, sha):
            texts.append(found[1].text())
        elif sha == from_sha and not explicit_from:
            # The version before the reader's first readable one: show that one as created.
            texts.append("")
            from_sha = None
        else:
            abort(404)
    rows = diff_rows(texts[0], texts[1])
    return render_template(
        "diff.html",
        path=path,
        rows=rows,
        from_sha=from_sha,
        to_sha=to_sha,
        crumbs=breadcrumbs(path),
    )


def changes_query(principal):
    """Recent changes the principal may read (as of the change and as of now)."""
    read_filter = wiki().acl.read_filter(principal)
    current = aliased(PageRow)
    return (
        select(Change, current.title)
        .outerjoin(current, current.path == Change.path)
        .where(
            read_clause(read_filter, Change.visibility, Change.space),
            or_(
                current.path.is_(None),
                and_(read_clause(read_filter, current.effective_visibility, current.space)),
            ),
        )
        .order_by(Change.at.desc(), Change.id.desc())
    )


def unreadable_commits(principal, shas) -> set[str]:
    """Commits that touched a page the principal may not read.

    A commit message belongs to every page of its commit, so it is shown only to readers of all
    of them (a push may touch a members page and a board page with one message).
    """
    shas = list(set(shas))
    if not shas:
        return set()
    read_filter = wiki().acl.read_filter(principal)
    if read_filter.everything:
        return set()
    current = aliased(PageRow)
    rows = get_db().execute(
        select(
            Change.commit,
            Change.path,
            Change.visibility,
            Change.space,
            current.effective_visibility,
            current.space,
        )
        .outerjoin(current, current.path == Change.path)
        .where(Change.commit.in_(shas))
    )
    revisions = wiki().revisions
    hidden = set()
    for sha, path, visibility, space, now_visibility, now_space in rows:
        if sha in hidden:
            continue
        if (
            not read_filter.allows(visibility, space)
            or (now_visibility is not None and not read_filter.allows(now_visibility, now_space))
            # the page as that commit left it, judged at its path and time (wiki.revisions)
            or not revisions.commit_readable(principal, path, sha)
        ):
            hidden.add(sha)
    return hidden


def recent_changes(principal, query) -> list[tuple[SimpleNamespace, str | None]]:
    """Rows of ``changes_query`` as plain objects, messages withheld where they could tell
    about a page the principal may not read."""
    rows = get_db().execute(query).all()
    hidden = unreadable_commits(principal, [change.commit for change, _title in rows])
    result = []
    for change, title in rows:
        view = SimpleNamespace(**{c.key: getattr(change, c.key) for c in Change.__table__.c})
        if view.commit in hidden:
            view.message = ""
        result.append((view, title))
    return result


def changes_page() -> tuple[list, int, bool]:
    """The ``?page=`` of recent changes for the current principal: rows, number, has_next."""
    size = int(wiki().config["WIKI_PAGE_SIZE"])
    number = page_number(request.args.get("page"))
    principal = current_principal()
    rows = recent_changes(
        principal, changes_query(principal).offset((number - 1) * size).limit(size + 1)
    )
    return rows[:size], number, len(rows) > size


@bp.get("/-/changes")
def changes():
    """Recent changes, paginated."""
    rows, number, has_next = changes_page()
    return render_template("changes.html", rows=rows, number=number, has_next=has_next)


def feed_principal():
    """Who reads a feed: the owner of a personal feed token (``?token=``; unknown → 404),
    else the session's user. Becomes the request's principal for every later check."""
    principal = current_principal()
    raw = request.args.get("token")
    if raw:
        token = find_token(get_db(), raw, "feed")
        user = get_db().get(User, token.user_id) if token else None
        if user is None or not user.is_active:
            abort(404)
        principal = principal_for(user)
    g.wiki_principal = principal
    return principal


@bp.get("/-/changes.atom")
def feed():
    """Atom feed of recent changes; ``?token=`` (a personal feed token) for non-public pages."""
    principal = feed_principal()
    raw = request.args.get("token")
    rows = recent_changes(principal, changes_query(principal).limit(50))
    base = (wiki().config["WIKI_BASE_URL"] or request.host_url).rstrip("/")
    body = render_template(
        "feed.xml",
        rows=rows,
        base=base,
        self_url=base + url_for("history.feed"),
        updated=rows[0][0].at if rows else None,
    )
    response = make_response(body)
    response.mimetype = "application/atom+xml"
    if raw:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response
