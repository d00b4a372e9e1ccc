"""Server-side sessions of tenant accounts.

Revision ID: t0011
Revises: t0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "t0011"
down_revision = "t0010"
branch_labels = None
depends_on = None

S = "tenant"


def upgrade() -> None:
    # One row per log-in: the cookie carries a random token, the row its SHA-256 digest.
    # Bigint identity (Citus), no trigger; the foreign key stays inside the schema.
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_user_sessions"),
        sa.UniqueConstraint("token_digest", name="uq_user_sessions_token_digest"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["tenant.users.id"],
            name="fk_user_sessions_user_id_users",
            ondelete="CASCADE",
        ),
        schema=S,
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions", schema=S)
    op.drop_table("user_sessions", schema=S)
