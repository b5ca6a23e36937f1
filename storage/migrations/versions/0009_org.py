"""org: the county tree (中心 → 所 → 站); teams, coordinators, residents, requests, items and activities belong to a
node; node_services route a service to the nearest level that serves it.

An existing database becomes one 中心 with one 站 that holds every team, request, resident and activity; its
coordinators are the 中心's (they keep seeing everything), so a single-station deployment works as before.

Revision ID: 0009_org
Revises: 0008_multi
Create Date: 2026-12-02 14:00:00
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0009_org"
down_revision = "0008_multi"
branch_labels = None
depends_on = None

CENTRE, STATION = 1, 2  # the ids of the two nodes an upgraded database starts with


def upgrade() -> None:
    op.create_table(
        "org_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('centre', 'institute', 'station')", name="ck_org_nodes_kind"),
        sa.ForeignKeyConstraint(["parent_id"], ["org_nodes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("org_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_nodes_parent_id"), ["parent_id"], unique=False)
    nodes = sa.table(
        "org_nodes",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("name", sa.String),
        sa.column("code", sa.String),
        sa.column("parent_id", sa.Integer),
        sa.column("archived", sa.Boolean),
        sa.column("created_at", sa.DateTime),
    )
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    op.bulk_insert(
        nodes,
        [
            {
                "id": CENTRE,
                "kind": "centre",
                "name": "新时代文明实践中心",
                "code": "ZX",
                "parent_id": None,
                "archived": False,
                "created_at": now,
            },
            {
                "id": STATION,
                "kind": "station",
                "name": "新时代文明实践站",
                "code": "Z01",
                "parent_id": CENTRE,
                "archived": False,
                "created_at": now,
            },
        ],
    )
    if op.get_bind().dialect.name == "postgresql":  # the two explicit ids: move the sequence past them
        op.execute("SELECT setval(pg_get_serial_sequence('org_nodes', 'id'), 2)")
    op.create_table(
        "node_services",
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["node_id"], ["org_nodes.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"]),
        sa.PrimaryKeyConstraint("node_id", "service_id"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coord_node_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("station_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_station_id"), ["station_id"], unique=False)
        batch_op.create_foreign_key("fk_users_coord_node_id", "org_nodes", ["coord_node_id"], ["id"])
        batch_op.create_foreign_key("fk_users_station_id", "org_nodes", ["station_id"], ["id"])
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_teams_node_id"), ["node_id"], unique=False)
        batch_op.create_foreign_key("fk_teams_node_id", "org_nodes", ["node_id"], ["id"])
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("station_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_requests_station_id"), ["station_id"], unique=False)
        batch_op.create_foreign_key("fk_requests_station_id", "org_nodes", ["station_id"], ["id"])
    with op.batch_alter_table("shop_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_shop_items_node_id", "org_nodes", ["node_id"], ["id"])
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_activities_node_id", "org_nodes", ["node_id"], ["id"])
    op.execute(f"UPDATE teams SET node_id = {STATION}")
    op.execute(f"UPDATE users SET station_id = {STATION}")
    # coordinators keep coord_node_id NULL: the 中心's, who see everything as before
    op.execute(f"UPDATE requests SET station_id = {STATION}")
    op.execute(f"UPDATE activities SET node_id = {STATION}")
    op.execute(f"UPDATE shop_items SET node_id = {STATION}")


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint("fk_activities_node_id", type_="foreignkey")
        batch_op.drop_column("node_id")
    with op.batch_alter_table("shop_items", schema=None) as batch_op:
        batch_op.drop_constraint("fk_shop_items_node_id", type_="foreignkey")
        batch_op.drop_column("node_id")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_constraint("fk_requests_station_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_requests_station_id"))
        batch_op.drop_column("station_id")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_constraint("fk_teams_node_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_teams_node_id"))
        batch_op.drop_column("node_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("fk_users_station_id", type_="foreignkey")
        batch_op.drop_constraint("fk_users_coord_node_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_station_id"))
        batch_op.drop_column("station_id")
        batch_op.drop_column("coord_node_id")
    op.drop_table("node_services")
    with op.batch_alter_table("org_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_nodes_parent_id"))
    op.drop_table("org_nodes")
