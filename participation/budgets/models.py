"""Participatory budgets (tenant schema).

Secrecy of the vote: ``budget_ballots`` holds what was voted and nothing about who voted:
a random uuid id, the channel, the voting area and the hour. ``budget_voters`` (the
register) holds who voted, with a unique constraint per budget and voter: the register row
and the ballot are inserted in the same transaction, so the database itself guarantees one
ballot per voter, even when two submissions race.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db, str_enum


class VotingRule(enum.StrEnum):
    KNAPSACK = "knapsack"  # total cost of the chosen projects within the envelope
    APPROVAL = "approval"  # between min_choices and max_choices projects


class BudgetPhase(enum.StrEnum):
    UPCOMING = "upcoming"
    SUBMISSION = "submission"
    ANALYSIS = "analysis"
    VOTE = "vote"
    RESULTS = "results"
    IMPLEMENTATION = "implementation"


class ProjectStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for the analysis
    FEASIBLE = "feasible"  # on the ballot
    UNFEASIBLE = "unfeasible"  # a public reason is required


class EligibilityStatus(enum.StrEnum):
    APPROVED = "approved"
    PENDING = "pending"  # near match in the census list: staff review
    REJECTED = "rejected"


class BallotChannel(enum.StrEnum):
    ONLINE = "online"
    PAPER = "paper"


class Budget(TimestampMixin, db.Model):
    __tablename__ = "budgets"
    __table_args__ = (
        sa.CheckConstraint("envelope >= 0", name="envelope_positive"),
        sa.CheckConstraint(
            "submission_ends_on >= submission_starts_on "
            "AND vote_starts_on > submission_ends_on "
            "AND vote_ends_on >= vote_starts_on "
            "AND implementation_starts_on > vote_ends_on",
            name="phases_in_order",
        ),
        sa.CheckConstraint(
            "rule <> 'approval' OR (min_choices >= 1 AND max_choices >= min_choices)",
            name="approval_bounds",
        ),
        sa.Index("ix_budgets_process_id", "process_id"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.processes.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown
    # Whole euros. When split per neighbourhood, the sum of the envelopes below.
    envelope: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    split_by_neighbourhood: Mapped[bool] = mapped_column(default=False)
    rule: Mapped[VotingRule] = mapped_column(
        str_enum(VotingRule, "voting_rule"), default=VotingRule.KNAPSACK
    )
    min_choices: Mapped[int | None]
    max_choices: Mapped[int | None]
    vote_per_neighbourhood: Mapped[bool] = mapped_column(default=False)
    minimum_age: Mapped[int | None]
    require_residency: Mapped[bool] = mapped_column(default=True)
    require_census: Mapped[bool] = mapped_column(default=False)
    eligible_population: Mapped[int | None]
    submission_starts_on: Mapped[date] = mapped_column(sa.Date)
    submission_ends_on: Mapped[date] = mapped_column(sa.Date)
    vote_starts_on: Mapped[date] = mapped_column(sa.Date)
    vote_ends_on: Mapped[date] = mapped_column(sa.Date)
    implementation_starts_on: Mapped[date] = mapped_column(sa.Date)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # When the census list and eligibility records were purged (retention, migration t0012).
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    process = relationship("Process")
    envelopes: Mapped[list[BudgetEnvelope]] = relationship(
        back_populates="budget", cascade="all, delete-orphan"
    )
    projects: Mapped[list[BudgetProject]] = relationship(
        back_populates="budget", cascade="all, delete-orphan", order_by="BudgetProject.id"
    )

    def phase(self, today: date) -> BudgetPhase:
        if today < self.submission_starts_on:
            return BudgetPhase.UPCOMING
        if today <= self.submission_ends_on:
            return BudgetPhase.SUBMISSION
        if today < self.vote_starts_on:
            return BudgetPhase.ANALYSIS
        if today <= self.vote_ends_on:
            return BudgetPhase.VOTE
        if today < self.implementation_starts_on:
            return BudgetPhase.RESULTS
        return BudgetPhase.IMPLEMENTATION


class BudgetEnvelope(db.Model):
    """The share of one neighbourhood when the envelope is split."""

    __tablename__ = "budget_envelopes"
    __table_args__ = (sa.CheckConstraint("amount >= 0", name="amount_positive"), TENANT)

    budget_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.budgets.id", ondelete="CASCADE"), primary_key=True
    )
    neighbourhood_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.neighbourhoods.id", ondelete="CASCADE"), primary_key=True
    )
    amount: Mapped[int] = mapped_column(sa.BigInteger)

    budget: Mapped[Budget] = relationship(back_populates="envelopes")
    neighbourhood = relationship("Neighbourhood")


class BudgetProject(TimestampMixin, db.Model):
    __tablename__ = "budget_projects"
    __table_args__ = (
        sa.CheckConstraint(
            "status <> 'unfeasible' OR analysis_reason IS NOT NULL", name="unfeasible_has_reason"
        ),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        sa.CheckConstraint("proposed_cost >= 0", name="proposed_cost_positive"),
        sa.Index("ix_budget_projects_budget_id", "budget_id"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.budgets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)  # Markdown
    neighbourhood_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.neighbourhoods.id", ondelete="SET NULL")
    )
    proposed_cost: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[ProjectStatus] = mapped_column(
        str_enum(ProjectStatus, "budget_project_status"), default=ProjectStatus.SUBMITTED
    )
    estimated_cost: Mapped[int | None] = mapped_column(sa.BigInteger)
    analysis_reason: Mapped[str | None] = mapped_column(sa.Text)  # public
    analysed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    analysed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    progress: Mapped[int] = mapped_column(default=0, server_default="0")

    budget: Mapped[Budget] = relationship(back_populates="projects")
    author = relationship("User", foreign_keys=[author_id])
    neighbourhood = relationship("Neighbourhood")
    milestones: Mapped[list[BudgetMilestone]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="(BudgetMilestone.position, BudgetMilestone.id)",
    )
    updates: Mapped[list[BudgetUpdate]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="BudgetUpdate.created_at.desc()",
    )

    @property
    def cost(self) -> int:
        """The cost that counts on the ballot: the staff estimate once analysed."""
        return self.estimated_cost if self.estimated_cost is not None else self.proposed_cost


class CensusEntry(db.Model):
    """One person of the census list staff uploaded for a budget."""

    __tablename__ = "budget_census_entries"
    __table_args__ = (
        sa.Index("ix_budget_census_entries_lookup", "budget_id", "birth_date"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.budgets.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(sa.String(200))
    normalised_name: Mapped[str] = mapped_column(sa.String(200))
    birth_date: Mapped[date] = mapped_column(sa.Date)


class Eligibility(TimestampMixin, db.Model):
    """A citizen's declaration for one budget, and its outcome."""

    __tablename__ = "budget_eligibilities"
    __table_args__ = (
        sa.UniqueConstraint("budget_id", "user_id"),
        sa.Index("ix_budget_eligibilities_status", "budget_id", "status"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.budgets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.users.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(sa.String(200))
    birth_date: Mapped[date] = mapped_column(sa.Date)
    resident: Mapped[bool] = mapped_column(default=False)
    neighbourhood_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.neighbourhoods.id", ondelete="SET NULL")
    )
    status: Mapped[EligibilityStatus] = mapped_column(
        str_enum(EligibilityStatus, "budget_eligibility_status")
    )
    census_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.budget_census_entries.id", ondelete="SET NULL")
    )
    match_note: Mapped[str | None] = mapped_column(sa.String(300))
    reviewed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user = relationship("User", foreign_keys=[user_id])
    neighbourhood = relationship("Neighbourhood")
    census_entry = relationship("CensusEntry")


class Voter(db.Model):
    """The register: who voted (visible to staff), never what."""

    __tablename__ = "budget_voters"
    __table_args__ = (
        sa.UniqueConstraint("budget_id", "user_id"),
        sa.UniqueConstraint("budget_id", "census_entry_id"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.budgets.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    census_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.budget_census_entries.id", ondelete="SET NULL")
    )
    voter_label: Mapped[str | None] = mapped_column(sa.String(200))  # paper: name as checked
    channel: Mapped[BallotChannel] = mapped_column(str_enum(BallotChannel, "ballot_channel"))
    polling_point: Mapped[str | None] = mapped_column(sa.String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    voted_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    user = relationship("User", foreign_keys=[user_id])


class Ballot(db.Model):
    """What was voted. No user id, no serial number, the hour only."""

    __tablename__ = "budget_ballots"
    __table_args__ = (sa.Index("ix_budget_ballots_budget_id", "budget_id"), TENANT)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.budgets.id", ondelete="CASCADE"))
    channel: Mapped[BallotChannel] = mapped_column(str_enum(BallotChannel, "ballot_channel"))
    polling_point: Mapped[str | None] = mapped_column(sa.String(200))
    neighbourhood_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.neighbourhoods.id", ondelete="SET NULL")
    )
    cast_hour: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class BallotChoice(db.Model):
    __tablename__ = "budget_ballot_choices"
    __table_args__ = (sa.Index("ix_budget_ballot_choices_project", "project_id"), TENANT)

    ballot_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        sa.ForeignKey("tenant.budget_ballots.id", ondelete="CASCADE"),
        primary_key=True,
    )
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.budget_projects.id", ondelete="CASCADE"), primary_key=True
    )


class BudgetMilestone(db.Model):
    __tablename__ = "budget_milestones"
    __table_args__ = (sa.Index("ix_budget_milestones_project_id", "project_id"), TENANT)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.budget_projects.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    done_on: Mapped[date | None] = mapped_column(sa.Date)

    project: Mapped[BudgetProject] = relationship(back_populates="milestones")


class BudgetUpdate(db.Model):
    """A public news item on a retained project's implementation."""

    __tablename__ = "budget_updates"
    __table_args__ = (sa.Index("ix_budget_updates_project_id", "project_id"), TENANT)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.budget_projects.id", ondelete="CASCADE")
    )
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown
    photo_path: Mapped[str | None] = mapped_column(sa.String(300))
    photo_alt: Mapped[str | None] = mapped_column(sa.String(300))
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    project: Mapped[BudgetProject] = relationship(back_populates="updates")
    author = relationship("User")


class ProjectFollow(db.Model):
    """Citizens following a project's implementation (notified of each public update)."""

    __tablename__ = "budget_project_follows"
    __table_args__ = (sa.Index("ix_budget_project_follows_user_id", "user_id"), TENANT)

    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.budget_projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="CASCADE"), primary_key=True
    )
