"""A member's own data in the spaces plugin: export and erasure."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from plugins.spaces.models import (
    Announcement,
    AuditEntry,
    Delivery,
    Invitation,
    JoinRequest,
    Membership,
    Profile,
)


def user_data(session, user_id: int) -> dict:
    """Everything the plugin keeps about ``user_id``, JSON-serialisable."""
    profile = session.get(Profile, user_id)
    memberships = session.scalars(select(Membership).where(Membership.user_id == user_id))
    inbox = session.execute(
        select(Announcement, Delivery)
        .join(Delivery, Delivery.announcement_id == Announcement.id)
        .where(Delivery.user_id == user_id)
    ).all()
    requests = session.scalars(select(JoinRequest).where(JoinRequest.user_id == user_id))
    return {
        "spaces": {
            "profile": {
                "phone": profile.phone if profile else "",
                "show_contact": bool(profile and profile.show_contact),
                "mail_opt_out": bool(profile and profile.mail_opt_out),
            },
            "memberships": [
                {
                    "space": m.space,
                    "role": m.role,
                    "term_ends": m.term_ends.isoformat() if m.term_ends else None,
                    "since": m.created_at.isoformat(),
                }
                for m in memberships
            ],
            "inbox": [
                {
                    "space": a.space,
                    "subject": a.subject,
                    "body": a.body,
                    "sent": a.created_at.isoformat(),
                    "read": d.read_at.isoformat() if d.read_at else None,
                }
                for a, d in inbox
            ],
            "join_requests": [
                {"space": r.space, "status": r.status, "created": r.created_at.isoformat()}
                for r in requests
            ],
        }
    }


def delete_user_data(session, user_id: int) -> None:
    """Remove memberships, contact data, inbox and requests; keep others' records anonymous."""
    for model in (Membership, Profile, Delivery, JoinRequest):
        session.execute(delete(model).where(model.user_id == user_id))
    session.execute(
        update(Announcement).where(Announcement.author_id == user_id).values(author_id=None)
    )
    session.execute(
        update(Invitation).where(Invitation.created_by == user_id).values(created_by=None)
    )
    session.execute(update(AuditEntry).where(AuditEntry.user_id == user_id).values(user_id=None))
