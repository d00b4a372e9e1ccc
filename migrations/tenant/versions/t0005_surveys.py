"""Consultations and surveys: questionnaires, sections, questions, responses.

Revision ID: t0005
Revises: t0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None

S = "tenant"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
