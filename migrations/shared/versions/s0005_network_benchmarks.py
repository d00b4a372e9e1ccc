"""Networks: commitments, self-diagnostic, metric snapshots and sharing consent.

Revision ID: s0005
Revises: s0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "s0005"
down_revision = "s0004"
branch_labels = None
depends_on = None

S = "public"


def _now():
    return sa.func.now()


def _ts():
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
    ]


def upgrade() -> None:
    # Figures computed by the per-tenant job (ARCHITECTURE §2 rule 11): the network pages
    # read these rows, never the tenant schemas. ``value`` is the raw figure; small counts
    # are suppressed when the figure leaves the database (network.benchmarks.queries).
    op.create_table(
        "tenant_metric_snapshots",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(40), nullable=False),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("span", sa.String(10), nullable=False),
        sa.Column("value", sa.Numeric(14, 4)),
        sa.Column("base_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenant_metric_snapshots"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_tenant_metric_snapshots_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "tenant_id", "metric", "period", "span", name="uq_tenant_metric_snapshots_tenant_id"
        ),
        sa.CheckConstraint("span IN ('month', 'year')", name="ck_tenant_metric_snapshots_span"),
        sa.CheckConstraint(
            "extract(day FROM period) = 1", name="ck_tenant_metric_snapshots_first_of_month"
        ),
        schema=S,
    )
    op.create_index(
        "ix_tenant_metric_snapshots_metric_period",
        "tenant_metric_snapshots",
        ["metric", "span", "period"],
        schema=S,
    )
    # Consent: a row means "this tenant shares this metric with this network".
    op.create_table(
        "network_metric_shares",
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint(
            "network_id", "tenant_id", "metric", name="pk_network_metric_shares"
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["public.networks.id"],
            name="fk_network_metric_shares_network_id_networks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_network_metric_shares_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        schema=S,
    )
    op.create_index(
        "ix_network_metric_shares_tenant_id", "network_metric_shares", ["tenant_id"], schema=S
    )

    op.create_table(
        "network_commitments",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False, server_default="planned"),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("evidence_text", sa.Text, nullable=False, server_default=""),
        sa.Column("evidence_url", sa.String(500)),
        sa.Column("evidence_file", sa.String(100)),
        sa.Column("evidence_filename", sa.String(200)),
        sa.Column("starts_on", sa.Date),
        sa.Column("due_on", sa.Date),
        sa.Column("completed_on", sa.Date),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("updated_by_id", sa.Integer),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_network_commitments"),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["public.networks.id"],
            name="fk_network_commitments_network_id_networks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_network_commitments_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["public.platform_users.id"],
            name="fk_network_commitments_created_by_id_platform_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["public.platform_users.id"],
            name="fk_network_commitments_updated_by_id_platform_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'abandoned')",
            name="ck_network_commitments_status",
        ),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name="ck_network_commitments_progress_range"
        ),
        sa.CheckConstraint(
            "due_on IS NULL OR starts_on IS NULL OR due_on >= starts_on",
            name="ck_network_commitments_dates_in_order",
        ),
        schema=S,
    )
    op.create_index(
        "ix_network_commitments_network_tenant",
        "network_commitments",
        ["network_id", "tenant_id"],
        schema=S,
    )
    op.create_table(
        "network_commitment_comments",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("commitment_id", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer),
        sa.Column("author_role", sa.String(20), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_network_commitment_comments"),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["public.network_commitments.id"],
            name="fk_network_commitment_comments_commitment_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["public.platform_users.id"],
            name="fk_network_commitment_comments_author_id",
            ondelete="SET NULL",
        ),
        schema=S,
    )
    op.create_index(
        "ix_network_commitment_comments_commitment_id",
        "network_commitment_comments",
        ["commitment_id"],
        schema=S,
    )

    op.create_table(
        "network_diagnostic_dimensions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        # Level labels, lowest first: level n is levels[n - 1].
        sa.Column("levels", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("archived_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_network_diagnostic_dimensions"),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["public.networks.id"],
            name="fk_network_diagnostic_dimensions_network_id_networks",
            ondelete="CASCADE",
        ),
        schema=S,
    )
    op.create_index(
        "ix_network_diagnostic_dimensions_network_id",
        "network_diagnostic_dimensions",
        ["network_id"],
        schema=S,
    )
    op.create_table(
        "network_diagnostic_responses",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        # {"<dimension id>": level}
        sa.Column("scores", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("submitted_by_id", sa.Integer),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_network_diagnostic_responses"),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["public.networks.id"],
            name="fk_network_diagnostic_responses_network_id_networks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_network_diagnostic_responses_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["public.platform_users.id"],
            name="fk_network_diagnostic_responses_submitted_by_id",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint(
            "network_id",
            "tenant_id",
            "year",
            name="uq_network_diagnostic_responses_network_id",
        ),
        schema=S,
    )


def downgrade() -> None:
    for table in (
        "network_diagnostic_responses",
        "network_diagnostic_dimensions",
        "network_commitment_comments",
        "network_commitments",
        "network_metric_shares",
        "tenant_metric_snapshots",
    ):
        op.drop_table(table, schema=S)
