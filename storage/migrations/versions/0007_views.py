"""request events: index of an actor's events by kind and time (a volunteer's releases in 24 hours)

Revision ID: 0007_views
Revises: 0006_people
Create Date: 2026-11-24 10:00:00
"""

from alembic import op

revision = "0007_views"
down_revision = "0006_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.create_index("ix_request_events_actor", ["actor_id", "kind", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.drop_index("ix_request_events_actor")
