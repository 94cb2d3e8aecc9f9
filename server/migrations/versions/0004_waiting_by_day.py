"""waiting index by business day

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 16:12:34.727359
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


OLD = ["center_id", "state", "service_id", "effective_at", "id"]
NEW = ["center_id", "state", "service_id", "day", "effective_at", "id"]


def upgrade() -> None:
    # The queue is today's tickets: the index leads with the business day too.
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_index("ix_tickets_waiting")
        batch_op.create_index("ix_tickets_waiting", NEW)


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_index("ix_tickets_waiting")
        batch_op.create_index("ix_tickets_waiting", OLD)
