"""Poll pages: the list, one poll with its form and results, voting (account or token), closing.

- ``GET /-/polls`` — polls on pages the reader may read (filtered in SQL).
- ``GET /-/polls/<id>`` — the poll: vote form (plain HTML, no JavaScript needed) and results
  when ``ergebnis`` allows them.
- ``POST /-/polls/<id>/vote`` — count a vote: with the account, or with form field ``token``.
- ``GET /-/polls/<id>/token`` — landing page of a printed slip: the token rides in the URL
  fragment (``#t=…``, never sent to the server, so never in an access log); a small script file
  copies it into the form, without JavaScript the voter types the printed code.
- ``POST /-/polls/<id>/close`` and ``/reopen`` — organisers (reopen only if results were never
  shown).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import or_, select

from plugins.polls import access, results, tokens, votes
from plugins.polls.definitions import MAX_SCORE, SLOT_ANSWERS, parse
from plugins.polls.models import PollDef, PollState, PollToken
from wiki.api import (
    N_,
    PageRef,
    PageRow,
    content,
    current_principal,
    get_db,
    page_number,
    read_clause,
    render_markdown,
    state,
    utcnow,
)

PER_PAGE = 50
#: Widget of a poll on its page: anchor of the vote form.
ANCHOR = "abstimmung-{}"


def translated(message) -> str:
    """A message from ``access``/``votes`` (German, ``N_``) in the reader's language."""
    msgid = getattr(message, "msgid", None)
    return _(msgid, **message.params) if msgid else str(message)


def results_of(session, view: access.PollView):
    """The poll's results (cached per poll version)."""
    return results.for_poll(session, view)


def poll_context(session, view: access.PollView, principal, **extra) -> dict:
    """Everything ``polls/widget.html`` shows for one reader."""
    definition = view.definition
    closed = access.is_closed(view)
    organiser = access.is_organiser(principal, view)
    reason = access.may_vote(principal, view, session)
    show = access.results_visible(principal, view, session)
    figures = results_of(session, view) if show else None
    if figures is not None and figures.total and not figures.withheld:
        access.mark_results_shown(session, view)
    counts = tokens.counts(session, view.id) if organiser else None
    token_field = not closed and (
        definition.who == "token" or (not principal.logged_in and definition.who == "alle")
    )
    description = definition.question if definition.question != definition.title else ""
    context = {
        "view": view,
        "definition": definition,
        "description": render_markdown(description, view.row.path) if description else "",
        "closed": closed,
        "organiser": organiser,
        "reason": translated(reason) if reason else None,
        "may_vote": reason is None,
        "token_field": token_field,
        "voted": access.has_voted(session, view, principal),
        "mine": access.own_vote(session, view, principal) or {},
        "show_results": show and figures is not None,
        "results": figures,
        "token_counts": counts,
        "may_reopen": organiser and closed and access.reopen_problem(view) is None,
        "logged_in": principal.logged_in,
        "slot_answers": SLOT_ANSWERS,
        "scores": range(MAX_SCORE + 1),
        "anchor": ANCHOR.format(view.id),
        "in_page": False,
        "token": "",
        "problem": None,
    }
    context.update(extra)
    return context


def render_widget(plugin, kind, data, page, principal, session) -> Markup:
    """The live widget of a ``poll`` (or ``form``) block on its page."""
    definition, problems = parse(kind, data, plugin.timezone)
    if definition is None:
        return Markup(render_template("polls/widget.html", problems=problems))
    row = session.get(PollDef, definition.id)
    if row is None or row.path != page.path:
        # Not projected (yet), or the id belongs to another page (a pushed duplicate).
        problem = _("Die Kennung „%(id)s“ ist nicht verfügbar.", id=definition.id)
        return Markup(render_template("polls/widget.html", problems=[problem]))
    ref = content().ref(session, page.path) or PageRef(page.path, "board")
    view = access.view_of(session, row, ref)
    if kind == "form":
        from plugins.polls import forms

        return forms.render_widget(view, principal, session)
    context = poll_context(session, view, principal, in_page=True)
    return Markup(render_template("polls/widget.html", **context))


def poll_page(view: access.PollView, status: int = 200, template="polls/poll.html", **extra):
    """The poll's own page (also with a refused vote's message and the voter's input)."""
    context = poll_context(get_db(), view, current_principal(), **extra)
    return render_template(template, **context), status


def dashboard_section(principal) -> Markup | None:
    """On ``/-/me``: open polls the user may vote in, and their personal voting codes."""
    if not principal.logged_in:
        return None
    session = get_db()
    now = utcnow()
    query = (
        select(PollDef, PageRow)
        .join(PageRow, PageRow.path == PollDef.path)
        .outerjoin(PollState, PollState.poll_id == PollDef.id)
        .where(
            PollDef.kind == "poll",
            read_clause(
                state().acl.read_filter(principal), PageRow.effective_visibility, PageRow.space
            ),  # fmt: skip
            or_(PollDef.closes_at.is_(None), PollDef.closes_at > now),
            PollState.closed_at.is_(None),
        )
        .order_by(PollDef.closes_at.is_(None), PollDef.closes_at, PollDef.title)
    )
    open_polls, coded = [], []
    issued = {
        poll_id
        for (poll_id,) in session.execute(
            select(PollToken.poll_id).where(
                PollToken.user_id == principal.user_id, PollToken.used.is_(False)
            )
        )
    }
    for row, page_row in session.execute(query):
        view = access.view_of(session, row, content().ref_of(page_row))
        if row.id in issued:
            coded.append((view, tokens.member_token(row.id, principal.user_id)))
        elif access.may_vote(principal, view, session) is None and not access.has_voted(
            session, view, principal
        ):
            open_polls.append(view)
    if not open_polls and not coded:
        return None
    html = render_template("polls/dashboard.html", open_polls=open_polls[:20], coded=coded)
    return Markup(html)


def make_blueprint() -> Blueprint:
    """Routes under ``/-/polls``."""
    bp = Blueprint(
        "polls",
        __name__,
        url_prefix="/-/polls",
        static_folder="static",
        static_url_path="/static",
    )

    @bp.get("/", strict_slashes=False)
    def index():
        """Polls and forms on pages the reader may read, newest first."""
        principal = current_principal()
        session = get_db()
        page = page_number(request.args.get("page"))
        condition = read_clause(
            state().acl.read_filter(principal), PageRow.effective_visibility, PageRow.space
        )
        rows = session.execute(
            select(PollDef, PageRow)
            .join(PageRow, PageRow.path == PollDef.path)
            .where(condition)
            .order_by(PageRow.updated_at.desc(), PollDef.id)
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        ).all()
        polls = [access.view_of(session, row, content().ref_of(p)) for row, p in rows]
        items = [(view, access.is_closed(view)) for view in polls[:PER_PAGE]]
        return render_template(
            "polls/list.html", items=items, page=page, has_next=len(polls) > PER_PAGE
        )

    @bp.get("/<poll_id>")
    def poll(poll_id):
        """One poll (its form and, when allowed, its results), or one form."""
        view = access.load(poll_id)
        if view.definition.kind == "form":
            from plugins.polls.forms_views import form_page

            return form_page(view, 200)
        return poll_page(view)

    @bp.get("/<poll_id>/token")
    def token(poll_id):
        """Landing page of a slip (the token comes in the URL fragment, or is typed)."""
        view = access.load(poll_id)
        return poll_page(view, template="polls/token.html", token_field=True)

    @bp.post("/<poll_id>/vote")
    def vote(poll_id):
        """Count the reader's vote (account, or the ``token`` field)."""
        view = access.load(poll_id)
        if view.definition.kind != "poll":
            abort(404)
        principal = current_principal()
        raw = (request.form.get("token") or "").strip() or None
        if view.definition.who == "token" and raw is None:
            missing = votes.VoteError(N_("Bitte den Code vom Stimmzettel eingeben."), 400)
            return _refused(view, missing)
        try:
            answer = votes.answer_from_form(view.definition, request.form)
            changed = votes.cast(get_db(), view, principal, answer, token=raw)
        except votes.VoteError as exc:
            return _refused(view, exc, raw)
        if raw is not None:
            access.remember_vote(view.id)
        if changed:
            flash(_("Deine Stimme wurde geändert."), "success")
        else:
            flash(_("Deine Stimme wurde gezählt."), "success")
        if request.form.get("zurueck") == "seite":
            return redirect(
                url_for("pages.view", path=view.row.path, _anchor=ANCHOR.format(view.id))
            )
        return redirect(url_for("polls.poll", poll_id=view.id))

    def _refused(view, exc, raw=None):
        template = "polls/token.html" if raw or view.definition.who == "token" else None
        problem = translated(exc.message)
        fresh = access.load(view.id)  # the vote's transaction was rolled back
        if template:
            return poll_page(
                fresh, exc.status, template, problem=problem, token=raw or "", token_field=True
            )
        return poll_page(fresh, exc.status, problem=problem)

    @bp.post("/<poll_id>/close")
    def close(poll_id):
        """Close the poll now (organisers)."""
        view = _organiser_view(poll_id)
        session = get_db()
        access.close(session, view)
        session.commit()
        flash(_("Die Abstimmung ist geschlossen."), "success")
        return redirect(url_for("polls.poll", poll_id=view.id))

    @bp.post("/<poll_id>/reopen")
    def reopen(poll_id):
        """Reopen the poll (organisers), only if its results were never shown."""
        view = _organiser_view(poll_id)
        problem = access.reopen_problem(view)
        session = get_db()
        if problem is None and not access.reopen(session, view):
            problem = access.reopen_problem(access.load(poll_id))
        if problem is not None:
            session.rollback()
            return poll_page(access.load(poll_id), 409, problem=translated(problem))
        session.commit()
        flash(_("Die Abstimmung ist wieder geöffnet."), "success")
        return redirect(url_for("polls.poll", poll_id=view.id))

    def _organiser_view(poll_id):
        view = access.load(poll_id)
        if not access.is_organiser(current_principal(), view):
            abort(403)
        return view

    return bp
