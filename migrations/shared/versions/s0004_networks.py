"""Networks: networks, coordinators, memberships, practice library, forum.

Revision ID: s0004
Revises: s0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "s0004"
down_revision = "s0003"
branch_labels = None
depends_on = None

S = "public"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
