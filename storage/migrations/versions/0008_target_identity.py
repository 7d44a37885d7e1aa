"""Each target's identity: a hash of what its URL names apart from its secrets, so a target
edited together with others (a shared password rotated) is matched to the one it replaces.
Targets stored before have none until the next run that syncs the config fills it in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.add_column(sa.Column("identity", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.drop_column("identity")
