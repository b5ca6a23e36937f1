"""tasks: task orders (任务单) from the 中心 or a 所 and each station's part of them

Revision ID: 0011_tasks
Revises: 0010_elderly
Create Date: 2026-12-02 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_tasks"
down_revision = "0010_elderly"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("theme", sa.String(length=60), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("issuer_id", sa.BigInteger(), nullable=False),
        sa.Column("issuer_node_id", sa.Integer(), nullable=True),
        sa.Column("accept_by", sa.Date(), nullable=False),
        sa.Column("finish_by", sa.Date(), nullable=False),
        sa.Column("max_minutes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["issuer_node_id"], ["org_nodes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_table(
        "task_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("acted_by", sa.BigInteger(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("served", sa.Integer(), nullable=True),
        sa.Column("volunteers", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("media", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"]),
        sa.ForeignKeyConstraint(["node_id"], ["org_nodes.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "node_id", name="uq_task_node"),
    )
    with op.batch_alter_table("task_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_nodes_task_id"), ["task_id"], unique=False)
        batch_op.create_index("ix_task_nodes_node_status", ["node_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_task_nodes_node_status")
        batch_op.drop_index(batch_op.f("ix_task_nodes_task_id"))
    op.drop_table("task_nodes")
    op.drop_table("tasks")
