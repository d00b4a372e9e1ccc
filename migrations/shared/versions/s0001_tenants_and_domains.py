"""Tenants and their domains.

Revision ID: s0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("siren", sa.String(9)),
        sa.Column("population", sa.Integer, nullable=False, server_default="0"),
        sa.Column("departement", sa.String(3)),
        sa.Column("region", sa.String(3)),
        sa.Column("status", sa.String(20), nullable=False, server_default="provisioning"),
        sa.Column("migration_state", sa.String(20), nullable=False, server_default="ok"),
        sa.Column("migration_error", sa.Text),
        sa.Column("archived_at", sa.DateTime(timezone=True)),
        sa.Column("archive_path", sa.String(500)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("slug", name="uq_tenants_slug"),
        sa.UniqueConstraint("kind", "code", name="uq_tenants_kind"),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'", name="ck_tenants_slug_format"
        ),
        sa.CheckConstraint(
            "kind IN ('commune', 'epci', 'departement', 'region')", name="ck_tenants_kind"
        ),
        sa.CheckConstraint(
            "status IN ('provisioning', 'active', 'suspended', 'archived')",
            name="ck_tenants_status",
        ),
        schema="public",
    )
    op.create_table(
        "domains",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("host", sa.String(253), nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False, server_default=sa.false()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_domains"),
        sa.UniqueConstraint("host", name="uq_domains_host"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_domains_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "host = lower(host) AND host !~ '[.:]$'", name="ck_domains_host_normalised"
        ),
        schema="public",
    )
    op.create_index("ix_public_domains_tenant_id", "domains", ["tenant_id"], schema="public")
    op.create_index(
        "uq_domains_primary_per_tenant",
        "domains",
        ["tenant_id"],
        unique=True,
        schema="public",
        postgresql_where=sa.text("is_primary"),
    )


def downgrade() -> None:
    op.drop_table("domains", schema="public")
    op.drop_table("tenants", schema="public")
