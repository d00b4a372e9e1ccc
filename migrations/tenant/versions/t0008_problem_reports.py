"""Reports of local problems (signalements).

Revision ID: t0008
Revises: t0007
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None

S = "tenant"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
