"""Login (with the second factor), logout, own account (password, e-mail, tokens, two-factor
login), own data export, account deletion, password reset, own dashboard."""

from __future__ import annotations

import json
from datetime import date, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import delete, func, or_, select

from wiki import auth, qr, totp
from wiki.auth import current_principal
from wiki.db import Change, LoginAttempt, MailMessage, Token, User, get_db, utcnow
from wiki.queries import row_id
from wiki.views.common import wiki
from wiki.views.history import changes_query, recent_changes
from wiki.web import forget_user_name, safe_next

bp = Blueprint("account", __name__)
#: How long the code may take after the password (shown on the code form).
PENDING_MINUTES = totp.PENDING_SECONDS // 60


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for mails (WIKI_BASE_URL if set)."""
    base = wiki().config["WIKI_BASE_URL"]
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def send_mail(user: User, subject: str, body: str) -> None:
    """Queue a mail to ``user`` (committed with the caller's transaction) and wake the sender."""
    wiki().mailer.enqueue(get_db(), user.email, subject, body)


@bp.route("/-/login", methods=["GET", "POST"])
def login():
    """Log in with user name (or e-mail) and password; failures are rate limited."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    error = None
    status = 200
    if request.method == "POST":
        handle = request.form.get("handle", "").strip()[:254]
        password = request.form.get("password", "")
        db = get_db()
        keys = auth.login_keys(handle)
        if auth.too_many_failures(db, keys):
            return render_template(
                "login.html",
                error=_("Zu viele fehlgeschlagene Versuche. Bitte in einigen Minuten erneut."),
                next=next_url,
                handle=handle,
            ), 429
        found = db.scalars(
            select(User)
            .where(
                or_(
                    User.handle == auth.normalise_handle(handle),
                    func.lower(User.email) == handle.lower(),
                ),
                User.deleted_at.is_(None),
            )
            .limit(2)
        ).all()
        # An address shared by two accounts (data from before addresses were unique) logs in
        # neither: the user name still works.
        user = found[0] if len(found) == 1 else None
        if user is not None and auth.check_password(user, password):
            remember = "remember" in request.form
            session.clear()
            if user.has_totp:
                # Not logged in yet: the account's failures are forgiven only after the code,
                # so knowing the password does not reset the limit on guessing codes.
                totp.start_pending(session, user, remember, next_url)
                return redirect(url_for("account.login_2fa"))
            auth.clear_failures(db, keys)
            login_user(user, remember=remember)
            session[totp.SESSION_FLAG] = False
            return redirect(next_url)
        auth.record_failure(db, keys)
        error = _("Benutzername oder Passwort ist falsch.")
        status = 401
    return render_template(
        "login.html", error=error, next=next_url, handle=request.form.get("handle", "")
    ), status


@bp.route("/-/login/2fa", methods=["GET", "POST"])
def login_2fa():
    """Second step of a login with two factors: the code from the app or a recovery code."""
    pending = totp.pending_login(session)
    if current_user.is_authenticated:
        return redirect(safe_next(pending.get("next") if pending else None))
    db = get_db()
    user = totp.pending_user(db, pending) if pending else None
    if user is None:
        had_pending = totp.PENDING_KEY in session
        session.pop(totp.PENDING_KEY, None)
        if had_pending or request.method == "POST":
            flash(_("Die Anmeldung ist abgelaufen. Bitte melde dich noch einmal an."), "warning")
        return redirect(url_for("account.login"))
    error = None
    status = 200
    if request.method == "POST":
        keys = auth.login_keys(user.handle)
        if auth.too_many_failures(db, keys):
            return render_template(
                "login_2fa.html",
                error=_("Zu viele fehlgeschlagene Versuche. Bitte in einigen Minuten erneut."),
                minutes=PENDING_MINUTES,
            ), 429
        result = totp.check_second_factor(db, user, request.form.get("code", ""))
        if result in (totp.TOTP_OK, totp.RECOVERY_OK):
            db.commit()
            auth.clear_failures(db, keys)
            next_url = safe_next(pending.get("next"))
            session.clear()
            login_user(user, remember=bool(pending.get("remember")))
            session[totp.SESSION_FLAG] = True
            if result == totp.RECOVERY_OK:
                flash(
                    _(
                        "Du hast dich mit einem Wiederherstellungscode angemeldet; er ist jetzt "
                        "verbraucht. Dir bleiben noch %(n)s Codes. Unter „Konto“ kannst du neue "
                        "erzeugen.",
                        n=totp.recovery_codes_left(db, user),
                    ),
                    "warning",
                )
            return redirect(next_url)
        db.rollback()
        error = code_problem(result)
        status = 400
        if result != totp.MISSING:
            auth.record_failure(db, keys)
            status = 401
    return render_template("login_2fa.html", error=error, minutes=PENDING_MINUTES), status


@bp.post("/-/logout")
def logout():
    """Log out (POST only, with CSRF); every session and remember-me cookie of the account ends,
    so a copied cookie is worthless afterwards."""
    if current_user.is_authenticated:
        db = get_db()
        user = db.get(User, current_user.id)
        auth.end_sessions(user)
        db.commit()
    logout_user()
    session.clear()
    flash(_("Du bist abgemeldet."), "info")
    return redirect(url_for("pages.home"))


@bp.route("/-/account", methods=["GET", "POST"])
@login_required
def account():
    """Own account: profile, password, e-mail, two-factor login, API and feed tokens."""
    db = get_db()
    user = db.get(User, current_user.id)
    problems: list[str] = []
    new_token = new_token_kind = None
    recovery_codes = None
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        if action == "profile":
            name = request.form.get("display_name", "").strip()
            locale = request.form.get("locale", "")
            if not 1 <= len(name) <= 128:
                problems.append(_("Bitte einen Anzeigenamen angeben (höchstens 128 Zeichen)."))
            else:
                user.display_name = name
                user.locale = locale if locale in ("de", "en") else None
                db.commit()
                forget_user_name(user.public_id)
                flash(_("Profil gespeichert."), "success")
                return redirect(url_for("account.account"))
        elif action == "password":
            # Guessing the current password here counts like failed logins.
            keys = auth.login_keys(user.handle)
            if auth.too_many_failures(db, keys):
                abort(429)
            if not auth.check_password(user, request.form.get("current", "")):
                auth.record_failure(db, keys)
                problems.append(_("Das bisherige Passwort ist falsch."))
            else:
                new = request.form.get("new", "")
                problems.extend(auth.password_problems(new))
                if not problems:
                    user.password_hash = auth.hash_password(new)
                    auth.revoke_tokens(db, user, "reset")
                    db.commit()
                    login_user(user)
                    flash(_("Passwort geändert."), "success")
                    return redirect(url_for("account.account"))
        elif action == "email":
            outcome = change_email(db, user)
            if not isinstance(outcome, list):
                return outcome
            problems = outcome
        elif action in ("api-token", "feed-token"):
            kind = "api" if action == "api-token" else "feed"
            name = request.form.get("name", "").strip()[:128] or kind
            new_token = auth.issue_token(db, user, kind, name)
            new_token_kind = kind
            db.commit()
        elif action == "revoke":
            token_id = row_id(request.form.get("token_id"))
            token = db.get(Token, token_id) if token_id is not None else None
            if token is None or token.user_id != user.id:
                abort(404)
            token.revoked_at = utcnow()
            db.commit()
            flash(_("Zugang widerrufen."), "success")
            return redirect(url_for("account.account"))
        elif action in TWO_FACTOR_ACTIONS:
            outcome = two_factor_action(db, user, action)
            if not isinstance(outcome, tuple):
                return outcome
            problems, recovery_codes, status = outcome
        else:
            abort(400)
    if problems and status == 200:
        status = 400
    tokens = db.scalars(
        select(Token)
        .where(
            Token.user_id == user.id,
            Token.kind.in_(("api", "feed")),
            Token.revoked_at.is_(None),
        )
        .order_by(Token.created_at)
    ).all()
    return render_template(
        "account.html",
        user=user,
        problems=problems,
        tokens=tokens,
        new_token=new_token,
        new_token_kind=new_token_kind,
        feed_url=external_url("history.feed", token=new_token) if new_token else None,
        totp_setup=totp_setup(user),
        recovery_codes=recovery_codes,
        recovery_left=totp.recovery_codes_left(db, user) if user.has_totp else 0,
    ), status


TWO_FACTOR_ACTIONS = ("totp-start", "totp-cancel", "totp-confirm", "totp-disable", "totp-recovery")


def totp_setup(user: User) -> dict | None:
    """What the page shows while the second factor is being set up (secret, QR code)."""
    if user.has_totp or not user.totp_secret:
        return None
    uri = totp.provisioning_uri(user.totp_secret, user.handle, current_app.config["WIKI_SITE_NAME"])
    image, size = qr.qr_data_uri(uri)
    return {"secret": totp.grouped(user.totp_secret), "uri": uri, "qr": image, "qr_size": size}


def code_problem(result: str) -> str:
    """The message for a second factor that was not accepted."""
    if result == totp.MISSING:
        return _("Bitte gib den sechsstelligen Code aus deiner Authenticator-App ein.")
    if result == totp.REPLAYED:
        return _("Dieser Code wurde schon benutzt. Bitte warte auf den nächsten Code deiner App.")
    return _("Der Code ist falsch oder abgelaufen.")


def two_factor_action(db, user: User, action: str):
    """Set up, confirm, cancel or switch off the second factor, or renew the recovery codes.

    Returns a response (redirect) when done, else ``(problems, recovery codes, status)``;
    new recovery codes are shown on the page exactly once.
    """
    back = redirect(url_for("account.account", _anchor="zwei-faktor"))
    if action == "totp-start":
        if user.has_totp:
            return [_("Die Zwei-Faktor-Anmeldung ist schon eingerichtet.")], None, 400
        user.totp_secret = totp.new_secret()
        user.totp_enabled_at = None
        user.totp_last_step = None
        db.commit()
        return back
    if action == "totp-cancel":
        if not user.has_totp:
            user.totp_secret = None
            db.commit()
            flash(_("Einrichtung abgebrochen."), "info")
        return back
    if action == "totp-confirm" and (user.has_totp or not user.totp_secret):
        return [_("Bitte starte die Einrichtung zuerst.")], None, 400
    if action in ("totp-disable", "totp-recovery") and not user.has_totp:
        return [_("Die Zwei-Faktor-Anmeldung ist nicht eingerichtet.")], None, 400

    keys = auth.login_keys(user.handle)
    if auth.too_many_failures(db, keys):
        return [_("Zu viele fehlgeschlagene Versuche. Bitte in einigen Minuten erneut.")], None, 429
    if action != "totp-recovery" and not auth.check_password(
        user, request.form.get("password", "")
    ):
        auth.record_failure(db, keys)
        return [_("Das Passwort ist falsch.")], None, 400
    result = totp.check_second_factor(
        db, user, request.form.get("code", ""), allow_recovery=action != "totp-confirm"
    )
    if result not in (totp.TOTP_OK, totp.RECOVERY_OK):
        db.rollback()
        if result != totp.MISSING:
            auth.record_failure(db, keys)
        return [code_problem(result)], None, 400

    if action == "totp-confirm":
        codes = totp.enable(db, user)
        db.commit()
        login_user(user)  # a new session id: other sessions of this account end
        session[totp.SESSION_FLAG] = True
        flash(_("Die Zwei-Faktor-Anmeldung ist eingeschaltet."), "success")
        return [], codes, 200
    if action == "totp-recovery":
        codes = totp.new_recovery_codes(db, user)
        db.commit()
        flash(_("Neue Wiederherstellungscodes erzeugt; die alten gelten nicht mehr."), "success")
        return [], codes, 200
    totp.disable(db, user)
    db.commit()
    login_user(user)
    session[totp.SESSION_FLAG] = False
    flash(_("Die Zwei-Faktor-Anmeldung ist ausgeschaltet."), "info")
    return back


#: What a deleted account is called in the database (the interface translates it).
DELETED_NAME = "ehemaliges Mitglied"


@bp.get("/-/account/export")
@login_required
def export():
    """Everything the wiki keeps about the logged-in user, as a JSON download."""
    db = get_db()
    user = db.get(User, current_user.id)
    data = own_data(db, user)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=json_value) + "\n"
    response = make_response(body)
    response.mimetype = "application/json"
    filename = f"{current_app.config['WIKI_SITE_NAME']}-{user.handle}-{utcnow():%Y-%m-%d}.json"
    filename = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in filename)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def json_value(value):
    """Dates in the export: ISO 8601 (naive values are UTC)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def own_data(db, user: User) -> dict:
    """The data export of ``user``: account, tokens, own changes, mails and the plugins' parts.

    Never contains the password hash, token hashes, the TOTP secret or mail bodies (which may
    hold reset links).
    """
    tokens = db.scalars(select(Token).where(Token.user_id == user.id).order_by(Token.id))
    principal = current_principal()
    edits = recent_changes(
        principal, changes_query(principal).where(Change.author == user.public_id)
    )
    mails = db.scalars(
        select(MailMessage)
        .where(func.lower(MailMessage.recipient) == user.email.strip().lower())
        .order_by(MailMessage.id)
    )
    data = {
        "export": {"site": current_app.config["WIKI_SITE_NAME"], "created_at": utcnow()},
        "account": {
            "public_id": user.public_id,
            "git_author": f"u-{user.public_id}",
            "handle": user.handle,
            "display_name": user.display_name,
            "email": user.email,
            "email_verified_at": user.email_verified_at,
            "pending_email": user.pending_email,
            "is_admin": bool(user.is_admin),
            "locale": user.locale,
            "created_at": user.created_at,
            "two_factor": user.has_totp,
            "two_factor_since": user.totp_enabled_at,
        },
        "tokens": [
            {
                "name": t.name,
                "kind": t.kind,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "used_at": t.used_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in tokens
        ],
        "changes": [
            {
                "at": change.at,
                "commit": change.commit,
                "path": change.path,
                "action": change.action,
                "old_path": change.old_path,
                "title": change.title,
                "message": change.message,
            }
            for change, _title in edits
        ],
        "mails": [
            {
                "subject": mail.subject,
                "status": mail.status,
                "created_at": mail.created_at,
                "sent_at": mail.sent_at,
            }
            for mail in mails
        ],
    }
    for part in wiki().pm.hook.wiki_user_data(user_id=user.id, session=db):
        for section, value in (part or {}).items():
            key, n = section, 1
            while key in data:  # never let a plugin overwrite another part
                n += 1
                key = f"{section}-{n}"
            data[key] = value
    return data


@bp.route("/-/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    """Delete the own account: plugin data and tokens go, the row stays anonymised."""
    db = get_db()
    user = db.get(User, current_user.id)
    last_admin = is_last_admin(db, user)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        keys = auth.login_keys(user.handle)
        if auth.too_many_failures(db, keys):
            problems.append(
                _("Zu viele fehlgeschlagene Versuche. Bitte in einigen Minuten erneut.")
            )
            status = 429
        elif last_admin:
            problems.append(
                _(
                    "Du bist die einzige Person mit Verwaltungsrechten. Gib zuerst einer anderen "
                    "Person Verwaltungsrechte, dann kannst du dein Konto löschen."
                )
            )
            status = 409
        else:
            if not auth.check_password(user, request.form.get("password", "")):
                auth.record_failure(db, keys)
                problems.append(_("Das Passwort ist falsch."))
            if request.form.get("confirm") != "1":
                problems.append(
                    _("Bitte bestätige, dass du dein Konto endgültig löschen möchtest.")
                )
            status = 400 if problems else 200
        if not problems:
            erase_account(db, user)
            logout_user()
            session.clear()
            flash(_("Dein Konto ist gelöscht. Danke für deine Mitarbeit!"), "info")
            return redirect(url_for("pages.home"))
    return render_template(
        "delete_account.html", user=user, problems=problems, last_admin=last_admin
    ), status


def is_last_admin(db, user: User) -> bool:
    """True if ``user`` is the only active administrator."""
    if not user.is_admin:
        return False
    others = db.scalar(
        select(func.count()).where(
            User.is_admin.is_(True), User.deleted_at.is_(None), User.id != user.id
        )
    )
    return others == 0


def erase_account(db, user: User) -> None:
    """Remove what is kept about ``user`` and anonymise the account row, in one transaction.

    The row stays so that foreign keys and the public id (the pseudonym in git, never reused)
    stay valid; the handle and the address become free for new accounts.
    """
    email = user.email.strip().lower()
    try:
        wiki().pm.hook.wiki_user_deleted(user_id=user.id, session=db)
        db.execute(delete(Token).where(Token.user_id == user.id))
        db.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(auth.account_keys(user))))
        for address in {email, (user.pending_email or "").strip().lower()} - {""}:
            if auth.email_taken(db, address, user.id):
                continue
            # Queued and sent mails name the person; a mail being sent right now is left alone.
            db.execute(
                delete(MailMessage).where(
                    func.lower(MailMessage.recipient) == address, MailMessage.status != "sending"
                )
            )
        user.deleted_at = utcnow()
        user.display_name = DELETED_NAME
        user.handle = f"{auth.DELETED_HANDLE_PREFIX}{user.public_id}"
        user.email = f"deleted-{user.public_id}@invalid"
        user.email_verified_at = None
        user.pending_email = None
        user.password_hash = ""
        user.is_admin = False
        user.locale = None
        user.totp_secret = None
        user.totp_enabled_at = None
        user.totp_last_step = None
        db.commit()
    except BaseException:
        db.rollback()
        raise
    forget_user_name(user.public_id)


def change_email(db, user: User):
    """The e-mail form: with the current password, a free address becomes *pending* and gets a
    verification link; the address in force changes only when the link is used.

    Returns a redirect when done, else the problems. Wrong passwords count like failed logins.
    Asking for a change ends the account's other sessions and outstanding reset links.
    """
    keys = auth.login_keys(user.handle)
    if auth.too_many_failures(db, keys):
        abort(429)
    email = request.form.get("email", "").strip()
    if not auth.check_password(user, request.form.get("password", "")):
        auth.record_failure(db, keys)
        return [_("Das Passwort ist falsch.")]
    if not valid_email(email):
        return [_("Bitte eine gültige E-Mail-Adresse angeben.")]
    if auth.email_taken(db, email, user.id):
        return [_("Diese E-Mail-Adresse ist nicht verfügbar. Bitte gib eine andere an.")]
    same = email.lower() == user.email.strip().lower()
    if same and user.email_verified_at is not None:
        user.pending_email = None
        db.commit()
        flash(_("Das ist schon deine bestätigte Adresse."), "info")
        return redirect(url_for("account.account", _anchor="email"))
    user.pending_email = None if same else email
    auth.revoke_tokens(db, user, "verify")  # only the newest link confirms, and only its address
    auth.revoke_tokens(db, user, "reset")
    auth.end_sessions(user)
    start_verification(user)
    db.commit()
    login_user(user)  # this session goes on; the others end
    wiki().mailer.kick()
    flash(
        _(
            "Wir haben dir einen Bestätigungslink an %(email)s geschickt. Bis du ihn benutzt, "
            "gilt deine bisherige Adresse.",
            email=email,
        ),
        "info",
    )
    return redirect(url_for("account.account", _anchor="email"))


def valid_email(email: str) -> bool:
    """A plausible single address without header-breaking characters."""
    return (
        0 < len(email) <= 254
        and email.count("@") == 1
        and "." in email.split("@")[1]
        and not any(c in email for c in " \r\n\t<>,;\"'")
    )


def start_verification(user: User) -> None:
    """Queue a verification link for ``user``'s pending address (else the current one); the
    mail goes to the address it confirms."""
    raw = auth.issue_token(get_db(), user, "verify", hours=float(wiki().config["WIKI_TOKEN_HOURS"]))
    wiki().mailer.enqueue(
        get_db(),
        user.pending_email or user.email,
        _("E-Mail-Adresse bestätigen"),
        _(
            "Hallo %(name)s,\n\nbitte bestätige deine E-Mail-Adresse für den Zugang "
            "„%(handle)s“:\n%(url)s\n\nWenn du das nicht angefordert hast, ignoriere diese "
            "Nachricht.\n",
            name=user.display_name,
            handle=user.handle,
            url=external_url("account.verify", token=raw),
        ),
    )


@bp.get("/-/verify/<token>")
def verify(token):
    """Confirm an e-mail address with the link from the mail."""
    db = get_db()
    found = auth.consume_token(db, token, "verify")
    if found is None:
        abort(404)
    user = db.get(User, found.user_id)
    if user.pending_email:
        if auth.email_taken(db, user.pending_email, user.id):
            # Someone else's account got the address meanwhile: it stays with them.
            user.pending_email = None
            db.commit()
            flash(_("Diese E-Mail-Adresse ist nicht mehr verfügbar."), "error")
            return redirect(url_for("pages.home"))
        user.email, user.pending_email = user.pending_email, None
        # Reset links went to the old address; the new one is in force from now on.
        auth.revoke_tokens(db, user, "reset")
    user.email_verified_at = utcnow()
    db.commit()
    flash(_("E-Mail-Adresse bestätigt."), "success")
    return redirect(url_for("pages.home"))


@bp.route("/-/password-reset", methods=["GET", "POST"])
def reset_request():
    """Ask for a reset link; the answer never reveals whether an address is known."""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        db = get_db()
        keys = [f"reset:{email.lower()}", f"addr:{request.remote_addr or '-'}"]
        if auth.too_many_failures(db, keys):
            abort(429)
        auth.record_failure(db, keys)
        user = (
            db.scalar(
                select(User).where(
                    func.lower(User.email) == email.lower(), User.deleted_at.is_(None)
                )
            )
            if valid_email(email)
            else None
        )
        if user is not None:
            raw = auth.issue_token(
                db, user, "reset", hours=float(wiki().config["WIKI_TOKEN_HOURS"])
            )
            send_mail(
                user,
                _("Passwort zurücksetzen"),
                _(
                    "Hallo %(name)s,\n\nüber diesen Link kannst du ein neues Passwort setzen "
                    "(einmal gültig):\n%(url)s\n\nWenn du das nicht angefordert hast, "
                    "ignoriere diese Nachricht.\n",
                    name=user.display_name,
                    url=external_url("account.reset", token=raw),
                ),
            )
            db.commit()
            wiki().mailer.kick()
        flash(_("Falls die Adresse bei uns bekannt ist, ist ein Link unterwegs."), "info")
        return redirect(url_for("account.login"))
    return render_template("reset_request.html")


@bp.route("/-/password-reset/<token>", methods=["GET", "POST"])
def reset(token):
    """Set a new password with a single-use reset link."""
    db = get_db()
    found = auth.find_token(db, token, "reset")
    if found is None:
        return render_template(
            "error.html",
            code=404,
            title=_("Link ungültig"),
            message=_("Dieser Link ist abgelaufen oder wurde schon benutzt."),
        ), 404
    problems = []
    if request.method == "POST":
        new = request.form.get("new", "")
        problems = auth.password_problems(new)
        if not problems:
            used = auth.consume_token(db, token, "reset")
            if used is None:
                abort(404)
            user = db.get(User, used.user_id)
            user.password_hash = auth.hash_password(new)
            auth.revoke_tokens(db, user, "reset")  # other links from other requests
            auth.end_sessions(user)
            db.commit()
            flash(_("Neues Passwort gespeichert. Du kannst dich jetzt anmelden."), "success")
            return redirect(url_for("account.login"))
    return render_template("reset.html", token=token, problems=problems), (400 if problems else 200)


@bp.get("/-/me")
@login_required
def me():
    """Own dashboard: own recent edits and what plugins add."""
    principal = current_principal()
    query = changes_query(principal).where(Change.author == current_user.public_id)
    edits = [change for change, _title in recent_changes(principal, query.limit(20))]
    sections = [
        s for s in wiki().pm.hook.wiki_dashboard_sections(principal=principal) if s is not None
    ]
    return render_template("me.html", edits=edits, sections=sections)
