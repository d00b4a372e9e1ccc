"""Server-side sessions of platform accounts.

Revision ID: s0008
Revises: s0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "s0008"
down_revision = "s0007"
branch_labels = None
depends_on = None

S = "public"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
