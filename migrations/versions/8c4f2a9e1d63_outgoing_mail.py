"""outgoing_mail: the outbox, mails written in the transaction of their change

Revision ID: 8c4f2a9e1d63
Revises: 5b2e7d0c4a18
Create Date: 2026-12-05 09:10:00

Mails left inside the request after its commit: a mail server that did not answer held the
request (and its gunicorn worker) for up to MAIL_TIMEOUT, and a mail it refused or never took
was lost with a line in the log. Each mail is now a row of its change's transaction, sent by a
thread after the commit, tried again until it leaves or is given up, and shown to organisers.
"""
import sqlalchemy as sa
from alembic import op

revision = "8c4f2a9e1d63"
down_revision = "5b2e7d0c4a18"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Enum("pending", "sent", "abandoned", name="mailstatus",
                                    native_enum=False, length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outgoing_mail_attempts_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
    )
    op.create_index("ix_outgoing_mail_status_not_before", "outgoing_mail",
                    ["status", "not_before"])


def downgrade():
    op.drop_index("ix_outgoing_mail_status_not_before", table_name="outgoing_mail")
    op.drop_table("outgoing_mail")
