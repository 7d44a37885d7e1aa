"""When each board was last crawled (by the database's clock, whoever crawled it), and the
indexes that read a board's newest posts and its notices without scanning all of them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("boards") as batch:
        batch.add_column(sa.Column("crawled_at", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_posts_board_newest", "posts", ["board_id", sa.text("first_seen DESC"), "id"]
    )
    op.create_index(
        "ix_posts_board_notices",
        "posts",
        ["board_id"],
        sqlite_where=sa.text("notice"),
        postgresql_where=sa.text("notice"),
    )


def downgrade() -> None:
    op.drop_index("ix_posts_board_notices", table_name="posts")
    op.drop_index("ix_posts_board_newest", table_name="posts")
    with op.batch_alter_table("boards") as batch:
        batch.drop_column("crawled_at")
