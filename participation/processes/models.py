"""Processes, their themes and their phases (tenant schema)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db, str_enum


class ProcessState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class PhaseKind(enum.StrEnum):
    INFORMATION = "information"
    CONTRIBUTIONS = "contributions"
    ANALYSIS = "analysis"
    VOTE = "vote"
    RESULTS = "results"
    IMPLEMENTATION = "implementation"
    OTHER = "other"


class InvalidProcessTransition(ValueError):
    """A state change the process lifecycle does not allow (message in French)."""


class Theme(db.Model):
    __tablename__ = "themes"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)


class Process(TimestampMixin, db.Model):
    __tablename__ = "processes"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown, sanitised on render
    theme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.themes.id", ondelete="SET NULL")
    )
    # NULL: the whole territory.
    neighbourhood_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.neighbourhoods.id", ondelete="SET NULL")
    )
    image_path: Mapped[str | None] = mapped_column(sa.String(300))
    image_alt: Mapped[str | None] = mapped_column(sa.String(300))
    state: Mapped[ProcessState] = mapped_column(
        str_enum(ProcessState, "process_state"), default=ProcessState.DRAFT
    )
    # Supports after which a proposal goes to analysis ("À l'étude"); NULL: no threshold.
    support_threshold: Mapped[int | None]
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )

    theme: Mapped[Theme | None] = relationship()
    neighbourhood = relationship("Neighbourhood")
    phases: Mapped[list[Phase]] = relationship(
        back_populates="process", cascade="all, delete-orphan", order_by="Phase.position"
    )

    def publish(self) -> None:
        if self.state != ProcessState.DRAFT:
            raise InvalidProcessTransition(_("Seule une démarche en brouillon peut être publiée."))
        if not self.phases:
            raise InvalidProcessTransition(_("Ajoutez au moins une phase avant de publier."))
        self.state = ProcessState.PUBLISHED
        self.published_at = sa.func.now()

    def archive(self) -> None:
        if self.state == ProcessState.ARCHIVED:
            raise InvalidProcessTransition(_("Cette démarche est déjà archivée."))
        self.state = ProcessState.ARCHIVED

    def current_phase(self, today: date) -> Phase | None:
        for phase in self.phases:
            if phase.starts_on <= today <= phase.ends_on:
                return phase
        return None

    def allows(self, action: str, today: date) -> bool:
        """Is ``action`` ("propose", "support", "comment", "debate") open today?"""
        phase = self.current_phase(today)
        return (
            self.state == ProcessState.PUBLISHED
            and phase is not None
            and bool(getattr(phase, f"allows_{action}"))
        )


class Phase(db.Model):
    __tablename__ = "phases"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.processes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[PhaseKind] = mapped_column(str_enum(PhaseKind, "phase_kind"))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    allows_propose: Mapped[bool] = mapped_column(default=False)
    allows_support: Mapped[bool] = mapped_column(default=False)
    allows_comment: Mapped[bool] = mapped_column(default=False)
    allows_debate: Mapped[bool] = mapped_column(default=False)

    process: Mapped[Process] = relationship(back_populates="phases")
