"""Jobs outbox and the record of sent e-mails (filled in by the outbox work).

Revision ID: s0006
Revises: s0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "s0006"
down_revision = "s0005"
branch_labels = None
depends_on = None

S = "public"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
