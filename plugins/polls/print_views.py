"""QR code for a projector, printable single-use ballot slips, per-member tokens, poll to event.

- ``GET /-/polls/<id>/qr`` — the poll's title and a large QR code of its vote URL (readers).
- ``GET|POST /-/polls/<id>/slips`` — organisers print N single-use slips (A4, 8 or 10 a page, cut
  marks); the raw tokens exist only in that response (only HMACs are stored), never cached.
- ``POST /-/polls/<id>/member-tokens`` — organisers issue one token per member of the page's
  space and mail it (postal-style votes); members also find it in ``/-/me``.
- ``POST /-/polls/<id>/event`` — organisers turn a date poll's slot into a calendar event
  (hook ``wiki_event_block``); without a calendar plugin the route is 404.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from plugins.polls import access, results, tokens
from plugins.polls.definitions import TIMEZONE
from wiki.api import (
    Conflict,
    Forbidden,
    OperationError,
    content,
    current_principal,
    external_url,
    get_db,
    page_file,
    qr_svg,
    queue_mail,
    row_id,
    space_members,
    state,
)

MAX_SLIPS = 500
PER_PAGE = (8, 10)
#: Polls whose voters may get a personal token by mail (postal-style votes).
MEMBER_TOKEN_WHO = ("token", "mitglieder")


def poll_url(poll_id: str) -> str:
    """The absolute vote URL of a poll (what its QR code carries)."""
    return external_url("polls.poll", poll_id=poll_id)


def token_url(poll_id: str, raw: str) -> str:
    """The absolute landing URL of a slip; the token rides in the fragment, so it never reaches
    an access log."""
    return external_url("polls.token", poll_id=poll_id, _anchor=f"t={raw}")


def organiser_view(poll_id: str) -> access.PollView:
    """The poll for an organiser: 404 if its page is unreadable, 403 for other readers."""
    view = access.load(poll_id)
    if not access.is_organiser(current_principal(), view):
        abort(403)
    return view


def no_store(response):
    """Never cached anywhere: the page may carry raw tokens."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def calendar_available() -> bool:
    """Whether a plugin answers ``wiki_event_block`` (a calendar is enabled)."""
    return bool(state().pm.hook.wiki_event_block.get_hookimpls())


def is_date_poll(view: access.PollView) -> bool:
    return view.definition.kind == "poll" and view.definition.type == "termin"


def slip_count(text: str | None) -> int | None:
    """The number of slips asked for (1…500), or None."""
    number = row_id((text or "").strip())
    return number if number is not None and 1 <= number <= MAX_SLIPS else None


def is_whole_day(label: str, start: datetime, end: datetime | None) -> bool:
    """Whether a date poll's slot is a whole day (written as a date without a time)."""
    local = start.astimezone(ZoneInfo(TIMEZONE))
    return end is None and (local.hour, local.minute) == (0, 0) and ":" not in label


def member_mail(user, title: str, raw: str, poll_id: str) -> str:
    """The plain-text mail with a member's personal code."""
    landing = external_url("polls.token", poll_id=poll_id)
    paragraphs = [
        _("Hallo %(name)s,", name=user.display_name),
        _(
            "für die Abstimmung „%(title)s“ hast du einen persönlichen Code bekommen. Damit "
            "kannst du einmal abstimmen:",
            title=title,
        ),
        token_url(poll_id, raw),
        _("Oder öffne %(landing)s und gib diesen Code ein: %(code)s", landing=landing, code=raw),
        _("Du findest den Code auch unter „Mein Bereich“: %(me)s", me=external_url("account.me")),
        _("Gib den Code nicht weiter: Wer ihn hat, kann an deiner Stelle abstimmen."),
    ]
    return "\n\n".join(paragraphs) + "\n"


def tools_page(view, status: int = 200, error: str | None = None, count: str = "", per=8):
    """The organisers' page: slips form, counts, member tokens, event from a date poll."""
    issued, used = tokens.counts(get_db(), view.row.id)
    html = render_template(
        "polls/slips.html",
        view=view,
        issued=issued,
        used=used,
        error=error,
        count=count,
        per_page=per,
        choices=PER_PAGE,
        max_slips=MAX_SLIPS,
        member_tokens=view.definition.kind == "poll"
        and view.definition.who in MEMBER_TOKEN_WHO
        and bool(view.ref.space),
        event=is_date_poll(view) and calendar_available(),
        slots=slot_choices(view) if is_date_poll(view) else [],
        best=best_slots(view) if is_date_poll(view) else (),
        closed=access.is_closed(view),
    )
    return no_store((html, status))


def best_slots(view) -> tuple[str, ...]:
    """The date poll's best slots so far (most yes, then most yes or maybe)."""
    figures = results.for_poll(get_db(), view)
    return () if figures.withheld else tuple(figures.best_slots)


def slot_choices(view) -> list[tuple[str, str]]:
    """(key, label) of a date poll's slots, in the definition's order."""
    options = view.definition.options
    return [(key, options.get(key, key)) for key in (view.definition.slots or {})]


def make_blueprint() -> Blueprint:
    """Routes under ``/-/polls``."""
    bp = Blueprint("polls_print", __name__, url_prefix="/-/polls")

    @bp.get("/<poll_id>/qr")
    def qr(poll_id):
        """The poll's QR code, large, for a projector (everyone who may read the page)."""
        view = access.load(poll_id)
        url = poll_url(view.row.id)
        label = _("QR-Code zur Abstimmung: %(url)s", url=url)
        return render_template("polls/qr.html", view=view, url=url, svg=Markup(qr_svg(url, label)))

    @bp.route("/<poll_id>/slips", methods=["GET", "POST"])
    @login_required
    def slips(poll_id):
        """Print N single-use ballot slips (organisers); GET shows the form and the counts."""
        view = organiser_view(poll_id)
        if request.method == "GET":
            return tools_page(view)
        count_text = request.form.get("anzahl", "")
        per = 10 if request.form.get("je_seite") == "10" else 8
        number = slip_count(count_text)
        if number is None:
            message = _("Bitte eine Anzahl von 1 bis %(n)s angeben.", n=MAX_SLIPS)
            return tools_page(view, 400, message, count_text[:10], per)
        if access.is_closed(view):
            message = _("Die Abstimmung ist geschlossen; neue Stimmzettel sind nicht möglich.")
            return tools_page(view, 400, message, count_text[:10], per)
        session = get_db()
        raws = tokens.issue(session, view.row.id, number)
        session.commit()
        issued, used = tokens.counts(session, view.row.id)
        items = []
        for raw in raws:
            url = token_url(view.row.id, raw)
            label = _("QR-Code eines Stimmzettels")
            items.append({"token": raw, "url": url, "svg": Markup(qr_svg(url, label))})
        sheets = [items[i : i + per] for i in range(0, len(items), per)]
        html = render_template(
            "polls/slips_sheet.html",
            view=view,
            sheets=sheets,
            per_page=per,
            issued=issued,
            used=used,
            number=number,
            landing=external_url("polls.token", poll_id=view.row.id),
        )
        return no_store(html)

    @bp.post("/<poll_id>/member-tokens")
    @login_required
    def member_tokens(poll_id):
        """One personal token per member of the page's space, each mailed to its member."""
        view = organiser_view(poll_id)
        if view.definition.kind != "poll" or view.definition.who not in MEMBER_TOKEN_WHO:
            message = _(
                "Persönliche Zugangscodes gibt es nur für Abstimmungen mit „wer: token“ "
                "oder „wer: mitglieder“."
            )
            return tools_page(view, 400, message)
        if not view.ref.space:
            message = _("Die Seite gehört zu keiner Gliederung; es gibt keine Mitgliederliste.")
            return tools_page(view, 400, message)
        if access.is_closed(view):
            message = _("Die Abstimmung ist geschlossen; neue Zugangscodes sind nicht möglich.")
            return tools_page(view, 400, message)
        session = get_db()
        title = view.definition.title or view.definition.question
        new, known, no_mail = 0, 0, 0
        for user in space_members(view.ref.space, session):
            raw = tokens.member_token(view.row.id, user.id)
            if tokens.find(session, view.row.id, raw) is not None:
                known += 1
                continue
            tokens.issue(session, view.row.id, 1, user_id=user.id)
            new += 1
            if not user.email:
                no_mail += 1
                continue
            body = member_mail(user, title, raw, view.row.id)
            queue_mail(user, _("Dein Zugangscode: %(title)s", title=title), body)
        session.commit()
        html = render_template(
            "polls/member_tokens.html", view=view, new=new, known=known, no_mail=no_mail
        )
        return no_store(html)

    @bp.post("/<poll_id>/event")
    def event(poll_id):
        """Add the chosen slot of a date poll to the poll's page as a calendar event (404
        without a calendar plugin, for everyone)."""
        if not calendar_available():
            abort(404)
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        view = organiser_view(poll_id)
        if not is_date_poll(view):
            abort(404)
        key = request.form.get("termin", "")
        slots = view.definition.slots or {}
        if key not in slots:
            return tools_page(view, 400, _("Bitte einen der Termine der Umfrage auswählen."))
        start, end = slots[key]
        all_day = is_whole_day(view.definition.options.get(key, ""), start, end)
        if all_day:
            start = start.astimezone(ZoneInfo(TIMEZONE)).date()
        title = view.definition.title or view.definition.question
        block = state().pm.hook.wiki_event_block(
            title=title, start=start, end=end, all_day=all_day, ident=f"{view.row.id}-{key}"
        )
        if not block:
            abort(404)
        path = view.row.path
        store = state().store
        head = store.head()
        data = store.read(page_file(path), head)
        if data is None:
            abort(404)
        text = data.decode("utf-8").rstrip("\n") + "\n\n" + block.strip("\n") + "\n"
        message = _("Termin aus Umfrage „%(title)s“", title=title)
        try:
            content().save(current_principal(), path, text, head, message)
        except Conflict:
            return tools_page(view, 409, _("Die Seite wurde gerade geändert. Bitte noch einmal."))
        except Forbidden:
            abort(403)
        except OperationError as exc:
            problems = getattr(exc, "problems", None) or [str(exc)]
            return tools_page(view, 400, " ".join(str(p) for p in problems))
        flash(_("Der Termin steht jetzt auf der Seite."), "success")
        return redirect(url_for("pages.view", path=path))

    return bp
