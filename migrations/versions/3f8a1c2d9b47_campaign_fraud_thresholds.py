"""campaign: the fraud signals' thresholds where a campaign departs from the defaults

Revision ID: 3f8a1c2d9b47
Revises: 9e41c7b2d305
Create Date: 2026-11-23 23:40:00

A name of ``voting.fraud.Thresholds`` and its number, for each threshold the organisers changed
on the vote monitoring page (a city whose mobile networks put thousands of people behind one
address needs more voters from one network before that is a signal). Empty: the defaults.
"""
import sqlalchemy as sa
from alembic import op

revision = "3f8a1c2d9b47"
down_revision = "9e41c7b2d305"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("campaign", sa.Column("fraud_thresholds", sa.JSON(), nullable=False,
                                        server_default="{}"))


def downgrade():
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("fraud_thresholds")
