"""The language switch for visitors: a cookie, no account and no JavaScript needed."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request

from wiki.web import LOCALE_COOKIE, LOCALES, safe_next

bp = Blueprint("language", __name__)

#: How long the choice is remembered (one year).
COOKIE_SECONDS = 365 * 24 * 3600


@bp.get("/-/language")
def switch():
    """Remember ``?lang=`` in a cookie and go back to ``?next=`` (a relative path only).

    A GET that only sets this cookie changes nothing an attacker could use (at worst the
    language of the interface), so it needs no CSRF token and works as a plain link. The
    account's own setting still wins for logged-in users.
    """
    lang = request.args.get("lang", "")
    if lang not in LOCALES:
        abort(400)
    response = redirect(safe_next(request.args.get("next")))
    response.set_cookie(
        LOCALE_COOKIE,
        lang,
        max_age=COOKIE_SECONDS,
        path=(request.script_root or "") + "/",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response
