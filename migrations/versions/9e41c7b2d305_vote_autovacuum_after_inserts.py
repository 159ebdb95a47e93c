"""vote: autovacuum after 1% new votes (PostgreSQL), so the recount's index-only scans stay so

Revision ID: 9e41c7b2d305
Revises: 5c2f0e7a9d11
Create Date: 2026-11-23 17:40:00

The recount reads only its covering indexes, but PostgreSQL reads a row's page in the table too
unless the visibility map marks that page all-visible, which only VACUUM does. The vote table
only grows, and autovacuum's default for inserts waits for 20% new rows (200,000 votes at a
million): until then each of them costs the recount a visit to the table (at a million votes
153 ms against 62 ms vacuumed, docs/PERFORMANCE.md). At 1% a pass comes after about 10,000 new
votes and reads only the pages written since the last one. Nothing to do on SQLite.
"""
from alembic import op

revision = "9e41c7b2d305"
down_revision = "5c2f0e7a9d11"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE vote SET (autovacuum_vacuum_insert_scale_factor = 0.01)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE vote RESET (autovacuum_vacuum_insert_scale_factor)")
