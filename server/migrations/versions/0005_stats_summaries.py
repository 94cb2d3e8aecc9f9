"""statistics summaries and the counter-changes index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COUNTER_CHANGES = sa.text("type = 'counter.changed'")
COUNTS = ("issued", "served", "no_show", "cancelled", "pending", "transferred", "recalls",
          "out_of_order", "implausible", "sla_within", "sla_total")  # fmt: skip


def upgrade() -> None:
    # Reports over many days merge per-day (and per-month) summaries instead of reading
    # every ticket; see server/domain/stats.py and server/reports.py.
    op.create_table(
        "stats_periods",
        sa.Column("center_id", sa.Integer(), nullable=False),
        sa.Column("span", sa.String(length=8), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("filters", sa.String(length=200), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("implausible_ids", sa.Text(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["center_id"], ["centers.id"]),
        sa.PrimaryKeyConstraint("center_id", "filters", "span", "first_day"),
    )
    # Operations forget a day whatever the filters it was summarised for.
    op.create_index("ix_stats_periods_day", "stats_periods", ["center_id", "first_day", "span"])
    op.create_table(
        "stats_groups",
        sa.Column("center_id", sa.Integer(), nullable=False),
        sa.Column("span", sa.String(length=8), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("filters", sa.String(length=200), nullable=False),
        sa.Column("dim", sa.String(length=8), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("wait_n", sa.Integer(), nullable=False),
        sa.Column("wait_sum", sa.Float(), nullable=False),
        sa.Column("wait_max", sa.Float(), nullable=True),
        sa.Column("wait_hist", sa.LargeBinary(), nullable=False),
        sa.Column("service_n", sa.Integer(), nullable=False),
        sa.Column("service_sum", sa.Float(), nullable=False),
        sa.Column("service_max", sa.Float(), nullable=True),
        sa.Column("service_hist", sa.LargeBinary(), nullable=False),
        sa.Column("open_s", sa.Float(), nullable=False),
        sa.Column("paused_s", sa.Float(), nullable=False),
        sa.Column("serving_s", sa.Float(), nullable=False),
        sa.Column("serving_later", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["center_id"], ["centers.id"]),
        sa.PrimaryKeyConstraint("center_id", "filters", "span", "first_day", "dim", "group_key"),
    )
    op.create_index("ix_stats_groups_day", "stats_groups", ["center_id", "first_day", "span"])
    with op.batch_alter_table("events") as batch_op:
        batch_op.create_index(
            "ix_events_counter_changes",
            ["center_id", "counter_id", "at"],
            sqlite_where=COUNTER_CHANGES,
            postgresql_where=COUNTER_CHANGES,
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_index("ix_events_counter_changes")
    op.drop_index("ix_stats_groups_day", table_name="stats_groups")
    op.drop_table("stats_groups")
    op.drop_index("ix_stats_periods_day", table_name="stats_periods")
    op.drop_table("stats_periods")
