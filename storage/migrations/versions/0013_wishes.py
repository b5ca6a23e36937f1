"""wishes: 微心愿, the stations' wish walls, donors

Revision ID: 0013_wishes
Revises: 0010_elderly
Create Date: 2026-12-02 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_wishes"
down_revision = "0011_tasks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wishes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wisher_id", sa.BigInteger(), nullable=False),
        sa.Column("proxy", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("for_whom", sa.String(length=20), nullable=False),
        sa.Column("why", sa.String(length=300), nullable=True),
        sa.Column("cost", sa.String(length=40), nullable=True),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("photo", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("contact", sa.String(length=8), nullable=True),
        sa.Column("approved_by", sa.BigInteger(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("claimer_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("preparing_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(), nullable=True),
        sa.Column("given_back", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("done_photo", sa.String(length=256), nullable=True),
        sa.Column("thanks", sa.String(length=200), nullable=True),
        sa.Column("hours_minutes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["org_nodes.id"]),
        sa.ForeignKeyConstraint(["wisher_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wishes_wisher_id"), ["wisher_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wishes_station_id"), ["station_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wishes_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_wishes_claimer_id"), ["claimer_id"], unique=False)
    op.create_table(
        "wish_cards",
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["wish_id"], ["wishes.id"]),
        sa.PrimaryKeyConstraint("wish_id", "chat_id"),
    )
    op.create_table(
        "wish_walls",
        sa.Column("station_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("bound_by", sa.BigInteger(), nullable=False),
        sa.Column("bound_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["org_nodes.id"]),
        sa.PrimaryKeyConstraint("station_id"),
    )
    with op.batch_alter_table("wish_walls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wish_walls_chat_id"), ["chat_id"], unique=False)
    op.create_table(
        "donors",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("organisation", sa.String(length=60), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("donors")
    with op.batch_alter_table("wish_walls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wish_walls_chat_id"))
    op.drop_table("wish_walls")
    op.drop_table("wish_cards")
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wishes_claimer_id"))
        batch_op.drop_index(batch_op.f("ix_wishes_status"))
        batch_op.drop_index(batch_op.f("ix_wishes_station_id"))
        batch_op.drop_index(batch_op.f("ix_wishes_wisher_id"))
    op.drop_table("wishes")
