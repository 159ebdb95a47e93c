"""vote: covering indexes for the recount (all time and per day)

Revision ID: 5c2f0e7a9d11
Revises: de11a163db6b
Create Date: 2026-11-22 18:40:00

"""
from alembic import op

revision = "5c2f0e7a9d11"
down_revision = "de11a163db6b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_vote_recount", "vote", ["category_id", "status", "entry_id"])
    op.create_index("ix_vote_recount_day", "vote",
                    ["category_id", "vote_day", "status", "entry_id"])


def downgrade():
    op.drop_index("ix_vote_recount_day", table_name="vote")
    op.drop_index("ix_vote_recount", table_name="vote")
