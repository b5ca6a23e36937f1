"""elderly: voice and photo file ids of a request, regular needs, an occurrence offered to its last volunteer

Revision ID: 0010_elderly
Revises: 0009_org
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_elderly"
down_revision = "0009_org"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regular_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("media", sa.Text(), nullable=True),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("proxy_for", sa.String(length=32), nullable=True),
        sa.Column("every", sa.String(length=8), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=False),
        sa.Column("end", sa.String(length=5), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("same_volunteer", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("regular_needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regular_needs_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_regular_needs_active"), ["active"], unique=False)
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("regular_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("offered_to", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("offered_until", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_requests_regular_id"), ["regular_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_regular_id"))
        batch_op.drop_column("offered_until")
        batch_op.drop_column("offered_to")
        batch_op.drop_column("regular_id")
        batch_op.drop_column("media")
    with op.batch_alter_table("regular_needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regular_needs_active"))
        batch_op.drop_index(batch_op.f("ix_regular_needs_resident_id"))
    op.drop_table("regular_needs")
