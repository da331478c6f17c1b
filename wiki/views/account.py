"""Login, logout, own account (password, e-mail, tokens), password reset, own dashboard."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_, select

from wiki import auth
from wiki.auth import current_principal
from wiki.db import Change, Token, User, get_db, utcnow
from wiki.views.common import wiki
from wiki.views.history import changes_query
from wiki.web import safe_next

bp = Blueprint("account", __name__)


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
        user = db.scalar(
            select(User).where(
                or_(
                    User.handle == auth.normalise_handle(handle),
                    func.lower(User.email) == handle.lower(),
                ),
                User.deleted_at.is_(None),
            )
        )
        if user is not None and auth.check_password(user, password):
            auth.clear_failures(db, keys)
            session.clear()
            login_user(user, remember="remember" in request.form)
            return redirect(next_url)
        auth.record_failure(db, keys)
        error = _("Benutzername oder Passwort ist falsch.")
        status = 401
    return render_template(
        "login.html", error=error, next=next_url, handle=request.form.get("handle", "")
    ), status


@bp.post("/-/logout")
def logout():
    """Log out (POST only, with CSRF)."""
    logout_user()
    session.clear()
    flash(_("Du bist abgemeldet."), "info")
    return redirect(url_for("pages.home"))


@bp.route("/-/account", methods=["GET", "POST"])
@login_required
def account():
    """Own account: profile, password, e-mail, API and feed tokens."""
    db = get_db()
    user = db.get(User, current_user.id)
    problems: list[str] = []
    new_token = new_token_kind = None
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
                flash(_("Profil gespeichert."), "success")
                return redirect(url_for("account.account"))
        elif action == "password":
            if not auth.check_password(user, request.form.get("current", "")):
                problems.append(_("Das bisherige Passwort ist falsch."))
            else:
                new = request.form.get("new", "")
                problems.extend(auth.password_problems(new))
                if not problems:
                    user.password_hash = auth.hash_password(new)
                    db.commit()
                    login_user(user)
                    flash(_("Passwort geändert."), "success")
                    return redirect(url_for("account.account"))
        elif action == "email":
            email = request.form.get("email", "").strip()
            if not valid_email(email):
                problems.append(_("Bitte eine gültige E-Mail-Adresse angeben."))
            else:
                user.email = email
                user.email_verified_at = None
                start_verification(user)
                db.commit()
                wiki().mailer.kick()
                flash(_("Wir haben dir einen Bestätigungslink geschickt."), "info")
                return redirect(url_for("account.account"))
        elif action in ("api-token", "feed-token"):
            kind = "api" if action == "api-token" else "feed"
            name = request.form.get("name", "").strip()[:128] or kind
            new_token = auth.issue_token(db, user, kind, name)
            new_token_kind = kind
            db.commit()
        elif action == "revoke":
            token = db.get(Token, int(request.form.get("token_id", "0") or 0))
            if token is None or token.user_id != user.id:
                abort(404)
            token.revoked_at = utcnow()
            db.commit()
            flash(_("Zugang widerrufen."), "success")
            return redirect(url_for("account.account"))
        else:
            abort(400)
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
    ), (400 if problems else 200)


def valid_email(email: str) -> bool:
    """A plausible single address without header-breaking characters."""
    return (
        0 < len(email) <= 254
        and email.count("@") == 1
        and "." in email.split("@")[1]
        and not any(c in email for c in " \r\n\t<>,;\"'")
    )


def start_verification(user: User) -> None:
    """Queue an e-mail verification link for ``user``."""
    raw = auth.issue_token(get_db(), user, "verify", hours=float(wiki().config["WIKI_TOKEN_HOURS"]))
    send_mail(
        user,
        _("E-Mail-Adresse bestätigen"),
        _(
            "Hallo %(name)s,\n\nbitte bestätige deine E-Mail-Adresse:\n%(url)s\n",
            name=user.display_name,
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
            db.commit()
            flash(_("Neues Passwort gespeichert. Du kannst dich jetzt anmelden."), "success")
            return redirect(url_for("account.login"))
    return render_template("reset.html", token=token, problems=problems), (400 if problems else 200)


@bp.get("/-/me")
@login_required
def me():
    """Own dashboard: own recent edits and what plugins add."""
    query = changes_query(current_principal()).where(Change.author == current_user.public_id)
    edits = [change for change, _title in get_db().execute(query.limit(20))]
    principal = current_principal()
    sections = [
        s for s in wiki().pm.hook.wiki_dashboard_sections(principal=principal) if s is not None
    ]
    return render_template("me.html", edits=edits, sections=sections)


def current_app_name() -> str:
    """Site name for mails."""
    return current_app.config["WIKI_SITE_NAME"]
