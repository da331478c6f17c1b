"""polls tables

Revision ID: 0001_polls
Revises:
Create Date: 2026-12-04 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_polls"
down_revision = None
branch_labels = ("polls",)
depends_on = "0001_core"


def user_key():
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "polls_polls",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False, index=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=True),
        sa.Column("space", sa.String(length=255), nullable=True, index=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("commit", sa.String(length=40), nullable=False),
    )
    op.create_table(
        "polls_state",
        sa.Column("poll_id", sa.String(length=64), primary_key=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("results_shown", sa.Boolean(), nullable=False),
        sa.Column("frozen", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "polls_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), user_key(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_polls_tokens_poll", "polls_tokens", ["poll_id", "used"])
    op.create_table(
        "polls_votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("poll_id", sa.String(length=64), nullable=False, index=True),
        sa.Column("user_id", sa.Integer(), user_key(), nullable=True),
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey("polls_tokens.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("poll_id", "user_id", name="uq_polls_votes_user"),
        sa.UniqueConstraint("poll_id", "token_id", name="uq_polls_votes_token"),
    )
    op.create_table(
        "polls_secret_ballots",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("poll_id", sa.String(length=64), nullable=False, index=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "polls_voters",
        sa.Column("poll_id", sa.String(length=64), primary_key=True),
        sa.Column("voter", sa.String(length=40), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "polls_submissions",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("poll_id", sa.String(length=64), nullable=False, index=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("once_key", sa.String(length=40), nullable=True),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("poll_id", "once_key", name="uq_polls_submissions_once"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for table in (
        "polls_submissions",
        "polls_voters",
        "polls_secret_ballots",
        "polls_votes",
        "polls_tokens",
        "polls_state",
        "polls_polls",
    ):
        op.drop_table(table)
