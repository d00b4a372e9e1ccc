"""Proposals: image alt text, support counts kept apart from the search vector.

Revision ID: t0009
Revises: t0008
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None

S = "tenant"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
