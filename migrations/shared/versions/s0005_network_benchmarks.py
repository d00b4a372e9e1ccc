"""Networks: commitments, self-diagnostic, metric snapshots and sharing consent.

Revision ID: s0005
Revises: s0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "s0005"
down_revision = "s0004"
branch_labels = None
depends_on = None

S = "public"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
