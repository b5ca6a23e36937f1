"""people: a coordinator blocks a user; what was done to a person (removed, blocked, join requests) is recorded

Revision ID: 0006_people
Revises: 0005_integrity
Create Date: 2026-11-30 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_people"
down_revision = "0005_integrity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_blocked", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "people_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("people_events", schema=None) as batch_op:
        batch_op.create_index("ix_people_events_user_kind", ["user_id", "kind", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("people_events", schema=None) as batch_op:
        batch_op.drop_index("ix_people_events_user_kind")
    op.drop_table("people_events")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("is_blocked")
