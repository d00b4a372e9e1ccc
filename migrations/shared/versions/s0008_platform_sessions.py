"""Server-side sessions of platform accounts.

Revision ID: s0008
Revises: s0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "s0008"
down_revision = "s0007"
branch_labels = None
depends_on = None

S = "public"


def upgrade() -> None:
    # One row per log-in: the cookie carries a random token, the row its SHA-256 digest.
    # Bigint identity (Citus), no trigger; the foreign key stays inside the schema.
    op.create_table(
        "platform_user_sessions",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_platform_user_sessions"),
        sa.UniqueConstraint("token_digest", name="uq_platform_user_sessions_token_digest"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["public.platform_users.id"],
            name="fk_platform_user_sessions_user_id_platform_users",
            ondelete="CASCADE",
        ),
        schema=S,
    )
    op.create_index(
        "ix_platform_user_sessions_user_id", "platform_user_sessions", ["user_id"], schema=S
    )


def downgrade() -> None:
    op.drop_index(
        "ix_platform_user_sessions_user_id", table_name="platform_user_sessions", schema=S
    )
    op.drop_table("platform_user_sessions", schema=S)
