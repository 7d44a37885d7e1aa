"""Targets remember consecutive failures: retry backoff and one alert per outage.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_failure_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("alerting", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("targets") as batch:
        batch.drop_column("alerting")
        batch.drop_column("last_failure_at")
        batch.drop_column("failures")
