"""Jobs outbox and the record of sent e-mails.

``job_outbox``: every job a transaction decides is written here, in that transaction, and
a relay hands it to rq (core/outbox.py). One table in ``public`` rather than one per tenant
schema: the relay scans one index instead of thousands of schemas, and the rows keep their
tenant in ``tenant_id``. ``sent_mails``: the Message-IDs already handed to the SMTP server,
so a retried delivery does not send the same mail twice. Neither table has a foreign key:
a tenant archived or deleted must not block the relay or the record (Citus: plain local
tables of the coordinator, bigint identities, one DDL per statement).

Revision ID: s0006
Revises: s0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "s0006"
down_revision = "s0005"
branch_labels = None
depends_on = None

S = "public"


def upgrade() -> None:
    op.create_table(
        "job_outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger),
        sa.Column("queue", sa.String(40), nullable=False),
        sa.Column("func_name", sa.String(200), nullable=False),
        # The rq job id the caller chose; none: "<t{tenant}->outbox-<id>", from the row.
        sa.Column("job_id", sa.String(200)),
        # pickle of (args, rq options): what rq itself stores in Redis.
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("relayed_at", sa.DateTime(timezone=True)),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_job_outbox"),
        schema=S,
    )
    # The relay reads the rows not yet handed over, oldest first: a small partial index.
    op.create_index(
        "ix_job_outbox_pending",
        "job_outbox",
        ["id"],
        schema=S,
        postgresql_where=sa.text("relayed_at IS NULL"),
    )
    op.create_index("ix_job_outbox_created_at", "job_outbox", ["created_at"], schema=S)
    op.create_table(
        "sent_mails",
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_sent_mails"),
        schema=S,
    )
    op.create_index("ix_sent_mails_sent_at", "sent_mails", ["sent_at"], schema=S)


def downgrade() -> None:
    op.drop_table("sent_mails", schema=S)
    op.drop_table("job_outbox", schema=S)
