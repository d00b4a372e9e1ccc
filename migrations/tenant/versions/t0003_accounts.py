"""Accounts: users, services, neighbourhoods, invitations, legal documents.

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0003"
down_revision = "t0002"
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


def upgrade() -> None:
    op.create_table(
        "neighbourhoods",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_neighbourhoods"),
        sa.UniqueConstraint("name", name="uq_neighbourhoods_name"),
        schema=S,
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.PrimaryKeyConstraint("id", name="pk_services"),
        sa.UniqueConstraint("name", name="uq_services_name"),
        schema=S,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254)),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("email_confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("staff_role", sa.String(20)),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("totp_last_step", sa.BigInteger),
        sa.Column("recovery_codes", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("age_bracket", sa.String(20)),
        sa.Column("neighbourhood_id", sa.Integer),
        sa.Column("demographics_consent_at", sa.DateTime(timezone=True)),
        sa.Column(
            "notification_frequency", sa.String(20), nullable=False, server_default="immediate"
        ),
        sa.Column("notify_answers", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("notify_comments", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("notify_processes", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("terms_version", sa.Integer),
        sa.Column("charter_version", sa.Integer),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["tenant.neighbourhoods.id"],
            name="fk_users_neighbourhood_id_neighbourhoods",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "staff_role IN ('admin', 'moderator', 'agent')", name="ck_users_staff_role"
        ),
        sa.CheckConstraint(
            "notification_frequency IN ('immediate', 'daily', 'never')",
            name="ck_users_notification_frequency",
        ),
        schema=S,
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True, schema=S
    )
    op.create_table(
        "user_services",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "service_id", name="pk_user_services"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["tenant.users.id"],
            name="fk_user_services_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["tenant.services.id"],
            name="fk_user_services_service_id_services",
            ondelete="CASCADE",
        ),
        schema=S,
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("service_ids", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("invited_by_id", sa.Integer),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_digest", name="uq_invitations_token_digest"),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["tenant.users.id"],
            name="fk_invitations_invited_by_id_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("role IN ('admin', 'moderator', 'agent')", name="ck_invitations_role"),
        schema=S,
    )
    op.create_table(
        "legal_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column(
            "published_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_legal_documents"),
        sa.UniqueConstraint("kind", "version", name="uq_legal_documents_kind"),
        sa.CheckConstraint("kind IN ('terms', 'charter')", name="ck_legal_documents_kind"),
        schema=S,
    )


def downgrade() -> None:
    for table in (
        "legal_documents",
        "invitations",
        "user_services",
        "users",
        "services",
        "neighbourhoods",
    ):
        op.drop_table(table, schema=S)
