"""Reports of local problems (signalements): categories mapped to a default service,
reports with a location (map point or typed address) and an optional photo, and their
public timeline. (``reports`` is the moderation table, hence the ``problem_`` prefix.)

Revision ID: t0008
Revises: t0007
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None

S = "tenant"


def _ts():
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def _fk(column, table, ondelete, name_table):
    return sa.ForeignKeyConstraint(
        [column],
        [f"tenant.{table}.id"],
        name=f"fk_{name_table}_{column}_{table}",
        ondelete=ondelete,
    )


STATUSES = "'new', 'acknowledged', 'in_progress', 'resolved', 'rejected'"
EVENT_KINDS = "'created', 'status', 'assignment', 'hidden', 'restored'"


def upgrade() -> None:
    op.create_table(
        "problem_categories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.String(300), nullable=False, server_default=""),
        sa.Column("service_id", sa.Integer),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_problem_categories"),
        sa.UniqueConstraint("name", name="uq_problem_categories_name"),
        _fk("service_id", "services", "SET NULL", "problem_categories"),
        schema=S,
    )
    op.create_table(
        "problem_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category_id", sa.Integer, nullable=False),
        sa.Column("reporter_id", sa.Integer),
        sa.Column("is_anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("address", sa.String(300)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("image_name", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text),
        sa.Column("service_id", sa.Integer),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("hidden_at", sa.DateTime(timezone=True)),
        sa.Column("hidden_reason", sa.Text),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_problem_reports"),
        _fk("category_id", "problem_categories", "RESTRICT", "problem_reports"),
        _fk("reporter_id", "users", "SET NULL", "problem_reports"),
        _fk("service_id", "services", "SET NULL", "problem_reports"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_problem_reports_status"),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)",
            name="ck_problem_reports_coordinates_together",
        ),
        sa.CheckConstraint(
            "latitude IS NOT NULL OR coalesce(address, '') <> ''",
            name="ck_problem_reports_has_location",
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR status_reason IS NOT NULL",
            name="ck_problem_reports_rejection_has_reason",
        ),
        schema=S,
    )
    op.create_index("ix_problem_reports_category_id", "problem_reports", ["category_id"], schema=S)
    op.create_index("ix_problem_reports_reporter_id", "problem_reports", ["reporter_id"], schema=S)
    op.create_index("ix_problem_reports_service_id", "problem_reports", ["service_id"], schema=S)
    op.create_index(
        "ix_problem_reports_status_created", "problem_reports", ["status", "created_at"], schema=S
    )
    op.create_table(
        "problem_report_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20)),
        sa.Column("service_id", sa.Integer),
        sa.Column("body", sa.Text),
        sa.Column("is_public", sa.Boolean, nullable=False),
        sa.Column("actor_id", sa.Integer),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_problem_report_events"),
        _fk("report_id", "problem_reports", "CASCADE", "problem_report_events"),
        _fk("service_id", "services", "SET NULL", "problem_report_events"),
        _fk("actor_id", "users", "SET NULL", "problem_report_events"),
        sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name="ck_problem_report_events_kind"),
        schema=S,
    )
    op.create_index(
        "ix_problem_report_events_report_id", "problem_report_events", ["report_id"], schema=S
    )


def downgrade() -> None:
    for table in ("problem_report_events", "problem_reports", "problem_categories"):
        op.drop_table(table, schema=S)
