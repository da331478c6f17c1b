"""Routes of the spaces plugin under ``/-/spaces/``: spaces, members, directory, audit log."""

from __future__ import annotations

from datetime import datetime

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
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import or_, select

from plugins.spaces import directory, rules
from plugins.spaces.models import Announcement, AuditEntry, Delivery, Membership, Profile
from wiki import api as A
from wiki.api import (
    Change,
    Document,
    PageRow,
    User,
    can,
    content,
    current_principal,
    get_db,
    read_clause,
    user_by_email,
    utcnow,
)


def space_ref(plugin, space: str) -> A.PageRef:
    """The permission view of a space's index page (404 if it is no space or hidden)."""
    rows = plugin.spaces()
    if space not in rows:
        abort(404)
    ref = content().ref(get_db(), space)
    if ref is None or not can(A.READ, ref):
        abort(404)
    return ref


def require_manage(plugin, space: str) -> A.PageRef:
    """Board of the space or of an enclosing one, or admin; others get 404 or 403.

    The board of an enclosing space manages it even where it may not read the space's pages.
    """
    if space not in plugin.spaces() or not current_principal().logged_in:
        abort(404)
    ref = content().ref(get_db(), space)
    if ref is None:
        abort(404)
    if can(A.MANAGE, ref):
        return ref
    if not can(A.READ, ref):
        abort(404)
    abort(403)


def require_second_factor() -> Response | None:
    """The member directory needs a login with two factors when configured."""
    if not current_app.config.get("SPACES_DIRECTORY_REQUIRES_2FA", True):
        return None
    if session.get("wiki_2fa"):
        return None
    return render_template("spaces/needs_2fa.html"), 403


def audit(space: str, action: str, detail: str = "") -> None:
    """Record a directory view or export (committed with the request's session)."""
    get_db().add(
        AuditEntry(
            user_id=current_user.id,
            actor=current_user.display_name,
            space=space,
            action=action,
            detail=detail[:2000],
        )
    )
    get_db().commit()


def make_blueprint(plugin) -> Blueprint:
    """The plugin's routes, bound to the app's plugin object."""
    bp = Blueprint("spaces", __name__, url_prefix="/-/spaces")

    @bp.get("/")
    def index():
        """Every space the reader may see, as a tree."""
        rows = plugin.rows(get_db())
        visible = {
            r.path
            for r in get_db().scalars(
                select(PageRow).where(
                    PageRow.path.in_(list(rows)),
                    read_clause(
                        current_app.extensions["wiki"].acl.read_filter(current_principal()),
                        PageRow.effective_visibility,
                        PageRow.space,
                    ),
                )
            )
        }
        spaces = [rows[p] for p in rows if p in visible]
        mine = current_principal().memberships
        return render_template("spaces/index.html", spaces=spaces, mine=mine, labels=KIND_LABELS)

    @bp.route("/<path:space>/members", methods=["GET", "POST"])
    @login_required
    def members(space):
        """The member directory and membership management of a space (board and admins)."""
        require_manage(plugin, space)
        blocked = require_second_factor()
        if blocked:
            return blocked
        db = get_db()
        problems = []
        if request.method == "POST":
            problems = directory.change_membership(db, plugin, space, request.form)
            if not problems:
                db.commit()
                flash(_("Gespeichert."), "success")
                return redirect(url_for("spaces.members", space=space))
            db.rollback()
        query = request.args.get("q", "").strip()
        role = request.args.get("role", "")
        entries = directory.entries(db, plugin, space, query=query, role=role)
        audit(space, "view", f"q={query} role={role} rows={len(entries)}")
        return render_template(
            "spaces/members.html",
            space=space,
            name=plugin.rows(db)[space].name,
            entries=entries,
            query=query,
            role=role,
            problems=problems,
        ), (400 if problems else 200)

    def export(space, action, render, mimetype, suffix):
        """A directory export: board only, second factor, written to the audit log."""
        require_manage(plugin, space)
        blocked = require_second_factor()
        if blocked:
            return blocked
        entries = directory.entries(get_db(), plugin, space)
        audit(space, action, f"rows={len(entries)}")
        response = Response(render(entries), mimetype=mimetype)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="mitglieder-{space.replace("/", "-")}.{suffix}"'
        )
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @bp.get("/<path:space>/members.csv")
    @login_required
    def members_csv(space):
        """CSV export of the directory (German spreadsheet conventions)."""
        return export(space, "export-csv", directory.to_csv, "text/csv", "csv")

    @bp.get("/<path:space>/members.vcf")
    @login_required
    def members_vcard(space):
        """vCard export of the directory."""
        return export(space, "export-vcard", directory.to_vcard, "text/vcard", "vcf")

    @bp.get("/<path:space>/audit")
    @login_required
    def audit_log(space):
        """Who viewed or exported the directory, newest first."""
        require_manage(plugin, space)
        entries = (
            get_db()
            .scalars(
                select(AuditEntry)
                .where(AuditEntry.space == space)
                .order_by(AuditEntry.at.desc())
                .limit(500)
            )
            .all()
        )
        return render_template("spaces/audit.html", space=space, entries=entries)

    @bp.get("/<path:space>/contacts")
    @login_required
    def contacts(space):
        """Contact persons (the board) and members who share their contact data."""
        space_ref(plugin, space)
        principal = current_principal()
        if not (rules.is_member(principal, space) or principal.is_admin):
            abort(404)
        db = get_db()
        board, shared = directory.contacts(db, space)
        return render_template(
            "spaces/contacts.html",
            space=space,
            info=plugin.rows(db)[space],
            board=board,
            shared=shared,
        )

    @bp.route("/profile", methods=["GET", "POST"])
    @login_required
    def profile():
        """Own contact data and choices."""
        db = get_db()
        row = db.get(Profile, current_user.id) or Profile(user_id=current_user.id)
        if request.method == "POST":
            phone = request.form.get("phone", "").strip()
            if len(phone) > 64 or any(c in phone for c in "\r\n<>"):
                return render_template(
                    "spaces/profile.html",
                    profile=row,
                    problems=[_("Bitte eine gültige Telefonnummer angeben.")],
                ), 400
            row.phone = phone
            row.show_contact = "show_contact" in request.form
            row.mail_opt_out = "mail_opt_out" in request.form
            db.merge(row)
            db.commit()
            flash(_("Gespeichert."), "success")
            return redirect(url_for("spaces.profile"))
        return render_template("spaces/profile.html", profile=row, problems=[])

    from plugins.spaces import announce, documents, invite

    announce.register(bp, plugin)
    invite.register(bp, plugin)
    documents.register(bp, plugin)
    return bp


KIND_LABELS = rules.KIND_LABELS


def overview_section(plugin, page, principal) -> Markup:
    """The overview on a space's index page: sub-spaces, board, changes, documents."""
    db = get_db()
    space = page.path
    rows = plugin.rows(db)
    read_filter = current_app.extensions["wiki"].acl.read_filter(principal)
    children = [r for r in rows.values() if r.parent == space]
    visible_children = {
        r.path
        for r in db.scalars(
            select(PageRow).where(
                PageRow.path.in_([c.path for c in children]),
                read_clause(read_filter, PageRow.effective_visibility, PageRow.space),
            )
        )
    }
    board = directory.board_members(db, space)
    in_space = or_(Change.space == space, Change.space.like(f"{space}/%"))
    changes = db.execute(
        select(Change, PageRow.title)
        .outerjoin(PageRow, PageRow.path == Change.path)
        .where(
            in_space,
            read_clause(read_filter, Change.visibility, Change.space),
            or_(
                PageRow.path.is_(None),
                read_clause(read_filter, PageRow.effective_visibility, PageRow.space),
            ),
        )
        .order_by(Change.at.desc())
        .limit(10)
    ).all()
    documents = db.execute(
        select(Document, PageRow.title)
        .join(PageRow, PageRow.path == Document.page)
        .where(
            or_(PageRow.space == space, PageRow.space.like(f"{space}/%")),
            read_clause(read_filter, PageRow.effective_visibility, PageRow.space),
        )
        .order_by(Document.updated_at.desc())
        .limit(10)
    ).all()
    acl = current_app.extensions["wiki"].acl
    ref = A.PageRef(space, "public", space)
    manage = acl.can(principal, A.MANAGE, ref)
    count = directory.member_count(db, space) if manage else None
    return Markup(
        render_template(
            "spaces/overview.html",
            space=space,
            info=rows[space],
            labels=KIND_LABELS,
            children=[c for c in children if c.path in visible_children],
            board=board,
            changes=changes,
            documents=documents,
            manage=manage,
            member=rules.is_member(principal, space) or principal.is_admin,
            count=count,
        )
    )


def dashboard_section(plugin, principal) -> Markup | None:
    """On ``/-/me``: the user's spaces and their inbox of announcements."""
    if not principal.logged_in:
        return None
    db = get_db()
    rows = plugin.rows(db)
    direct = {
        m.space: m
        for m in db.scalars(select(Membership).where(Membership.user_id == principal.user_id))
    }
    inbox = db.execute(
        select(Delivery, Announcement)
        .join(Announcement, Announcement.id == Delivery.announcement_id)
        .where(Delivery.user_id == principal.user_id)
        .order_by(Announcement.created_at.desc())
        .limit(20)
    ).all()
    return Markup(
        render_template(
            "spaces/dashboard.html",
            spaces=[(rows[s], m) for s, m in sorted(direct.items()) if s in rows],
            inbox=inbox,
            now=utcnow(),
            datetime=datetime,
        )
    )


def user_lookup(db, text: str) -> User | None:
    """An active account by handle or by *verified* e-mail address (``wiki.auth.AmbiguousEmail``
    if several accounts share that address)."""
    text = text.strip().lower()
    if not text:
        return None
    if "@" in text:  # handles never contain "@"
        return user_by_email(db, text)
    return db.scalar(select(User).where(User.handle == text, User.deleted_at.is_(None)))
