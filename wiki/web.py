"""Request plumbing: sync check, security headers, errors, locale, template helpers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import (
    current_app,
    g,
    has_app_context,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import format_date, format_datetime, get_locale, get_translations, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import pass_eval_context
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter

from wiki.auth import current_principal
from wiki.db import User, get_db
from wiki.messages import Message, message_of
from wiki.storage import BadRevision

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
ERROR_TITLES = {
    400: lazy_gettext("Ungültige Anfrage"),
    401: lazy_gettext("Anmeldung erforderlich"),
    403: lazy_gettext("Keine Berechtigung"),
    404: lazy_gettext("Nicht gefunden"),
    405: lazy_gettext("Methode nicht erlaubt"),
    409: lazy_gettext("Konflikt"),
    413: lazy_gettext("Zu groß"),
    429: lazy_gettext("Zu viele Versuche"),
    500: lazy_gettext("Interner Fehler"),
}
FORMER_MEMBER = lazy_gettext("ehemaliges Mitglied")
LOCALES = ("de", "en")
#: Set by the language switch for visitors without an account (see views/account.py).
LOCALE_COOKIE = "wiki_locale"
USER_NAME_SECONDS = 60


class PageConverter(PathConverter):
    """A page path in a URL: never starts with ``-``, so ``/-/…`` system routes cannot fall
    through to the page view (a GET to a POST-only route answers 405, not 404)."""

    regex = r"[^-/][^?#]*?"


def init_app(app) -> None:
    """Register the request hooks, error handlers, filters and context of ``app``."""
    app.before_request(before_request)
    app.after_request(security_headers)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    app.jinja_env.filters["datetime"] = format_dt
    app.jinja_env.filters["format_date"] = format_day
    app.jinja_env.filters["translate"] = translate
    app.jinja_env.globals["user_name"] = user_name
    app.jinja_env.globals["revision_of"] = revision_of
    app.context_processor(template_context)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: template_translations().ugettext(s),
        ngettext=lambda s, p, n: template_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: template_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: template_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals["_"] = newstyle_gettext(lambda s: template_translations().ugettext(s))
    if str(app.config.get("WIKI_BASE_URL", "")).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if int(app.config.get("WIKI_PROXY_COUNT") or 0):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = int(app.config["WIKI_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def before_request() -> None:
    """Catch up with pushes into the repository before answering."""
    if request.endpoint == "static":
        return
    current_app.extensions["wiki"].syncer.ensure_current()


def security_headers(response):
    """Headers every response carries, unless the view set a stricter one itself (feeds with a
    token in the URL send ``Referrer-Policy: no-referrer``)."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        current_app.config["SESSION_COOKIE_SECURE"] = True
    if current_user and getattr(current_user, "is_authenticated", False):
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def wants_json() -> bool:
    """API requests get JSON errors."""
    return request.path.startswith("/-/api/")


def error_response(code: int, message: str):
    """An error page (or JSON for the API) with ``code``."""
    title = str(ERROR_TITLES.get(code) or _("Fehler"))
    if wants_json():
        return jsonify({"error": title, "message": message, "status": code}), code
    return render_template("error.html", code=code, title=title, message=message), code


def csrf_error(exc: CSRFError):
    """Missing or forged CSRF tokens: 400 with a clear message."""
    return error_response(
        400,
        _(
            "Das Formular ist abgelaufen oder ungültig (Sicherheitstoken fehlt). "
            "Bitte die Seite neu laden und erneut absenden."
        ),
    )


def http_error(exc: HTTPException):
    """Every HTTP error through one template."""
    if exc.code is None or exc.code < 400:
        return exc
    messages = {
        400: _("Die Anfrage ist unvollständig oder fehlerhaft."),
        401: _("Bitte melde dich an."),
        403: _("Dafür fehlt dir die Berechtigung."),
        409: _("Das geht gerade nicht, weil sich inzwischen etwas geändert hat."),
        404: _("Diese Seite gibt es nicht – oder sie ist für dich nicht sichtbar."),
        405: _("Diese Aktion ist so nicht möglich."),
        413: _(
            "Die Datei ist zu groß (höchstens %(mb)s MB).",
            mb=current_app.config["WIKI_MAX_UPLOAD_MB"],
        ),
        429: _("Zu viele Versuche. Bitte später erneut versuchen."),
    }
    # A description passed to abort() wins; werkzeug's English defaults do not.
    custom = isinstance(exc.description, str) and exc.description != type(exc).description
    message = exc.description if custom else messages.get(exc.code, "")
    response = make_response(error_response(exc.code, message))
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def unexpected_error(exc: Exception):
    """Log and show a generic 500 (never a traceback)."""
    if isinstance(exc, HTTPException):
        return http_error(exc)
    current_app.logger.exception("Unhandled error on %s", request.path)
    if current_app.config.get("TESTING") and current_app.config["WIKI_RAISE_ERRORS"]:
        raise exc
    return error_response(500, _("Ein unerwarteter Fehler ist aufgetreten."))


def select_locale() -> str:
    """The account's language, else the visitor's choice (cookie), else the browser's, else
    the default."""
    user = current_user
    if user and getattr(user, "is_authenticated", False) and user.locale in LOCALES:
        return user.locale
    if request.cookies.get(LOCALE_COOKIE) in LOCALES:
        return request.cookies[LOCALE_COOKIE]
    default = current_app.config["WIKI_DEFAULT_LOCALE"]
    return request.accept_languages.best_match(list(LOCALES), default=default)


def template_translations():
    """The translations of the current locale, looked up once per request and locale.

    Flask-Babel's own template callables resolve the domain, the context and the locale on
    each of the thirty-odd strings of a page; this keeps the catalog in ``g`` next to the
    locale it was made for (``force_locale`` swaps the locale, and with it the catalog)."""
    if not has_app_context():
        return get_translations()
    locale = get_locale()
    found = g.get("_wiki_translations")
    if found is None or found[0] is not locale:
        found = g._wiki_translations = (locale, get_translations())
    return found[1]


def translate(message) -> str:
    """A core message (:class:`wiki.messages.Message`) in the reader's language; other text
    (already translated, or stored as German) unchanged."""
    if isinstance(message, Message):
        return _(message.msgid, **message.params)
    return "" if message is None else str(message)


def error_messages(exc: BaseException) -> list[str]:
    """The translated problems of a core error (``ValidationFailed.problems`` or its message)."""
    problems = getattr(exc, "problems", None) or [message_of(exc)]
    return [translate(problem) for problem in problems]


def format_dt(value: datetime | None, fmt: str = "medium") -> str:
    """A naive-UTC datetime in the configured time zone and locale."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_datetime(value, fmt)


def format_day(value, fmt: str = "medium") -> str:
    """A calendar date (or the date of a naive datetime) in the locale, without time zone
    conversion: a resolution decided on 19 March stays decided on 19 March."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, fmt)


def user_name(public_id: str | None) -> str:
    """Display name of a commit author's public id ("ehemaliges Mitglied" if gone)."""
    if not public_id:
        return str(FORMER_MEMBER)
    if public_id == "system":
        return _("System")
    # Names change rarely; a short per-process cache spares a query on every page view.
    names = current_app.extensions["wiki"].extra.setdefault("user_names", {})
    now = time.monotonic()
    cached = names.get(public_id)
    if cached is None or cached[1] < now:
        user = get_db().scalar(select(User).where(User.public_id == public_id))
        name = user.display_name if user is not None and user.deleted_at is None else None
        cached = names[public_id] = (name, now + USER_NAME_SECONDS)
    return cached[0] if cached[0] is not None else str(FORMER_MEMBER)


def revision_of(sha: str | None):
    """The commit ``sha`` (author, date) for naming a version in a template, else None.

    Callers pass revisions the reader may already see; only the date and the author are used.
    """
    if not sha:
        return None
    try:
        return current_app.extensions["wiki"].store.revision(sha)
    except (BadRevision, ValueError):
        return None


def forget_user_name(public_id: str) -> None:
    """Drop a cached display name (after a change of name or a deleted account), and the page
    views kept whole or in parts, whose footers may show it."""
    extra = current_app.extensions["wiki"].extra
    extra.setdefault("user_names", {}).pop(public_id, None)
    for name in ("anonymous_pages", "page_frames"):
        if name in extra:
            extra[name].clear()


def safe_next(target: str | None, default: str = "/") -> str:
    """Only relative same-site paths are followed after login."""
    if not target:
        return default
    target = target.replace("\\", "/").strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    return target


def template_context() -> dict:
    """Variables every template can use."""
    state = current_app.extensions["wiki"]
    principal = current_principal()
    nav = [item for group in state.pm.hook.wiki_nav_items(principal=principal) for item in group]
    return {
        "nav_items": nav,
        # The document's language is that of the content (German pages), not the interface.
        "html_lang": current_app.config.get("WIKI_CONTENT_LANGUAGE") or "de",
        "ui_lang": str(get_locale() or "de"),
        "principal": principal,
        "Markup": Markup,
        "_": template_gettext(),
    }


def template_gettext():
    """``_()`` for one rendering, bound to the catalog of the current locale (templates
    rendered by ``render_template``; macros imported without context use the global one)."""
    return newstyle_gettext(template_translations().ugettext)


def newstyle_gettext(lookup):
    """A template ``_()`` translating with ``lookup``: like Jinja's newstyle ``gettext``
    (markup-safe under autoescape, the message always a %-format of its keyword arguments),
    without the three nested context calls of Jinja's own ``_`` on each of a page's
    thirty-odd strings."""

    @pass_eval_context
    def gettext(eval_ctx, message, **variables):
        text = lookup(message)
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext
