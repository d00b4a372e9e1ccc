"""Retention: dates the purges need.

- ``users.last_seen_at``: the last day the account was used (set at most once a day per
  user, participation/accounts/retention.py), for the anonymisation of inactive accounts.
- ``users.inactivity_warned_at``: when the "your account will be anonymised" e-mail went.
- ``budgets.personal_data_purged_at``: when the census list and eligibility records of a
  budget were purged (results published + ``RETENTION_BUDGET_CENSUS_MONTHS``).

ALTER TABLE is not schema-translated (migrations/README.md): unqualified, it lands in the
tenant schema through the search_path. One DDL per statement, nullable columns without defaults (no table rewrite), no trigger.

Revision ID: t0012
Revises: t0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "t0012"
down_revision = "t0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("last_seen_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("inactivity_warned_at", sa.DateTime(timezone=True)))
    op.add_column("budgets", sa.Column("personal_data_purged_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("budgets", "personal_data_purged_at")
    op.drop_column("users", "inactivity_warned_at")
    op.drop_column("users", "last_seen_at")
