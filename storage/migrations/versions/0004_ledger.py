"""ledger: index for per-volunteer periods; an entry is reversed at most once

Revision ID: 0004_ledger
Revises: 0003
Create Date: 2026-11-23 12:40:00
"""

from alembic import op

revision = "0004_ledger"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_volunteer_created", ["volunteer_id", "created_at"], unique=False)
        batch_op.create_index("uq_ledger_reverses", ["reverses_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("uq_ledger_reverses")
        batch_op.drop_index("ix_ledger_volunteer_created")
