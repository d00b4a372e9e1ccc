"""Participatory budgets: envelopes, projects, eligibility, ballots, follow-up.

The voters register (``budget_voters``) is unique per (budget, user): inserted in the same
transaction as the ballot, it makes one ballot per voter a database guarantee. Ballots
(``budget_ballots``) carry no user id and no serial number (random uuid, hour only).

Revision ID: t0006
Revises: t0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None

S = "tenant"


def _ts():
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def _fk(column, table, ondelete, name_table):
    return sa.ForeignKeyConstraint(
        [column],
        [f"tenant.{table}.id"],
        name=f"fk_{name_table}_{column}_{table}",
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("process_id", sa.Integer),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("envelope", sa.BigInteger, nullable=False),
        sa.Column("split_by_neighbourhood", sa.Boolean, nullable=False),
        sa.Column("rule", sa.String(20), nullable=False),
        sa.Column("min_choices", sa.Integer),
        sa.Column("max_choices", sa.Integer),
        sa.Column("vote_per_neighbourhood", sa.Boolean, nullable=False),
        sa.Column("minimum_age", sa.Integer),
        sa.Column("require_residency", sa.Boolean, nullable=False),
        sa.Column("require_census", sa.Boolean, nullable=False),
        sa.Column("eligible_population", sa.Integer),
        sa.Column("submission_starts_on", sa.Date, nullable=False),
        sa.Column("submission_ends_on", sa.Date, nullable=False),
        sa.Column("vote_starts_on", sa.Date, nullable=False),
        sa.Column("vote_ends_on", sa.Date, nullable=False),
        sa.Column("implementation_starts_on", sa.Date, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        *_ts(),
        sa.CheckConstraint("envelope >= 0", name="ck_budgets_envelope_positive"),
        sa.CheckConstraint(
            "submission_ends_on >= submission_starts_on "
            "AND vote_starts_on > submission_ends_on "
            "AND vote_ends_on >= vote_starts_on "
            "AND implementation_starts_on > vote_ends_on",
            name="ck_budgets_phases_in_order",
        ),
        sa.CheckConstraint(
            "rule <> 'approval' OR (min_choices >= 1 AND max_choices >= min_choices)",
            name="ck_budgets_approval_bounds",
        ),
        _fk("process_id", "processes", "SET NULL", "budgets"),
        schema=S,
    )
    op.create_index("ix_budgets_process_id", "budgets", ["process_id"], schema=S)

    op.create_table(
        "budget_envelopes",
        sa.Column("budget_id", sa.Integer, nullable=False),
        sa.Column("neighbourhood_id", sa.Integer, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("budget_id", "neighbourhood_id", name="pk_budget_envelopes"),
        sa.CheckConstraint("amount >= 0", name="ck_budget_envelopes_amount_positive"),
        _fk("budget_id", "budgets", "CASCADE", "budget_envelopes"),
        _fk("neighbourhood_id", "neighbourhoods", "CASCADE", "budget_envelopes"),
        schema=S,
    )

    op.create_table(
        "budget_projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("budget_id", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("neighbourhood_id", sa.Integer),
        sa.Column("proposed_cost", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("estimated_cost", sa.BigInteger),
        sa.Column("analysis_reason", sa.Text),
        sa.Column("analysed_at", sa.DateTime(timezone=True)),
        sa.Column("analysed_by_id", sa.Integer),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        *_ts(),
        sa.CheckConstraint(
            "status <> 'unfeasible' OR analysis_reason IS NOT NULL",
            name="ck_budget_projects_unfeasible_has_reason",
        ),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name="ck_budget_projects_progress_percent"
        ),
        sa.CheckConstraint("proposed_cost >= 0", name="ck_budget_projects_proposed_cost_positive"),
        _fk("budget_id", "budgets", "CASCADE", "budget_projects"),
        _fk("author_id", "users", "SET NULL", "budget_projects"),
        _fk("neighbourhood_id", "neighbourhoods", "SET NULL", "budget_projects"),
        _fk("analysed_by_id", "users", "SET NULL", "budget_projects"),
        schema=S,
    )
    op.create_index("ix_budget_projects_budget_id", "budget_projects", ["budget_id"], schema=S)

    op.create_table(
        "budget_census_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("budget_id", sa.Integer, nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("normalised_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        _fk("budget_id", "budgets", "CASCADE", "budget_census_entries"),
        schema=S,
    )
    op.create_index(
        "ix_budget_census_entries_lookup",
        "budget_census_entries",
        ["budget_id", "birth_date"],
        schema=S,
    )

    op.create_table(
        "budget_eligibilities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("budget_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("resident", sa.Boolean, nullable=False),
        sa.Column("neighbourhood_id", sa.Integer),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("census_entry_id", sa.Integer),
        sa.Column("match_note", sa.String(300)),
        sa.Column("reviewed_by_id", sa.Integer),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        *_ts(),
        sa.UniqueConstraint(
            "budget_id", "user_id", name="uq_budget_eligibilities_budget_id_user_id"
        ),
        _fk("budget_id", "budgets", "CASCADE", "budget_eligibilities"),
        _fk("user_id", "users", "CASCADE", "budget_eligibilities"),
        _fk("neighbourhood_id", "neighbourhoods", "SET NULL", "budget_eligibilities"),
        _fk("census_entry_id", "budget_census_entries", "SET NULL", "budget_eligibilities"),
        _fk("reviewed_by_id", "users", "SET NULL", "budget_eligibilities"),
        schema=S,
    )
    op.create_index(
        "ix_budget_eligibilities_status",
        "budget_eligibilities",
        ["budget_id", "status"],
        schema=S,
    )

    # The register: who voted. One row per (budget, user) and per (budget, census entry).
    op.create_table(
        "budget_voters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("budget_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("census_entry_id", sa.Integer),
        sa.Column("voter_label", sa.String(200)),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("polling_point", sa.String(200)),
        sa.Column("recorded_by_id", sa.Integer),
        sa.Column(
            "voted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("budget_id", "user_id", name="uq_budget_voters_budget_id_user_id"),
        sa.UniqueConstraint(
            "budget_id", "census_entry_id", name="uq_budget_voters_budget_id_census_entry_id"
        ),
        _fk("budget_id", "budgets", "CASCADE", "budget_voters"),
        _fk("user_id", "users", "SET NULL", "budget_voters"),
        _fk("census_entry_id", "budget_census_entries", "SET NULL", "budget_voters"),
        _fk("recorded_by_id", "users", "SET NULL", "budget_voters"),
        schema=S,
    )

    # The ballots: what was voted, never by whom.
    op.create_table(
        "budget_ballots",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("budget_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("polling_point", sa.String(200)),
        sa.Column("neighbourhood_id", sa.Integer),
        sa.Column("cast_hour", sa.DateTime(timezone=True), nullable=False),
        _fk("budget_id", "budgets", "CASCADE", "budget_ballots"),
        _fk("neighbourhood_id", "neighbourhoods", "SET NULL", "budget_ballots"),
        schema=S,
    )
    op.create_index("ix_budget_ballots_budget_id", "budget_ballots", ["budget_id"], schema=S)
    op.create_table(
        "budget_ballot_choices",
        sa.Column("ballot_id", UUID(as_uuid=True), nullable=False),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("ballot_id", "project_id", name="pk_budget_ballot_choices"),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["tenant.budget_ballots.id"],
            name="fk_budget_ballot_choices_ballot_id_budget_ballots",
            ondelete="CASCADE",
        ),
        _fk("project_id", "budget_projects", "CASCADE", "budget_ballot_choices"),
        schema=S,
    )
    op.create_index(
        "ix_budget_ballot_choices_project", "budget_ballot_choices", ["project_id"], schema=S
    )

    op.create_table(
        "budget_milestones",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("done_on", sa.Date),
        _fk("project_id", "budget_projects", "CASCADE", "budget_milestones"),
        schema=S,
    )
    op.create_index(
        "ix_budget_milestones_project_id", "budget_milestones", ["project_id"], schema=S
    )
    op.create_table(
        "budget_updates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("photo_path", sa.String(300)),
        sa.Column("photo_alt", sa.String(300)),
        sa.Column("author_id", sa.Integer),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _fk("project_id", "budget_projects", "CASCADE", "budget_updates"),
        _fk("author_id", "users", "SET NULL", "budget_updates"),
        schema=S,
    )
    op.create_index("ix_budget_updates_project_id", "budget_updates", ["project_id"], schema=S)
    op.create_table(
        "budget_project_follows",
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", name="pk_budget_project_follows"),
        _fk("project_id", "budget_projects", "CASCADE", "budget_project_follows"),
        _fk("user_id", "users", "CASCADE", "budget_project_follows"),
        schema=S,
    )
    op.create_index(
        "ix_budget_project_follows_user_id", "budget_project_follows", ["user_id"], schema=S
    )


def downgrade() -> None:
    for table in (
        "budget_project_follows",
        "budget_updates",
        "budget_milestones",
        "budget_ballot_choices",
        "budget_ballots",
        "budget_voters",
        "budget_eligibilities",
        "budget_census_entries",
        "budget_projects",
        "budget_envelopes",
        "budgets",
    ):
        op.drop_table(table, schema=S)
