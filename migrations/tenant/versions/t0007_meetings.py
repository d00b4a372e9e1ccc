"""Public meetings: date and place (address or online link), capacity, optional process
and phase; registrations with a waiting list (one row per person and meeting, promoted in
``queued_at`` order); reminders sent; minutes; proposals made at the meeting and entered by
staff.

Revision ID: t0007
Revises: t0006
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None

S = "tenant"


def _fk(column, table, ondelete, name_table):
    return sa.ForeignKeyConstraint(
        [column],
        [f"tenant.{table}.id"],
        name=f"fk_{name_table}_{column}_{table}",
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(300)),
        sa.Column("online_url", sa.String(500)),
        sa.Column("capacity", sa.Integer),
        sa.Column("process_id", sa.Integer),
        sa.Column("phase_id", sa.Integer),
        sa.Column("registration_open", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("cancellation_reason", sa.Text),
        sa.Column("minutes", sa.Text),
        sa.Column("minutes_published_at", sa.DateTime(timezone=True)),
        sa.Column("created_by_id", sa.Integer),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_meetings"),
        _fk("process_id", "processes", "SET NULL", "meetings"),
        _fk("phase_id", "phases", "SET NULL", "meetings"),
        _fk("created_by_id", "users", "SET NULL", "meetings"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_meetings_ends_after_start"),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity > 0", name="ck_meetings_capacity_positive"
        ),
        sa.CheckConstraint(
            "coalesce(address, '') <> '' OR coalesce(online_url, '') <> ''",
            name="ck_meetings_has_place",
        ),
        schema=S,
    )
    op.create_index("ix_meetings_starts_at", "meetings", ["starts_at"], schema=S)
    op.create_index("ix_meetings_process_id", "meetings", ["process_id"], schema=S)

    op.create_table(
        "meeting_registrations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("meeting_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column(
            "queued_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.clock_timestamp(),
            nullable=False,
        ),
        sa.Column("promoted_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_registrations"),
        _fk("meeting_id", "meetings", "CASCADE", "meeting_registrations"),
        _fk("user_id", "users", "CASCADE", "meeting_registrations"),
        sa.UniqueConstraint("meeting_id", "user_id", name="uq_meeting_registrations_meeting_id"),
        sa.CheckConstraint(
            "status IN ('confirmed', 'waiting', 'cancelled')",
            name="ck_meeting_registrations_status",
        ),
        schema=S,
    )
    op.create_index(
        "ix_meeting_registrations_queue",
        "meeting_registrations",
        ["meeting_id", "status", "queued_at"],
        schema=S,
    )
    op.create_index(
        "ix_meeting_registrations_user_id", "meeting_registrations", ["user_id"], schema=S
    )

    op.create_table(
        "meeting_proposals",
        sa.Column("meeting_id", sa.Integer, nullable=False),
        sa.Column("proposal_id", sa.Integer, nullable=False),
        sa.Column("speaker", sa.String(120)),
        sa.Column("entered_by_id", sa.Integer),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("meeting_id", "proposal_id", name="pk_meeting_proposals"),
        sa.UniqueConstraint("proposal_id", name="uq_meeting_proposals_proposal_id"),
        _fk("meeting_id", "meetings", "CASCADE", "meeting_proposals"),
        _fk("proposal_id", "proposals", "CASCADE", "meeting_proposals"),
        _fk("entered_by_id", "users", "SET NULL", "meeting_proposals"),
        schema=S,
    )


def downgrade() -> None:
    for table in ("meeting_proposals", "meeting_registrations", "meetings"):
        op.drop_table(table, schema=S)
