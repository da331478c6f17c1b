"""Invitations into a space: personal ones by e-mail and join links with a QR code.

A **personal invitation** is single-use and expires (14 days by default). The invitee follows
``/-/invite/<token>``, creates an account there (or logs in) and is a member at once. Boards can
invite a whole member list from a CSV file.

A **join link** (``/-/join/<token>``) is multi-use, expires and is limited in uses; it is meant
to be shown at a meeting as a QR code. Whoever follows it files a membership request that the
board approves or declines.

Only SHA-256 hashes of the tokens are stored. A join link's token is derived from the row with
the secret key, so the board can show its QR code again later; a personal token exists only in
the invitation mail.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from plugins.spaces import announce, rules
from plugins.spaces.directory import add_member, in_subtree
from plugins.spaces.models import Invitation, JoinRequest, Membership
from plugins.spaces.views import require_manage
from wiki import api as auth
from wiki.api import (
    FORMULA_START,
    User,
    current_principal,
    external_url,
    format_dt,
    get_db,
    normalize_address,
    qr_png,
    row_id,
    start_verification,
    token_hash,
    utcnow,
    valid_email,
)
from wiki.api import state as wiki

PERSONAL_DAYS = 14
LINK_DAYS = 30
LINK_USES = 50
MAX_DAYS = 365
MAX_USES = 1000
CSV_MAX_ROWS = 2000
NAME_MAX = 128
QR_SCALE = 8


# -- tokens and validity ------------------------------------------------------------------------


def new_secret() -> str:
    """A random token for a personal invitation."""
    return secrets.token_urlsafe(32)


def link_token(invitation: Invitation) -> str:
    """The token of a join link, computed again from the row and the secret key."""
    created = invitation.created_at.strftime("%Y-%m-%dT%H:%M:%S")
    return announce.derived_token("spaces-join", f"{invitation.id}:{created}")


def find(db, raw: str, kind: str) -> Invitation | None:
    """The invitation of ``kind`` with token ``raw`` (whatever its state), or None."""
    if not raw or len(raw) > 200:
        return None
    row = db.scalar(select(Invitation).where(Invitation.token_hash == token_hash(raw)))
    if row is None or row.kind != kind:
        return None
    return row


def state_of(invitation: Invitation, now=None) -> str:
    """``open``, ``revoked``, ``expired`` or ``used``."""
    now = now or utcnow()
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at < now:
        return "expired"
    if invitation.uses >= invitation.max_uses:
        return "used"
    return "open"


def problem_page(plugin, invitation: Invitation | None):
    """An error page if the invitation cannot be used (nothing is changed), else None."""
    if invitation is None:
        return _error(
            404,
            _("Link ungültig"),
            _(
                "Diesen Einladungslink gibt es nicht. Bitte prüfe, ob er vollständig "
                "übernommen wurde, oder bitte um einen neuen."
            ),
        )
    if invitation.space not in plugin.spaces():
        return _error(
            404,
            _("Link ungültig"),
            _("Die Gliederung, zu der dieser Link gehört, gibt es nicht mehr."),
        )
    state = state_of(invitation)
    if state == "revoked":
        return _error(
            404,
            _("Link zurückgezogen"),
            _("Dieser Einladungslink wurde vom Vorstand zurückgezogen."),
        )
    if state == "expired":
        return _error(
            410,
            _("Link abgelaufen"),
            _(
                "Dieser Einladungslink ist am %(date)s abgelaufen. Bitte den Vorstand um einen "
                "neuen.",
                date=format_dt(invitation.expires_at, "short"),
            ),
        )
    if state == "used":
        if invitation.kind == "personal":
            message = _("Diese Einladung wurde schon angenommen; sie gilt nur einmal.")
        else:
            message = _("Dieser Link wurde schon so oft benutzt, wie der Vorstand erlaubt hat.")
        return _error(410, _("Link aufgebraucht"), message)
    return None


def _error(code: int, title: str, message: str):
    return render_template("error.html", code=code, title=title, message=message), code


def claim(db, invitation: Invitation) -> bool:
    """Use the invitation once (atomic: never beyond its limit, never after expiry/revocation)."""
    result = db.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.uses < Invitation.max_uses,
            Invitation.revoked_at.is_(None),
            Invitation.expires_at >= utcnow(),
        )
        .values(uses=Invitation.uses + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# -- accounts -----------------------------------------------------------------------------------


def account_form(form) -> dict[str, str]:
    """The fields of the account form (the password is never echoed)."""
    return {
        "display_name": " ".join(form.get("display_name", "").split())[:200],
        "handle": form.get("handle", "").strip()[:100],
        "email": form.get("email", "").strip()[:300],
    }


def email_in_use(db, email: str) -> bool:
    """An active account already uses ``email`` (addresses are unique, case-insensitively)."""
    return auth.email_taken(db, email)


def account_problems(db, fields: dict[str, str], password: str) -> list[str]:
    """What is wrong with a new account, checked like the core does."""
    problems = []
    name = fields["display_name"]
    if not 1 <= len(name) <= NAME_MAX or any(ord(c) < 32 for c in name):
        problems.append(_("Bitte deinen Namen angeben (höchstens %(n)s Zeichen).", n=NAME_MAX))
    handle = auth.normalise_handle(fields["handle"])
    handle_issues = auth.handle_problems(handle)
    problems.extend(handle_issues)
    if not handle_issues and db.scalar(select(User.id).where(User.handle == handle)):
        problems.append(handle_taken())
    email = fields["email"]
    if not valid_email(email) or not _normalizable(email):
        problems.append(_("Bitte eine gültige E-Mail-Adresse angeben."))
    elif email_in_use(db, email):
        problems.append(
            _(
                "Diese E-Mail-Adresse ist nicht verfügbar. Wenn du schon einen Zugang hast, "
                "melde dich damit an („Passwort vergessen?“ hilft, falls nötig)."
            )
        )
    problems.extend(auth.password_problems(password))
    return problems


def handle_taken() -> str:
    return _("Dieser Benutzername ist nicht verfügbar. Bitte wähle einen anderen.")


def _normalizable(email: str) -> bool:
    try:
        normalize_address(email)
    except ValueError:
        return False
    return True


def create_account(db, fields: dict[str, str], password: str, verified: bool) -> User:
    """Add the account (the caller commits); ``IntegrityError`` if the handle was just taken."""
    user = User(
        handle=auth.normalise_handle(fields["handle"]),
        display_name=fields["display_name"],
        email=fields["email"],
        email_verified_at=utcnow() if verified else None,
        password_hash=auth.hash_password(password),
        is_admin=False,
    )
    db.add(user)
    db.flush()
    return user


def log_in_new(user: User) -> None:
    """Start a fresh session for the new account (as the core login does)."""
    session.clear()
    login_user(user)


def join_space(db, user_id: int, space: str) -> bool:
    """Make ``user_id`` a direct member of ``space`` (an existing role is kept)."""
    existing = db.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.space == space)
    )
    if existing is not None:
        return False
    add_member(db, user_id, space, "member")
    return True


# -- inviting -----------------------------------------------------------------------------------


@dataclass
class ReportLine:
    """One person of an invitation run: sent, or skipped and why."""

    line: int
    name: str
    email: str
    sent: bool
    reason: str = ""


def clean_cell(value: str) -> str:
    """A CSV cell without surrounding space and without a spreadsheet's formula guard."""
    value = (value or "").strip()
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        value = value[1:]
    return value


def parse_csv(data: bytes) -> tuple[list[tuple[int, str, str]], list[str]]:
    """``(line, name, e-mail)`` rows of a member list, and problems with the file itself.

    UTF-8 with or without BOM, ``;`` or ``,`` separated, with or without a header row; the
    columns are name and e-mail (a header may name them in another order).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [
            _(
                "Die Datei ist nicht in UTF-8 gespeichert. Bitte in der Tabellenkalkulation als "
                "„CSV (UTF-8)“ speichern."
            )
        ]
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first and first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, str, str]] = []
    name_col, email_col = 0, 1
    header_seen = False
    try:
        for cells in reader:
            cells = [clean_cell(c) for c in cells]
            if not any(cells):
                continue
            if not header_seen:
                header_seen = True
                if not any("@" in c for c in cells):
                    labels = [c.lower().replace("-", "").replace(" ", "") for c in cells]
                    email_col = next((i for i, c in enumerate(labels) if "mail" in c), email_col)
                    name_col = next(
                        (i for i, c in enumerate(labels) if "name" in c and i != email_col),
                        0 if email_col != 0 else 1,
                    )
                    continue
            if len(rows) >= CSV_MAX_ROWS:
                return [], [
                    _("Die Datei hat mehr als %(n)s Einträge. Bitte aufteilen.", n=CSV_MAX_ROWS)
                ]
            if len(cells) == 1:
                name, email = "", cells[0]
            else:
                name = cells[name_col] if name_col < len(cells) else ""
                email = cells[email_col] if email_col < len(cells) else ""
                if "@" not in email and "@" in name:
                    name, email = email, name
            rows.append((reader.line_num, name[:200], email))
    except csv.Error:
        return [], [_("Die Datei ist keine lesbare CSV-Datei.")]
    if not rows:
        return [], [_("In der Datei stehen keine Einträge.")]
    return rows, []


def invite_people(db, plugin, space: str, people, days: int, inviter: User) -> list[ReportLine]:
    """Create personal invitations and queue their mails (the caller commits)."""
    now = utcnow()
    # Only verified addresses say who a member is (an unverified one may be anybody's).
    members = {
        email.lower()
        for email in db.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                in_subtree(Membership.space, space),
                User.deleted_at.is_(None),
                User.email_verified_at.is_not(None),
            )
        )
    }
    pending = {
        email.lower()
        for email in db.scalars(
            select(Invitation.email).where(
                Invitation.space == space,
                Invitation.kind == "personal",
                Invitation.revoked_at.is_(None),
                Invitation.expires_at >= now,
                Invitation.uses < Invitation.max_uses,
            )
        )
    }
    info = plugin.rows(db)[space]
    seen: set[str] = set()
    report = []
    for line, name, email in people:
        name = " ".join(name.split())
        key = email.lower()
        if not valid_email(email) or not _normalizable(email):
            report.append(ReportLine(line, name, email, False, _("ungültige E-Mail-Adresse")))
            continue
        if key in seen:
            report.append(ReportLine(line, name, email, False, _("doppelt in der Datei")))
            continue
        seen.add(key)
        if key in members:
            report.append(ReportLine(line, name, email, False, _("schon Mitglied")))
            continue
        if key in pending:
            report.append(
                ReportLine(line, name, email, False, _("schon eingeladen, Einladung noch offen"))
            )
            continue
        raw = new_secret()
        invitation = Invitation(
            space=space,
            kind="personal",
            token_hash=token_hash(raw),
            email=email,
            name=name,
            created_by=inviter.id,
            created_at=now,
            expires_at=now + timedelta(days=days),
            max_uses=1,
            uses=0,
        )
        db.add(invitation)
        send_invitation(db, invitation, raw, info, inviter)
        report.append(ReportLine(line, name, email, True))
    db.flush()
    return report


def send_invitation(db, invitation: Invitation, raw: str, info, inviter: User) -> None:
    """Queue the invitation mail with the single-use link."""
    url = external_url("spaces_public.accept_invitation", token=raw)
    greeting = _("Hallo %(name)s,", name=invitation.name) if invitation.name else _("Hallo,")
    body = _(
        "%(inviter)s lädt dich in die Gliederung „%(space)s“ im Wiki %(site)s ein.\n\n"
        "Über diesen Link legst du dir einen Zugang an (oder meldest dich mit deinem "
        "bestehenden an) und bist danach gleich Mitglied:\n%(url)s\n\n"
        "Der Link gilt einmal und bis %(date)s.\n\n"
        "Wenn du damit nichts anfangen kannst, ignoriere diese Nachricht einfach.\n",
        inviter=inviter.display_name,
        space=info.name,
        site=current_app.config["WIKI_SITE_NAME"],
        url=url,
        date=format_dt(invitation.expires_at, "short"),
    )
    wiki().mailer.enqueue(
        db,
        invitation.email,
        _("Einladung: %(space)s", space=info.name),
        f"{greeting}\n\n{body}",
    )


def create_link(db, space: str, days: int, uses: int, creator: User) -> Invitation:
    """A new join link (the caller commits)."""
    now = utcnow().replace(microsecond=0)
    row = Invitation(
        space=space,
        kind="link",
        token_hash=token_hash(new_secret()),  # replaced below, once the id is known
        created_by=creator.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
        max_uses=uses,
        uses=0,
    )
    db.add(row)
    db.flush()
    row.token_hash = token_hash(link_token(row))
    db.flush()
    return row


def link_url(row: Invitation) -> str | None:
    """The public address of a join link (None if the secret key changed since)."""
    raw = link_token(row)
    if token_hash(raw) != row.token_hash:
        return None
    return external_url("spaces_public.join", token=raw)


def number(value: str, default: int, low: int, high: int) -> int | None:
    """An integer form field within bounds (``default`` if empty, None if invalid)."""
    value = (value or "").strip()
    if not value:
        return default
    try:
        result = int(value)
    except ValueError:
        return None
    return result if low <= result <= high else None


def tell_requester(db, user: User, space_name: str, space: str, decision: str) -> None:
    """Mail the board's decision on a membership request, in the requester's language."""
    default = wiki().config["WIKI_DEFAULT_LOCALE"]
    with force_locale(user.locale or default):
        if decision == "approve":
            subject = _("Willkommen bei %(space)s", space=space_name)
            body = _(
                "Hallo %(name)s,\n\nder Vorstand hat deinen Antrag angenommen: du bist jetzt "
                "Mitglied von %(space)s.\n\n%(url)s\n",
                name=user.display_name,
                space=space_name,
                url=external_url("pages.view", path=space),
            )
        else:
            subject = _("Dein Antrag bei %(space)s", space=space_name)
            body = _(
                "Hallo %(name)s,\n\nder Vorstand hat deinen Antrag auf Mitgliedschaft in "
                "%(space)s nicht angenommen. Bei Fragen wende dich bitte an den Vorstand.\n",
                name=user.display_name,
                space=space_name,
            )
    wiki().mailer.enqueue(db, user.email, str(subject), str(body))


# -- routes of the board ------------------------------------------------------------------------


def register(bp, plugin) -> None:
    """Board routes: invitations, join links with QR code, membership requests."""

    def listing(space, report=None, problems=None, form=None):
        db = get_db()
        now = utcnow()
        rows = db.scalars(
            select(Invitation)
            .where(Invitation.space == space)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(300)
        ).all()
        personal = [(r, state_of(r, now)) for r in rows if r.kind == "personal"]
        links = [(r, state_of(r, now)) for r in rows if r.kind == "link"]
        open_requests = db.scalar(
            select(func.count())
            .select_from(JoinRequest)
            .where(JoinRequest.space == space, JoinRequest.status == "open")
        )
        problems = problems or []
        return render_template(
            "spaces/invitations.html",
            space=space,
            info=plugin.rows(db)[space],
            personal=personal,
            links=links,
            open_requests=open_requests,
            report=report,
            problems=problems,
            form=form or {},
            defaults={
                "personal_days": PERSONAL_DAYS,
                "link_days": LINK_DAYS,
                "link_uses": LINK_USES,
                "max_days": MAX_DAYS,
                "max_uses": MAX_USES,
            },
        ), (400 if problems else 200)

    @bp.route("/<path:space>/invitations", methods=["GET", "POST"])
    @login_required
    def invitations(space):
        """Invite people (one or a CSV list), create and revoke join links."""
        require_manage(plugin, space)
        if request.method == "GET":
            return listing(space)
        db = get_db()
        inviter = db.get(User, current_user.id)
        action = request.form.get("action")
        if action in ("invite", "upload"):
            days = number(request.form.get("days"), PERSONAL_DAYS, 1, MAX_DAYS)
            if days is None:
                return listing(
                    space,
                    problems=[_("Gültigkeit: bitte 1 bis %(n)s Tage angeben.", n=MAX_DAYS)],
                )
            if action == "invite":
                form = {
                    "name": " ".join(request.form.get("name", "").split())[:200],
                    "email": request.form.get("email", "").strip()[:300],
                }
                people = [(1, form["name"], form["email"])]
            else:
                form = {}
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    return listing(space, problems=[_("Bitte eine CSV-Datei auswählen.")])
                people, problems = parse_csv(upload.read())
                if problems:
                    return listing(space, problems=problems)
            report = invite_people(db, plugin, space, people, days, inviter)
            db.commit()
            wiki().mailer.kick()
            if action == "invite":
                line = report[0]
                if not line.sent:
                    return listing(
                        space,
                        problems=[_("Nicht eingeladen: %(reason)s.", reason=line.reason)],
                        form=form,
                    )
                flash(_("Einladung an %(email)s verschickt.", email=line.email), "success")
                return redirect(url_for("spaces.invitations", space=space))
            return listing(space, report=report)
        if action == "link":
            days = number(request.form.get("days"), LINK_DAYS, 1, MAX_DAYS)
            uses = number(request.form.get("uses"), LINK_USES, 1, MAX_USES)
            problems = []
            if days is None:
                problems.append(_("Gültigkeit: bitte 1 bis %(n)s Tage angeben.", n=MAX_DAYS))
            if uses is None:
                problems.append(_("Anzahl: bitte 1 bis %(n)s angeben.", n=MAX_USES))
            if problems:
                return listing(space, problems=problems)
            row = create_link(db, space, days, uses, inviter)
            db.commit()
            flash(_("Beitrittslink angelegt."), "success")
            return redirect(url_for("spaces.join_link", space=space, invitation_id=row.id))
        if action == "revoke":
            invitation_id = row_id(request.form.get("invitation_id"))
            row = db.get(Invitation, invitation_id) if invitation_id is not None else None
            if row is None or row.space != space:
                abort(404)
            if state_of(row) == "open":
                row.revoked_at = utcnow()
                db.commit()
            flash(_("Einladung zurückgezogen."), "success")
            return redirect(url_for("spaces.invitations", space=space))
        abort(400)

    def link_row(space, invitation_id) -> Invitation:
        require_manage(plugin, space)
        row = get_db().get(Invitation, invitation_id)
        if row is None or row.space != space or row.kind != "link":
            abort(404)
        return row

    @bp.get("/<path:space>/invitations/<int:invitation_id>")
    @login_required
    def join_link(space, invitation_id):
        """A join link to print or show on a projector: QR code and address."""
        row = link_row(space, invitation_id)
        return render_template(
            "spaces/join_link.html",
            space=space,
            info=plugin.rows(get_db())[space],
            link=row,
            state=state_of(row),
            url=link_url(row),
        )

    @bp.get("/<path:space>/invitations/<int:invitation_id>/qr.png")
    @login_required
    def join_qr(space, invitation_id):
        """The QR code of a join link as PNG (board only: it contains the secret)."""
        row = link_row(space, invitation_id)
        url = link_url(row)
        if url is None:
            abort(404)
        response = Response(qr_png(url, QR_SCALE), mimetype="image/png")
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @bp.route("/<path:space>/requests", methods=["GET", "POST"])
    @login_required
    def requests(space):
        """Membership requests from join links: approve or decline."""
        require_manage(plugin, space)
        db = get_db()
        if request.method == "POST":
            request_id = row_id(request.form.get("request_id"))
            row = db.get(JoinRequest, request_id) if request_id is not None else None
            if row is None or row.space != space:
                abort(404)
            decision = request.form.get("decision")
            if decision not in ("approve", "decline"):
                abort(400)
            if row.status != "open":
                flash(_("Über diesen Antrag wurde schon entschieden."), "info")
                return redirect(url_for("spaces.requests", space=space))
            row.status = "approved" if decision == "approve" else "declined"
            row.decided_at = utcnow()
            row.decided_by = current_user.id
            if decision == "approve":
                join_space(db, row.user_id, space)
            user = db.get(User, row.user_id)
            if user is not None and user.is_active:
                tell_requester(db, user, plugin.rows(db)[space].name, space, decision)
            db.commit()
            wiki().mailer.kick()
            name = user.display_name if user is not None else "?"
            if decision == "approve":
                flash(_("%(name)s ist jetzt Mitglied.", name=name), "success")
            else:
                flash(_("Antrag von %(name)s abgelehnt.", name=name), "success")
            return redirect(url_for("spaces.requests", space=space))
        open_rows = db.execute(
            select(JoinRequest, User)
            .join(User, User.id == JoinRequest.user_id)
            .where(JoinRequest.space == space, JoinRequest.status == "open")
            .order_by(JoinRequest.created_at)
        ).all()
        decided = db.execute(
            select(JoinRequest, User)
            .join(User, User.id == JoinRequest.user_id)
            .where(JoinRequest.space == space, JoinRequest.status != "open")
            .order_by(JoinRequest.decided_at.desc())
            .limit(30)
        ).all()
        return render_template(
            "spaces/requests.html",
            space=space,
            info=plugin.rows(db)[space],
            open_requests=open_rows,
            decided=decided,
        )


# -- public routes ------------------------------------------------------------------------------


def make_public_blueprint(plugin) -> Blueprint:
    """Routes outside ``/-/spaces/``: invitation and join links, unsubscribing."""
    public = Blueprint("spaces_public", __name__)
    register_public(public, plugin)
    announce.register_public(public, plugin)
    return public


def register_public(public, plugin) -> None:
    """``/-/invite/<token>`` and ``/-/join/<token>``."""

    def page(template, invitation, fields, problems, **extra):
        db = get_db()
        return render_template(
            template,
            invitation=invitation,
            info=plugin.rows(db)[invitation.space],
            inviter=db.get(User, invitation.created_by) if invitation.created_by else None,
            fields=fields,
            problems=problems,
            member=rules.is_member(current_principal(), invitation.space),
            login_url=url_for("account.login", next=request.path),
            **extra,
        ), (400 if problems else 200)

    @public.route("/-/invite/<token>", methods=["GET", "POST"])
    def accept_invitation(token):
        """A personal invitation: create an account or log in, and be a member at once."""
        db = get_db()
        invitation = find(db, token, "personal")
        blocked = problem_page(plugin, invitation)
        if blocked:
            return blocked
        space = invitation.space
        fields = {"display_name": invitation.name, "handle": "", "email": invitation.email}
        problems: list[str] = []
        if request.method == "POST":
            if current_user.is_authenticated:
                if rules.is_member(current_principal(), space):
                    flash(_("Du bist schon Mitglied."), "info")
                    return redirect(url_for("pages.view", path=space))
                if not claim(db, invitation):
                    db.rollback()
                    return problem_page(plugin, invitation) or abort(410)
                join_space(db, current_user.id, space)
                db.commit()
                return welcome(space)
            fields = account_form(request.form)
            password = request.form.get("password", "")
            problems = account_problems(db, fields, password)
            if not problems:
                verified = fields["email"].lower() == invitation.email.lower()
                try:
                    if not claim(db, invitation):
                        db.rollback()
                        return problem_page(plugin, invitation) or abort(410)
                    user = create_account(db, fields, password, verified)
                    join_space(db, user.id, space)
                    if not verified:
                        start_verification(user)
                    db.commit()
                except IntegrityError:
                    db.rollback()
                    problems = [handle_taken()]
                else:
                    wiki().mailer.kick()
                    log_in_new(user)
                    return welcome(space)
        return page("spaces/invite_accept.html", invitation, fields, problems)

    def welcome(space):
        name = plugin.rows(get_db())[space].name
        flash(_("Willkommen! Du bist jetzt Mitglied von %(space)s.", space=name), "success")
        return redirect(url_for("pages.view", path=space))

    @public.route("/-/join/<token>", methods=["GET", "POST"])
    def join(token):
        """A join link: create an account or log in, and ask the board for membership."""
        db = get_db()
        invitation = find(db, token, "link")
        blocked = problem_page(plugin, invitation)
        if blocked:
            return blocked
        space = invitation.space
        fields = {"display_name": "", "handle": "", "email": ""}
        problems: list[str] = []
        pending = None
        if current_user.is_authenticated:
            pending = db.scalar(
                select(JoinRequest).where(
                    JoinRequest.user_id == current_user.id,
                    JoinRequest.space == space,
                    JoinRequest.status == "open",
                )
            )
        if request.method == "POST":
            if current_user.is_authenticated:
                if rules.is_member(current_principal(), space):
                    flash(_("Du bist schon Mitglied."), "info")
                    return redirect(url_for("pages.view", path=space))
                if pending is not None:
                    return requested(space)
                if not claim(db, invitation):
                    db.rollback()
                    return problem_page(plugin, invitation) or abort(410)
                file_request(db, current_user.id, invitation)
                db.commit()
                return requested(space)
            fields = account_form(request.form)
            password = request.form.get("password", "")
            problems = account_problems(db, fields, password)
            if not problems:
                try:
                    if not claim(db, invitation):
                        db.rollback()
                        return problem_page(plugin, invitation) or abort(410)
                    user = create_account(db, fields, password, verified=False)
                    file_request(db, user.id, invitation)
                    start_verification(user)
                    db.commit()
                except IntegrityError:
                    db.rollback()
                    problems = [handle_taken()]
                else:
                    wiki().mailer.kick()
                    log_in_new(user)
                    return requested(space)
        return page("spaces/join.html", invitation, fields, problems, pending=pending)

    def requested(space):
        name = plugin.rows(get_db())[space].name
        flash(
            _(
                "Dein Antrag auf Mitgliedschaft in %(space)s ist beim Vorstand. Sobald er "
                "zugestimmt hat, siehst du die Seiten für Mitglieder.",
                space=name,
            ),
            "success",
        )
        return redirect(url_for("account.me"))


def file_request(db, user_id: int, invitation: Invitation) -> JoinRequest:
    """Open a membership request (a declined or earlier one is opened again)."""
    row = db.scalar(
        select(JoinRequest).where(
            JoinRequest.user_id == user_id, JoinRequest.space == invitation.space
        )
    )
    if row is None:
        row = JoinRequest(user_id=user_id, space=invitation.space)
        db.add(row)
    row.status = "open"
    row.invitation_id = invitation.id
    row.created_at = utcnow()
    row.decided_at = None
    row.decided_by = None
    db.flush()
    return row
