"""Every plugin hook of Verbandswiki.

Plugins implement these with ``@hookimpl`` and are enabled through ``WIKI_PLUGINS``. Hooks are
called only as ``pm.hook.<name>(...)``; pluggy checks the argument names.
"""

import pluggy

hookspec = pluggy.HookspecMarker("verbandswiki")
hookimpl = pluggy.HookimplMarker("verbandswiki")


@hookspec
def wiki_markdown_plugins():
    """Return a list of mistune 3 plugin callables ``plugin(md)`` that add syntax.

    Called once per renderer build (at app creation). Rules a plugin registers should be named
    after the plugin (``resolutions_*``) and must escape what they render.
    """


@hookspec
def wiki_widget_kinds():
    """Return a list of fenced-block info strings (e.g. ``["poll"]``) that are widgets.

    Such a block's body is YAML; it renders as a placeholder that ``wiki_render_widget`` fills
    per request.
    """


@hookspec
def wiki_page_types():
    """Return ``{type_name: validator}`` for the page types this plugin owns.

    ``validator(new, old, ctx)`` gets the new :class:`wiki.pages.Page`, the page at HEAD (or None)
    and a :class:`wiki.content.ValidationContext` (principal, head sha, store, database session).
    It runs inside the commit lock and returns a list of problems (German strings); any problem
    refuses the save and nothing is committed. When a page leaves the type — it is deleted or
    moved away (``new`` is None) or saved with another ``type`` — the old type's validator is
    called as well, so a type can refuse being left.
    """


@hookspec
def wiki_validate_page(new, old, ctx):
    """Return a list of problems (German, translatable) with a save of any page type, or None.

    Called inside the commit lock for every page a commit touches, after the type's validator:
    ``new`` is the :class:`wiki.pages.Page` to be committed (None when it is deleted or moved
    away), ``old`` the page at HEAD under the same path (None for a new page and for the target
    of a move: compare with your projection, keyed by your own stable ids, to follow moves), and
    ``ctx`` the :class:`wiki.content.ValidationContext`. The place for checks of widget blocks
    (``wiki.api.page_widgets(new)``) that every page may carry: a poll's or an event's
    definition. Any problem refuses the save; nothing is committed.
    """


@hookspec
def wiki_page_changed(page, old_path, commit, session):
    """A page was created or changed at ``commit`` (``old_path`` set if it was renamed).

    ``page`` is the parsed :class:`wiki.pages.Page`; ``session`` is the sync's database session
    (committed by the sync together with the core projection). Fired by ``wiki.sync`` once per
    changed page, in commit order, for edits in the wiki and for pushed commits alike. A plugin
    whose change affects other pages (a space definition changes the effective visibility of
    every page below it) adds the path prefix to ``session.info["wiki_reproject"]`` (a set); the
    sync then re-projects those pages and fires this hook for each of them again.
    """


@hookspec
def wiki_page_deleted(path, commit, session):
    """The page ``path`` was deleted at ``commit``; drop what the plugin derived from it."""


@hookspec
def wiki_reindex(session):
    """Drop every projection the plugin keeps; ``wiki_page_changed`` then refills it from HEAD."""


@hookspec
def wiki_check(head, session):
    """Return a list of differences between the plugin's projections and git at ``head``.

    Called by ``verbandswiki check`` (after the core's own comparison); empty when all agree.
    """


@hookspec
def wiki_sync_done(head, session):
    """Projections have reached ``head`` (called after a sync that changed something)."""


@hookspec(firstresult=True)
def wiki_permission(principal, action, page):
    """Decide ``action`` on ``page`` for ``principal``: True, False, or None for no opinion.

    ``page`` is a :class:`wiki.acl.PageRef`. The first non-None answer wins; without one the core
    rules of :mod:`wiki.acl` apply.
    """


@hookspec
def wiki_read_filter(principal):
    """Return the plugin's part of the read allow-set as a :class:`wiki.acl.ReadFilter` or None.

    The parts of all plugins are united with the core's; listings and the search index translate
    the allow-set into their own queries. It must agree with ``wiki_permission`` for ``read``.
    """


@hookspec
def wiki_memberships(user_id, session):
    """Return ``{space: role}`` for user ``user_id`` (roles ``member`` or ``board``), or None.

    Preloaded into the :class:`wiki.acl.Principal` once per request; must already include the
    implied memberships of enclosing spaces.
    """


@hookspec(firstresult=True)
def wiki_page_space(path, session):
    """Return ``(space, default_visibility)`` for the page at ``path``; None outside spaces."""


@hookspec(firstresult=True)
def wiki_page_space_at(path, commit, store):
    """Return ``(space, default_visibility)`` for ``path`` as it was at the full sha ``commit``.

    Like ``wiki_page_space`` but from the definitions in git at that commit (read them with
    ``store.read(file, commit)``), not from today's projection: past revisions are judged by the
    space they were in then (:mod:`wiki.revisions`). None outside spaces. A definition that does
    not validate at that commit should fail closed (e.g. board-only). The answer is cached per
    ``(commit, path)``, so it must depend on nothing else.
    """


@hookspec(firstresult=True)
def wiki_render_widget(kind, data, page, principal, session):
    """Return trusted HTML for one widget (``kind``, parsed YAML ``data``) on ``page``, or None.

    Called per request for every widget block of a page being shown (rendered HTML is cached,
    widgets are not), with the reader's ``principal`` and the request's database ``session``
    (read from it; the request commits nothing for a page view). The first non-None answer wins,
    so return None for kinds of other plugins. The HTML must escape everything it shows.
    """


@hookspec(firstresult=True)
def wiki_event_block(title, start, end, all_day, ident):
    """Return a markdown fenced block that defines a calendar event, or None without a calendar.

    Lets a plugin offer "add to the calendar" without knowing the calendar plugin (a date poll's
    chosen slot). ``start``/``end`` are timezone-aware datetimes (``end`` may be None), or dates
    when ``all_day``; ``ident`` is a suggested stable event id (made unique by the answer). The
    caller appends the block to a page it may edit, through the usual commit.
    """


@hookspec
def wiki_page_sections(page, principal):
    """Return extra blocks shown on a page view: one block, a list of them, or None.

    A ``markupsafe.Markup`` is shown above the page text; a :class:`wiki.plugins.PageSection`
    says where it goes (``before`` or ``after`` the text). The HTML must be escaped.
    A page with blocks is served to anonymous readers from the whole-page cache only if every
    block is a ``PageSection(..., cacheable=True)`` (it shows only what the pages at HEAD say).
    """


@hookspec(firstresult=True)
def wiki_page_body(page, principal, args):
    """Return trusted HTML shown instead of the rendered page text, or None for the usual.

    ``args`` are the request's query arguments (e.g. a resolution's ``?zeilen=1`` line numbers).
    Anonymous whole-page caching is skipped for requests with query arguments.
    """


@hookspec(firstresult=True)
def wiki_edit_form(page):
    """Return the URL of a type-specific edit form for ``page``, or None for the text editor.

    ``/-/edit/<path>`` then leads there; the text editor stays available with ``?quelltext=1``.
    """


@hookspec
def wiki_search_fields():
    """Return ``{field_name: whoosh field}`` the plugin adds to the search schema."""


@hookspec
def wiki_search_text(page, session):
    """Return extra plain text indexed with the page text (e.g. a resolution's event, deciding
    body, initiators and topics), so that ordinary words find it; or None."""


@hookspec
def wiki_search_document(page, session):
    """Return ``{field_name: value}`` for ``page`` (fields declared in ``wiki_search_fields``).

    ``session`` is a database session that sees the projections of the commit being indexed
    (e.g. a plugin's own tables filled in ``wiki_page_changed``).
    """


@hookspec
def wiki_blueprints():
    """Return a list of Flask blueprints (routes under ``/-/<name>/`` and ``/-/api/v1/<name>/``)."""


@hookspec
def wiki_nav_items(principal):
    """Return a list of :class:`wiki.plugins.NavItem` for the header menu."""


@hookspec
def wiki_cli(cli):
    """Add commands to the ``verbandswiki`` click group ``cli``."""


@hookspec
def wiki_template_folders():
    """Return folders with the plugin's templates (searched after site overrides, before core)."""


@hookspec
def wiki_translation_dirs():
    """Return folders with the plugin's interface catalogs (``<dir>/<locale>/LC_MESSAGES/
    messages.mo``), or None.

    Collected once at app creation and searched after the core's catalog: a plugin ships its own
    translations (German msgids, ``en`` translated) and needs no change to the core catalogs.
    """


@hookspec
def wiki_migration_folders():
    """Return the plugin's Alembic version folders (each with its own branch label)."""


@hookspec
def wiki_dashboard_sections(principal):
    """Return HTML blocks (``markupsafe.Markup``) for the user's own dashboard ``/-/me``, or None.

    Called per request with the logged-in principal (e.g. the inbox and the user's spaces).
    """


@hookspec
def wiki_user_data(user_id, session):
    """Return ``{section: data}`` (JSON-serialisable) the plugin keeps about ``user_id``.

    Collected into the user's own data export (``/-/account/export``).
    """


@hookspec
def wiki_user_deleted(user_id, session):
    """Delete everything the plugin keeps about ``user_id`` (account deletion; GDPR erasure).

    Called inside the deleting transaction, before the account row is anonymised.
    """


@hookspec
def wiki_demo(state, say):
    """Add the plugin's demo content to a new instance (``verbandswiki init --demo``).

    ``state`` is the app's :class:`wiki.WikiState` (commit pages through ``state.store`` and
    call ``state.syncer.sync()``); ``say(line)`` prints a line for the operator, e.g. the
    generated passwords of demo accounts, which are shown only this once.
    """
