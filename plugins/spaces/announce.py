"""Announcements: a board's message to the members (or the board) of a space.

Sending creates one :class:`Delivery` per recipient (the inbox entry; unique per announcement and
user) and, unless the recipient opted out, one message in the core mail queue in the same
transaction. The queue sends each message at most once and retries temporary failures; the board
sees the status per announcement. Every mail carries a ``List-Unsubscribe`` link that works
without logging in (one-click POST included).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import case, func, or_, select

from plugins.spaces import rules
from plugins.spaces.directory import in_subtree
from plugins.spaces.models import Announcement, Delivery, Membership, Profile
from wiki import api as A
from wiki.api import (
    MailMessage,
    User,
    can,
    content,
    current_principal,
    external_url,
    get_db,
    normalize_address,
    page_number,
    render_mail_html,
    render_markdown,
    token_hash,
    utcnow,
)
from wiki.api import state as wiki

AUDIENCES = ("members", "board")
SUBJECT_MAX = 200
BODY_MAX = 50_000
PER_PAGE = 30
#: The same message sent twice by the same person within this time is taken as a double click.
REPEAT_WINDOW = timedelta(minutes=10)
MAIL_STATUSES = ("queued", "sending", "sent", "failed")


# -- recipients and tokens ----------------------------------------------------------------------


def recipients(db, space: str, audience: str) -> list[User]:
    """Active accounts an announcement reaches: members of the space and everything below it,
    or the current board of exactly that space."""
    query = select(User).join(Membership, Membership.user_id == User.id)
    if audience == "board":
        now = utcnow()
        query = query.where(
            Membership.space == space,
            Membership.role == "board",
            or_(Membership.term_ends.is_(None), Membership.term_ends >= now),
        )
    else:
        query = query.where(in_subtree(Membership.space, space))
    query = query.where(User.deleted_at.is_(None)).distinct().order_by(User.id)
    return list(db.scalars(query))


def derived_token(purpose: str, value: str) -> str:
    """A secret that only the server can compute again (keyed with ``SECRET_KEY``)."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    digest = hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def unsubscribe_token(db, user: User, profile: Profile | None) -> tuple[str, Profile]:
    """The user's unsubscribe token; its hash is stored in the profile (created if missing).

    The token is derived from the user's random public id with the secret key, so every mail
    carries the same link and links in older mails keep working; the database holds only the
    hash.
    """
    raw = derived_token("spaces-unsubscribe", user.public_id)
    if profile is None:
        profile = Profile(user_id=user.id, phone="", show_contact=False, mail_opt_out=False)
        db.add(profile)
    hashed = token_hash(raw)
    if profile.unsubscribe_token != hashed:
        profile.unsubscribe_token = hashed
    return raw, profile


def profile_for_token(db, raw: str) -> Profile | None:
    """The profile whose unsubscribe token is ``raw`` (of an active account), or None."""
    if not raw or len(raw) > 200:
        return None
    profile = db.scalar(select(Profile).where(Profile.unsubscribe_token == token_hash(raw)))
    if profile is None:
        return None
    user = db.get(User, profile.user_id)
    if user is None or not user.is_active:
        return None
    return profile


# -- rendering and sending ----------------------------------------------------------------------


def check_form(form) -> tuple[str, str, str, list[str]]:
    """Audience, subject and body from the form, and the problems with them."""
    audience = form.get("audience", "members")
    subject = " ".join(form.get("subject", "").split())
    body = form.get("body", "").replace("\r\n", "\n").strip("\n")
    problems = []
    if audience not in AUDIENCES:
        problems.append(_("Bitte auswählen, an wen die Mitteilung geht."))
    if not subject or len(subject) > SUBJECT_MAX or any(ord(c) < 32 for c in subject):
        problems.append(_("Bitte einen Betreff angeben (höchstens %(n)s Zeichen).", n=SUBJECT_MAX))
    if not body.strip() or len(body) > BODY_MAX:
        problems.append(_("Bitte einen Text angeben (höchstens %(n)s Zeichen).", n=BODY_MAX))
    if "\x00" in body:
        problems.append(_("Der Text enthält unzulässige Zeichen."))
    return audience, subject, body, problems


def recent_duplicate(db, space, audience, subject, body, author_id) -> Announcement | None:
    """The same announcement by the same author sent moments ago (a second click on "send")."""
    return db.scalar(
        select(Announcement)
        .where(
            Announcement.space == space,
            Announcement.audience == audience,
            Announcement.subject == subject,
            Announcement.body == body,
            Announcement.author_id == author_id,
            Announcement.created_at >= utcnow() - REPEAT_WINDOW,
        )
        .limit(1)
    )


def audience_line(info, announcement: Announcement) -> str:
    """Who the announcement went to, for the mail footer."""
    if announcement.audience == "board":
        return _("Mitteilung an den Vorstand von %(space)s", space=info.name)
    return _("Mitteilung an die Mitglieder von %(space)s", space=info.name)


def mail_text(info, announcement: Announcement, author: str, read_url: str, unsub: str) -> str:
    """The plain-text mail: the message as written (markdown reads well as text), then a footer."""
    to_whom = audience_line(info, announcement)
    footer = _(
        "%(to_whom)s, geschickt von %(author)s über %(site)s.\n"
        "Im Wiki lesen: %(url)s\n"
        "Keine Mitteilungen mehr per E-Mail bekommen: %(unsubscribe)s",
        to_whom=to_whom,
        author=author,
        site=current_app.config["WIKI_SITE_NAME"],
        url=read_url,
        unsubscribe=unsub,
    )
    return f"{announcement.subject}\n\n{announcement.body}\n\n-- \n{footer}\n"


def mail_html(info, announcement: Announcement, body: Markup, author: str, urls: dict) -> str:
    """The HTML alternative: the message rendered like in the wiki, then the same footer."""
    return render_template(
        "spaces/announcement_mail.html",
        announcement=announcement,
        body=body,
        to_whom=audience_line(info, announcement),
        author=author,
        site=current_app.config["WIKI_SITE_NAME"],
        read_url=urls["read"],
        unsubscribe_url=urls["unsubscribe"],
    )


def send(db, plugin, space: str, audience: str, subject: str, body: str, author: User):
    """Create the announcement, its deliveries and mails (the caller commits)."""
    announcement = Announcement(
        space=space, audience=audience, subject=subject, body=body, author_id=author.id
    )
    db.add(announcement)
    db.flush()
    info = plugin.rows(db)[space]
    users = recipients(db, space, audience)
    profiles = {
        p.user_id: p
        for p in db.scalars(select(Profile).where(Profile.user_id.in_([u.id for u in users])))
    }
    mailer = wiki().mailer
    read_url = external_url("spaces.announcement", space=space, announcement_id=announcement.id)
    mail_subject = f"[{info.code}] {subject}" if info.code else subject
    default_locale = current_app.config.get("WIKI_DEFAULT_LOCALE", "de")
    body_html = Markup(render_mail_html(wiki().renderer, body, space, external_url("pages.home")))
    queued = []
    for user in users:
        delivery = Delivery(announcement_id=announcement.id, user_id=user.id)
        db.add(delivery)
        profile = profiles.get(user.id)
        if profile is not None and profile.mail_opt_out:
            continue
        try:
            address = normalize_address(user.email or "")
        except ValueError:
            continue
        raw, profiles[user.id] = unsubscribe_token(db, user, profile)
        unsub = external_url("spaces_public.unsubscribe", token=raw)
        with force_locale(user.locale or default_locale):
            text = mail_text(info, announcement, author.display_name, read_url, unsub)
            html = mail_html(
                info,
                announcement,
                body_html,
                author.display_name,
                {"read": read_url, "unsubscribe": unsub},
            )
        message = mailer.enqueue(
            db,
            address,
            mail_subject,
            text,
            headers={
                "List-Unsubscribe": f"<{unsub}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            html=html,
        )
        queued.append((delivery, message))
    db.flush()
    for delivery, message in queued:
        delivery.mail_id = message.id
    db.flush()
    return announcement, len(users), len(queued)


def delivery_stats(db, ids: list[int]) -> dict[int, dict[str, int]]:
    """Per announcement: recipients, read (not counting the sender, who opens it anyway), and
    mails per queue status (``none``: no mail)."""
    stats: dict[int, dict[str, int]] = {
        i: {"recipients": 0, "read": 0, "none": 0, **dict.fromkeys(MAIL_STATUSES, 0)} for i in ids
    }
    if not ids:
        return stats
    not_sender = or_(Announcement.author_id.is_(None), Delivery.user_id != Announcement.author_id)
    rows = db.execute(
        select(
            Delivery.announcement_id,
            MailMessage.status,
            func.count(Delivery.id),
            func.count(case((not_sender, Delivery.read_at))),
        )
        .join(Announcement, Announcement.id == Delivery.announcement_id)
        .outerjoin(MailMessage, MailMessage.id == Delivery.mail_id)
        .where(Delivery.announcement_id.in_(ids))
        .group_by(Delivery.announcement_id, MailMessage.status)
    )
    for announcement_id, status, count, read in rows:
        entry = stats[announcement_id]
        entry["recipients"] += count
        entry["read"] += read
        entry[status if status in MAIL_STATUSES else "none"] += count
    return stats


def space_access(plugin, space: str) -> bool:
    """Whether the current user manages ``space``; 404 unless they manage it or may read its
    index page (the board of an enclosing space manages it even where it may not read it)."""
    if space not in plugin.spaces():
        abort(404)
    ref = content().ref(get_db(), space)
    if ref is None:
        abort(404)
    if current_principal().logged_in and can(A.MANAGE, ref):
        return True
    if not can(A.READ, ref):
        abort(404)
    return False


def may_view(principal, manage: bool, announcement: Announcement, delivery) -> bool:
    """Recipients, the board, and members of the space for announcements to the members."""
    if manage or delivery is not None:
        return True
    if announcement.audience == "board":
        return rules.is_board(principal, announcement.space)
    return rules.is_member(principal, announcement.space)


# -- routes -------------------------------------------------------------------------------------


def register(bp, plugin) -> None:
    """Routes under ``/-/spaces/<space>/announcements``."""

    @bp.route("/<path:space>/announcements", methods=["GET", "POST"])
    @login_required
    def announcements(space):
        """The space's announcements; the board writes new ones here."""
        manage = space_access(plugin, space)
        principal = current_principal()
        member = rules.is_member(principal, space)
        db = get_db()
        if not (manage or member):
            abort(404)
        problems: list[str] = []
        preview = None
        form = {"audience": "members", "subject": "", "body": ""}
        if request.method == "POST":
            if not manage:
                abort(403)
            audience, subject, body, problems = check_form(request.form)
            form = {"audience": audience, "subject": subject, "body": body}
            if not problems and request.form.get("action") == "preview":
                preview = render_markdown(body, space)
            elif not problems:
                author = db.get(User, current_user.id)
                earlier = recent_duplicate(db, space, audience, subject, body, author.id)
                if earlier is not None:
                    flash(_("Diese Mitteilung wurde gerade schon verschickt."), "info")
                    return redirect(
                        url_for("spaces.announcement", space=space, announcement_id=earlier.id)
                    )
                announcement, count, mails = send(
                    db, plugin, space, audience, subject, body, author
                )
                db.commit()
                wiki().mailer.kick()
                flash(
                    _(
                        "Mitteilung an %(count)s Personen verschickt (%(mails)s per E-Mail).",
                        count=count,
                        mails=mails,
                    ),
                    "success",
                )
                return redirect(
                    url_for("spaces.announcement", space=space, announcement_id=announcement.id)
                )
        page = page_number(request.args.get("page"))
        query = select(Announcement).where(Announcement.space == space)
        if not manage:
            mine = select(Delivery.announcement_id).where(Delivery.user_id == principal.user_id)
            audiences = ["members", "board"] if rules.is_board(principal, space) else ["members"]
            query = query.where(
                or_(Announcement.audience.in_(audiences), Announcement.id.in_(mine))
            )
        rows = db.scalars(
            query.order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        ).all()
        has_next = len(rows) > PER_PAGE
        rows = rows[:PER_PAGE]
        ids = [a.id for a in rows]
        unread = set(
            db.scalars(
                select(Delivery.announcement_id).where(
                    Delivery.user_id == principal.user_id,
                    Delivery.announcement_id.in_(ids),
                    Delivery.read_at.is_(None),
                )
            )
        )
        return render_template(
            "spaces/announcements.html",
            space=space,
            info=plugin.rows(db)[space],
            announcements=rows,
            unread=unread,
            stats=delivery_stats(db, ids) if manage else {},
            manage=manage,
            form=form,
            preview=preview,
            problems=problems,
            page=page,
            has_next=has_next,
            body_max=BODY_MAX,
            subject_max=SUBJECT_MAX,
        ), (400 if problems else 200)

    @bp.get("/<path:space>/announcements/<int:announcement_id>")
    @login_required
    def announcement(space, announcement_id):
        """One announcement; opening it marks it read in the inbox."""
        manage = space_access(plugin, space)
        db = get_db()
        row = db.get(Announcement, announcement_id)
        if row is None or row.space != space:
            abort(404)
        principal = current_principal()
        delivery = db.scalar(
            select(Delivery).where(
                Delivery.announcement_id == row.id, Delivery.user_id == principal.user_id
            )
        )
        if not may_view(principal, manage, row, delivery):
            abort(404)
        if delivery is not None and delivery.read_at is None:
            delivery.read_at = utcnow()
            db.commit()
        author = db.get(User, row.author_id) if row.author_id else None
        return render_template(
            "spaces/announcement.html",
            space=space,
            info=plugin.rows(db)[space],
            announcement=row,
            author=author.public_id if author is not None else None,
            body=render_markdown(row.body, space),
            manage=manage,
            stats=delivery_stats(db, [row.id])[row.id] if manage else None,
        )


def register_public(public, plugin) -> None:
    """``/-/unsubscribe/<token>``: opting out of announcement mails without logging in."""

    @public.route("/-/unsubscribe/<token>", methods=["GET", "POST"])
    def unsubscribe(token):
        """GET asks for confirmation; POST (also the mail client's one-click POST) opts out."""
        db = get_db()
        profile = profile_for_token(db, token)
        if profile is None:
            return render_template(
                "error.html",
                code=404,
                title=_("Link ungültig"),
                message=_(
                    "Dieser Abmeldelink ist ungültig. Angemeldete Mitglieder können "
                    "Mitteilungen per E-Mail in ihrem Profil abbestellen."
                ),
            ), 404
        done = False
        if request.method == "POST":
            if not profile.mail_opt_out:
                profile.mail_opt_out = True
                db.commit()
            done = True
        user = db.get(User, profile.user_id)
        response = make_response(
            render_template(
                "spaces/unsubscribe.html",
                token=token,
                done=done,
                already=profile.mail_opt_out and not done,
                address=masked(user.email),
            )
        )
        response.headers["Cache-Control"] = "private, no-store"
        return response

    # Mail clients send the one-click POST (RFC 8058) without a session, so without a CSRF
    # token; the secret token in the address is what authorises it.
    public.record_once(lambda setup: setup.app.extensions["csrf"].exempt(unsubscribe))


def masked(address: str) -> str:
    """``a…@example.org``: enough to recognise one's address, not to harvest it."""
    local, sep, domain = (address or "").rpartition("@")
    if not sep:
        return ""
    return f"{local[:1]}…@{domain}"
