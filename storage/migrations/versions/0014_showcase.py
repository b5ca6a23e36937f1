"""showcase: 公示 posts of the public channel (anonymised, capped a day, taken down by a coordinator)

Revision ID: 0014_showcase
Revises: 0010_elderly
Create Date: 2026-12-02 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_showcase"
down_revision = "0013_wishes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "showcase_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["station_id"], ["org_nodes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source"),
    )
    with op.batch_alter_table("showcase_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_showcase_posts_station_id"), ["station_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_showcase_posts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_showcase_posts_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("showcase_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_showcase_posts_day"))
        batch_op.drop_index(batch_op.f("ix_showcase_posts_status"))
        batch_op.drop_index(batch_op.f("ix_showcase_posts_station_id"))
    op.drop_table("showcase_posts")
