"""Administration: accounts and the mail queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from wiki import acl as A
from wiki.db import MailMessage, User, get_db
from wiki.views.common import can, wiki

bp = Blueprint("admin", __name__, url_prefix="/-/admin")


@bp.before_request
@login_required
def only_admins():
    """Every admin route: admins only."""
    if not can(A.ADMIN, None):
        abort(403)


@bp.get("/")
def overview():
    """Accounts and mail queue status."""
    db = get_db()
    users = db.scalars(select(User).where(User.deleted_at.is_(None)).order_by(User.handle)).all()
    mails = db.scalars(select(MailMessage).order_by(MailMessage.id.desc()).limit(50)).all()
    return render_template(
        "admin.html", users=users, mails=mails, counts=wiki().mailer.status_counts(db)
    )


@bp.post("/users/<int:user_id>/admin")
def toggle_admin(user_id):
    """Grant or revoke the admin flag."""
    db = get_db()
    user = db.get(User, user_id)
    if user is None or user.deleted_at is not None:
        abort(404)
    user.is_admin = request.form.get("admin") == "1"
    db.commit()
    flash(_("Gespeichert."), "success")
    return redirect(url_for("admin.overview"))
