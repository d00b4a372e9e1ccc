"""Participatory budgets: envelopes, projects, eligibility, ballots, follow-up.

Revision ID: t0006
Revises: t0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None

S = "tenant"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
