"""Forms: submitting answers, the organisers' summary and its CSV export.

Every route goes through :func:`access.load` (404 for an unknown form and for one on a page the
reader may not read, alike); the summary and the export are for organisers only (403 for other
readers; visitors who are not logged in are asked to log in first).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from plugins.polls import access, forms, forms_check, forms_summary
from wiki.api import csv_text, current_principal, get_db, page_titles


def form_view(poll_id: str):
    """The form ``poll_id`` for the current reader (404 if it is unknown, hidden or a poll)."""
    view = access.load(poll_id)
    if view.definition.kind != "form":
        abort(404)
    return view


def organiser_view(poll_id: str):
    """The form, for its organisers only (403 for other readers)."""
    view = form_view(poll_id)
    if not access.is_organiser(current_principal(), view):
        abort(403)
    return view


def page_title(view) -> str:
    """The title of the form's page (for breadcrumbs)."""
    return page_titles([view.row.path]).get(view.row.path, (view.row.path, True))[0]


def form_page(view, status: int, **extra):
    """The form on a page of its own, with what was typed and the problems named (also fit
    for the form's own page, ``GET /-/polls/<id>``, with status 200)."""
    context = forms.widget_context(get_db(), view, current_principal(), **extra)
    widget = Markup(render_template("polls/form_widget.html", **context))
    html = render_template("polls/form_page.html", view=view, widget=widget, page=page_title(view))
    return html, status


def make_blueprint() -> Blueprint:
    """Routes under ``/-/polls``."""
    bp = Blueprint("polls_forms", __name__, url_prefix="/-/polls")

    @bp.post("/<poll_id>/submit")
    def submit(poll_id: str):
        """Store one submission; bad answers re-show the form with them kept (400)."""
        view = form_view(poll_id)
        session, principal = get_db(), current_principal()
        token = request.form.get("token", "")
        token = token.strip()[:100] if isinstance(token, str) else ""
        if not token and view.definition.who != "token":
            reason, done = forms.account_problem(session, view, principal)
            if reason:
                return form_page(view, 409 if done or access.is_closed(view) else 403)
        checked = forms_check.check_answers(view.definition.questions, request.form)
        if checked.errors:
            return form_page(view, 400, checked=checked, token=token)
        try:
            forms.store(session, view, principal, checked.answers, token)
        except forms.Refused as refused:
            kept = token if refused.status == 400 else ""
            return form_page(
                view, refused.status, checked=checked, problem=str(refused), token=kept
            )
        flash(_("Danke! Deine Antworten sind gespeichert."), "success")
        return redirect(url_for("pages.view", path=view.row.path, _anchor=f"form-{view.id}"))

    @bp.get("/<poll_id>/answers")
    @login_required
    def answers(poll_id: str):
        """The organisers' summary: per question counts and bars, figures, text answers."""
        view = organiser_view(poll_id)
        session = get_db()
        items = forms_summary.entries(session, view)
        secret = view.definition.secret
        return render_template(
            "polls/answers.html",
            view=view,
            page=page_title(view),
            total=len(items),
            summaries=forms_summary.summarise(view.definition.questions, items),
            respondents=forms_summary.respondents(session, view) if secret == "verborgen" else [],
            closed=access.is_closed(view),
        )

    @bp.get("/<poll_id>/answers.csv")
    @login_required
    def answers_csv(poll_id: str):
        """Every submission as CSV (German spreadsheet conventions, formulas neutralised)."""
        view = organiser_view(poll_id)
        header, rows = forms_summary.csv_table(view, forms_summary.entries(get_db(), view))
        response = Response(csv_text(header, rows), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{view.id}-antworten.csv"'
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return bp
