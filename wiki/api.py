"""The public API for plugins: everything a plugin may import from the core, in one place.

Plugins import only from here (``from wiki.api import can, get_db, hookimpl``); a test fails when a
module under ``plugins/`` imports any other ``wiki.*`` module. Names not listed in ``__all__`` are
internals and may change without notice. The plugin author's guide is ``docs/plugins.md``.

Most names are re-exports of the core's own functions (so plugins and core share one
implementation and one permission decision). Helpers that live in view modules (other than
``wiki.views.common``) are wrapped in small functions that import them on first call, so importing
this module (which every plugin does at start-up, also for the command line) loads no blueprint.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from wiki import state
from wiki.acl import (
    ACTIONS,  # every action name, in the order of the rules
    ADMIN,  # action: administer the wiki (admins only)
    ANONYMOUS,  # the principal of a visitor who is not logged in
    EDIT,  # action: change a page (or create one at a free path)
    MANAGE,  # action: manage a page's space (members, board, settings)
    MOVE,  # action: rename or delete a page
    READ,  # action: see a page; refused reads answer 404, exactly like a missing page
    WIDEN,  # action: make a page visible to more people than before
    PageRef,
    Principal,
    ReadFilter,
)
from wiki.auth import (
    AmbiguousEmail,
    current_principal,
    email_taken,
    handle_problems,
    hash_password,
    normalise_handle,
    password_problems,
    principal_for,  # the permission principal of a user (memberships loaded), e.g. for mails
    token_hash,
    user_by_email,
)
from wiki.cli import (
    create_user,
    demo_login_line,
    instance_option,  # click decorator: the ``--instance`` option (env ``WIKI_INSTANCE``)
    make_app,
    new_password,
    synced_app,  # make_app, projections synced to HEAD first (CLI commands that read them)
)
from wiki.content import (
    Forbidden,
    NotAvailable,
    NotFound,
    OperationError,
    ValidationContext,
    ValidationFailed,
)
from wiki.csvexport import (
    FORMULA_START,  # first characters a spreadsheet treats as a formula (csv_text neutralises)
    csv_text,
)
from wiki.dates import (
    DATE_RE,  # ``YYYY-MM-DD`` (groups: year, month, day)
    DATETIME_RE,  # ``YYYY-MM-DD HH:MM[:SS]`` (groups: year, month, day, hour, minute, second)
    parse_date,
    parse_datetime,
    parse_form_date,
)
from wiki.db import (
    Base,
    Change,
    Document,
    MailMessage,
    PageRow,
    User,  # an account (read-only for plugins except through the account helpers below)
    get_db,
    utcnow,
)
from wiki.hookspecs import (
    hookimpl,  # marks a hook implementation: ``@hookimpl def wiki_blueprints(): ...``
)
from wiki.mail import normalize_address
from wiki.markup import (
    SYNTAX_PLUGINS as MARKDOWN_BUILTINS,  # every syntax plugin of the page renderer, wikilinks too
)
from wiki.markup import (
    RenderCache,  # a thread-safe LRU cache (any hashable key), e.g. for serialised widgets
    fill_widgets,
    mark_links,
    render_mail_html,
    wikilink_plugin,
)
from wiki.messages import N_
from wiki.pages import (
    FRONT_MATTER_RE,  # the ``---`` YAML block at the top of a page file
    HOME,  # path of the start page
    VISIBILITIES,  # page visibilities, narrowest last: public, internal, members, board
    BadName,
    Page,
    check_filename,
    is_valid_path,
    join_front_matter,
    normalize_filename,
    page_file,
    parent_paths,
    path_of_file,
    resolve_target,
    slugify,
    split_front_matter,
)
from wiki.plugins import NavItem, PageSection
from wiki.qr import qr_png, qr_svg
from wiki.queries import read_clause, row_id
from wiki.search import BadQuery, SearchUnavailable
from wiki.storage import (
    REV_RE,  # a commit id as accepted from users (7–40 hex digits); anything else is 404
    Author,  # a commit author (name, e-mail); content().author(principal) gives the pseudonym
    BadRevision,
    Conflict,
)
from wiki.sync import (
    REPROJECT_KEY,  # ``session.info`` key: set of path prefixes to re-project after a sync
    SYNC_SESSION_KEY,  # ``session.info`` key present while the sync runs (projection session)
)
from wiki.views.common import (
    can,
    content,
    finish_html,
    page_number,
    page_titles,
    readable_ref,
    require,
    valid_path_or_404,
    visible_paths,
)
from wiki.web import format_day, format_dt

__all__ = [
    # services and the request
    "state",
    "session_factory",
    "get_db",
    "content",
    "current_principal",
    "feed_principal",
    "issue_feed_token",
    "principal_for",
    # permissions
    "can",
    "require",
    "readable_ref",
    "valid_path_or_404",
    "page_titles",
    "visible_paths",
    "read_clause",
    "unreadable_commits",
    "PageRef",
    "Principal",
    "ReadFilter",
    "ANONYMOUS",
    "ACTIONS",
    "READ",
    "EDIT",
    "WIDEN",
    "MANAGE",
    "MOVE",
    "ADMIN",
    # hooks and what they return
    "hookimpl",
    "NavItem",
    "PageSection",
    # database
    "Base",
    "utcnow",
    "User",
    "PageRow",
    "Document",
    "Change",
    "MailMessage",
    # pages and content operations
    "Page",
    "BadName",
    "HOME",
    "VISIBILITIES",
    "FRONT_MATTER_RE",
    "slugify",
    "is_valid_path",
    "check_filename",
    "normalize_filename",
    "page_file",
    "path_of_file",
    "parent_paths",
    "resolve_target",
    "split_front_matter",
    "join_front_matter",
    "N_",
    "OperationError",
    "ValidationFailed",
    "Forbidden",
    "NotAvailable",
    "NotFound",
    "ValidationContext",
    "Author",
    "Conflict",
    "BadRevision",
    "REV_RE",
    "conflict_page",
    "SYNC_SESSION_KEY",
    "REPROJECT_KEY",
    # rendering
    "render_markdown",
    "finish_html",
    "RenderCache",
    "mark_links",
    "fill_widgets",
    "page_widgets",
    "wikilink_plugin",
    "render_mail_html",
    "MARKDOWN_BUILTINS",
    # web helpers
    "page_number",
    "row_id",
    "external_url",
    "qr_png",
    "qr_svg",
    "csv_text",
    "FORMULA_START",
    "format_dt",
    "format_day",
    "parse_date",
    "parse_datetime",
    "parse_form_date",
    "DATE_RE",
    "DATETIME_RE",
    # mail and accounts
    "queue_mail",
    "normalize_address",
    "valid_email",
    "start_verification",
    "token_hash",
    "hash_password",
    "password_problems",
    "normalise_handle",
    "handle_problems",
    "create_user",
    "user_by_email",
    "email_taken",
    "space_members",
    "AmbiguousEmail",
    # search
    "BadQuery",
    "SearchUnavailable",
    "bad_query_message",
    "search_unavailable_message",
    "space_labels",
    # command line
    "instance_option",
    "make_app",
    "synced_app",
    "new_password",
    "demo_login_line",
    "commit_demo",
]


# -- services -----------------------------------------------------------------------------------


def session_factory():
    """The app's SQLAlchemy ``sessionmaker``, for work outside a request (CLI, background jobs)."""
    return state().sessions


def feed_principal() -> Principal:
    """The reader of a feed: owner of ``?token=`` (a personal feed token; unknown → 404), else the
    session's user; it becomes the request's principal for every later check."""
    from wiki.views.history import feed_principal as find

    return find()


def issue_feed_token(user_id: int, name: str) -> str:
    """A new personal feed token (``?token=``) of account ``user_id``; returns the secret, which
    is shown once (only its hash is kept; revoked on the account page). The caller commits."""
    from wiki.auth import issue_token

    session = get_db()
    return issue_token(session, session.get(User, user_id), "feed", name)


def unreadable_commits(principal: Principal, shas) -> set[str]:
    """Those of the commits ``shas`` that touched a page ``principal`` may not read (their
    messages and authors must not be shown to that reader)."""
    from wiki.views.history import unreadable_commits as find

    return find(principal, shas)


def conflict_page(conflict: Conflict, path: str, text: str, message: str):
    """The core's 409 response for a save that could not be merged (the user's text is kept)."""
    from wiki.views.pages import conflict_page as page

    return page(conflict, path, text, message)


# -- rendering ----------------------------------------------------------------------------------


def render_markdown(text: str, page_path: str) -> Markup:
    """Plugin-supplied markdown as HTML with the wiki's renderer, for the current reader.

    Raw HTML is escaped and unsafe URLs removed; wikilinks resolve relative to ``page_path`` and
    links to missing or unreadable pages are marked (class ``new``); widgets are left out.
    """
    rendered = state().renderer.render(text, page_path)
    visible = visible_paths(rendered.links)
    html = mark_links(rendered.html, lambda path: path in visible)
    if rendered.widgets:
        html = fill_widgets(html, lambda _index: "")
    return Markup(html)


def page_widgets(page: Page) -> list:
    """The widget blocks of ``page`` in order: each has ``kind``, ``data`` (the parsed YAML, or
    None) and ``error`` (a German message when the YAML did not parse). Cached per page version;
    use it in validators and projections instead of parsing fences yourself."""
    return state().syncer.render(page).widgets


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL for ``url_for(endpoint, **values)`` (``WIKI_BASE_URL`` if set), for mails."""
    from wiki.views.account import external_url as build

    return build(endpoint, **values)


def space_members(space: str, session=None) -> list[User]:
    """The active accounts that are members (or board) of ``space``, directly or through a space
    inside it, as the plugins answering ``wiki_memberships`` say; ordered by display name."""
    from sqlalchemy import select

    session = session or get_db()
    hook = state().pm.hook.wiki_memberships
    users = session.scalars(
        select(User).where(User.deleted_at.is_(None)).order_by(User.display_name, User.id)
    ).all()
    return [
        user
        for user in users
        if user.is_active
        and any(space in (part or {}) for part in hook(user_id=user.id, session=session))
    ]


# -- mail and accounts --------------------------------------------------------------------------


def queue_mail(to: User | str, subject: str, body: str, **options: Any) -> MailMessage:
    """Queue a plain-text mail to a user (their address) or an address through the core mailer.

    The mail joins the request's database transaction and is sent after it commits; ``options``
    go to :meth:`wiki.mail.Mailer.enqueue` (e.g. ``headers``). ``ValueError`` on a bad address.
    """
    address = to.email if isinstance(to, User) else to
    return state().mailer.enqueue(get_db(), address, str(subject), str(body), **options)


def valid_email(email: str) -> bool:
    """Whether ``email`` is one plausible address without header-breaking characters."""
    from wiki.views.account import valid_email as check

    return check(email)


def start_verification(user: User) -> None:
    """Queue the core's e-mail verification link for ``user``."""
    from wiki.views.account import start_verification as start

    start(user)


# -- search -------------------------------------------------------------------------------------


def bad_query_message(exc: BadQuery) -> str:
    """The translated message for a malformed search query."""
    from wiki.views.search import bad_query_message as message

    return message(exc)


def search_unavailable_message() -> str:
    """The translated message shown while the search index is being built."""
    from wiki.views.search import unavailable_message

    return unavailable_message()


def space_labels(values) -> dict[str, str]:
    """``{space: title}`` for the space pages the reader may see (else the space's path)."""
    from wiki.views.search import space_labels as labels

    return labels(values)


def commit_demo(state, files: dict[str, bytes], message: str) -> bool:
    """Commit a plugin's demo ``files`` in one commit by the system author and sync, unless one
    of them exists already (a second ``--demo`` start); True if they were committed."""
    store = state.store
    if any(store.blob_id(name) is not None for name in files):
        return False
    domain = state.config["WIKI_NOREPLY_DOMAIN"]
    author = Author("u-system", f"system@{domain}")
    store.commit(files, base=store.head(), author=author, message=message)
    state.syncer.sync()
    return True
