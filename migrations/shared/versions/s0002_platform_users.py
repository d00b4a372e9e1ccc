"""Platform accounts (operators, coordinators, network members) and their audit log.

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("tenant_id", sa.Integer),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("totp_last_step", sa.BigInteger),
        sa.Column("recovery_codes", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_platform_users"),
        sa.UniqueConstraint("email", name="uq_platform_users_email"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_platform_users_tenant_id_tenants",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "role IN ('operator', 'coordinator', 'member')", name="ck_platform_users_role"
        ),
        sa.CheckConstraint(
            "role <> 'member' OR tenant_id IS NOT NULL",
            name="ck_platform_users_member_has_tenant",
        ),
        sa.CheckConstraint("email = lower(email)", name="ck_platform_users_email_lower"),
        schema="public",
    )
    op.create_index(
        "ix_public_platform_users_tenant_id", "platform_users", ["tenant_id"], schema="public"
    )

    op.create_table(
        "platform_audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("actor_id", sa.Integer),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target_type", sa.String(50)),
        sa.Column("target_id", sa.String(50)),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.PrimaryKeyConstraint("id", name="pk_platform_audit_log"),
        schema="public",
    )
    op.create_index(
        "ix_public_platform_audit_log_occurred_at",
        "platform_audit_log",
        ["occurred_at"],
        schema="public",
    )
    op.create_index(
        "ix_public_platform_audit_log_actor_id",
        "platform_audit_log",
        ["actor_id"],
        schema="public",
    )


def downgrade() -> None:
    op.drop_table("platform_audit_log", schema="public")
    op.drop_table("platform_users", schema="public")
