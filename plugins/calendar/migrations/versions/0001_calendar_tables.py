"""calendar tables

Revision ID: 0001_calendar
Revises:
Create Date: 2026-12-04 18:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_calendar"
down_revision = None
branch_labels = ("calendar",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "calendar_events",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("path", sa.String(length=255), nullable=False, index=True),
        sa.Column("space", sa.String(length=255), nullable=True, index=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("first_utc", sa.DateTime(), nullable=False, index=True),
        sa.Column("last_utc", sa.DateTime(), nullable=True, index=True),
        sa.Column("rrule", sa.Text(), nullable=True),
        sa.Column("exdates", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rsvp", sa.Boolean(), nullable=False),
        sa.Column("rsvp_max", sa.Integer(), nullable=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("commit", sa.String(length=40), nullable=False),
    )
    op.create_table(
        "calendar_state",
        sa.Column("event_id", sa.String(length=64), primary_key=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "calendar_rsvps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(length=64), nullable=False, index=True),
        sa.Column("occurrence", sa.String(length=32), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("answer", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("event_id", "occurrence", "user_id", name="uq_calendar_rsvps"),
    )
    op.create_table(
        "calendar_places",
        sa.Column("event_id", sa.String(length=64), primary_key=True),
        sa.Column("occurrence", sa.String(length=32), primary_key=True),
        sa.Column("taken", sa.Integer(), nullable=False),
    )
    op.create_table(
        "calendar_reminders",
        sa.Column("event_id", sa.String(length=64), primary_key=True),
        sa.Column("occurrence", sa.String(length=32), primary_key=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "calendar_reminders",
        "calendar_places",
        "calendar_rsvps",
        "calendar_state",
        "calendar_events",
    ):
        op.drop_table(table)
