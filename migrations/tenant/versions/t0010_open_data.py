"""Open data: no table (a deliberate no-op).

The open-data bundle is a file per tenant (``<OPENDATA_FOLDER>/t<id>/``) with a small JSON
manifest beside it (date, size, row counts), rebuilt whole every night: the /open-data page
reads the manifest, so there is nothing to store in the tenant schema. The revision stays in
the chain so that the numbering of the following ones does not change.

Revision ID: t0010
Revises: t0009
Create Date: 2026-11-22
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "t0010"
down_revision = "t0009"
branch_labels = None
depends_on = None

S = "tenant"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
