"""spaces: state of a space's definition (fail closed on a broken push)

Revision ID: 0002_spaces
Revises: 0001_spaces
Create Date: 2026-12-04 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_spaces"
down_revision = "0001_spaces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spaces_spaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), server_default="ok", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("spaces_spaces", schema=None) as batch_op:
        batch_op.drop_column("state")
