"""resolutions tables

Revision ID: 0001_resolutions
Revises:
Create Date: 2026-11-28 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_resolutions"
down_revision = None
branch_labels = ("resolutions",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "resolutions_resolutions",
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("rid", sa.String(length=64), nullable=False),
        sa.Column("rid_key", sa.String(length=64), nullable=False),
        sa.Column("space", sa.String(length=255), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("agenda_item", sa.String(length=200), nullable=False),
        sa.Column("submitted", sa.DateTime(), nullable=True),
        sa.Column("decided", sa.Date(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("outcome_detail", sa.Text(), nullable=False),
        sa.Column("referred_to", sa.String(length=200), nullable=False),
        sa.Column("votes_yes", sa.Integer(), nullable=True),
        sa.Column("votes_no", sa.Integer(), nullable=True),
        sa.Column("votes_abstain", sa.Integer(), nullable=True),
        sa.Column("votes_invalid", sa.Integer(), nullable=True),
        sa.Column("unanimous", sa.Boolean(), nullable=False),
        sa.Column("validity", sa.String(length=32), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("source_system", sa.String(length=64), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("blob", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("path"),
    )
    with op.batch_alter_table("resolutions_resolutions", schema=None) as batch_op:
        batch_op.create_index("ix_resolutions_sort", ["decided", "rid_key"], unique=False)
        batch_op.create_index("ix_resolutions_source", ["source_system", "source_id"], unique=False)
        for column in (
            "rid_key", "space", "visibility", "number", "body", "event", "year", "outcome",
            "validity",
        ):  # fmt: skip
            batch_op.create_index(f"ix_resolutions_resolutions_{column}", [column], unique=False)

    op.create_table(
        "resolutions_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("src_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dst", sa.String(length=64), nullable=False),
        sa.Column("dst_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resolutions_links", schema=None) as batch_op:
        for column in ("path", "src_key", "dst_key"):
            batch_op.create_index(f"ix_resolutions_links_{column}", [column], unique=False)

    op.create_table(
        "resolutions_topics",
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("path", "topic"),
    )
    with op.batch_alter_table("resolutions_topics", schema=None) as batch_op:
        batch_op.create_index("ix_resolutions_topics_topic", ["topic"], unique=False)

    op.create_table(
        "resolutions_initiators",
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("path", "name"),
    )
    with op.batch_alter_table("resolutions_initiators", schema=None) as batch_op:
        batch_op.create_index("ix_resolutions_initiators_name", ["name"], unique=False)


def downgrade() -> None:
    op.drop_table("resolutions_initiators")
    op.drop_table("resolutions_topics")
    op.drop_table("resolutions_links")
    op.drop_table("resolutions_resolutions")
