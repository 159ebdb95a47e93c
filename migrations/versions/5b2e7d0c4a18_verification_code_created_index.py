"""verification_code: an index on the time a code was asked for

Revision ID: 5b2e7d0c4a18
Revises: 3f8a1c2d9b47
Create Date: 2026-11-24 07:30:00

The vote monitoring reads the site's codes of the last day (how many were asked and confirmed,
and the failing-codes signal): without it, every look read the whole table, which holds every
code of the campaign until its metadata is purged.
"""
from alembic import op

revision = "5b2e7d0c4a18"
down_revision = "3f8a1c2d9b47"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_verification_code_created", "verification_code", ["created_at"])


def downgrade():
    op.drop_index("ix_verification_code_created", table_name="verification_code")
