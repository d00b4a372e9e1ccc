"""Proposals, their supports and their public timeline (tenant schema)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db, str_enum


class ProposalStatus(enum.StrEnum):
    RECEIVED = "received"  # « Reçue »
    STUDYING = "studying"  # « À l'étude »
    ACCEPTED = "accepted"  # « Retenue »
    REJECTED = "rejected"  # « Non retenue » (a reason is required)
    DONE = "done"  # « Réalisée »


#: Translated when shown (lazy): the collectivité's own labels, when it set some, win.
DEFAULT_STATUS_LABELS = {
    ProposalStatus.RECEIVED: _l("Reçue"),
    ProposalStatus.STUDYING: _l("À l'étude"),
    ProposalStatus.ACCEPTED: _l("Retenue"),
    ProposalStatus.REJECTED: _l("Non retenue"),
    ProposalStatus.DONE: _l("Réalisée"),
}


class Proposal(TimestampMixin, db.Model):
    __tablename__ = "proposals"
    __table_args__ = (
        sa.CheckConstraint("supports_count >= 0", name="supports_count_positive"),
        sa.CheckConstraint(
            "status <> 'rejected' OR status_reason IS NOT NULL", name="rejection_has_reason"
        ),
        sa.Index("ix_proposals_search", "search_vector", postgresql_using="gin"),
        sa.Index("ix_proposals_process_created", "process_id", "created_at"),
        # Room on each page for the row versions the support trigger writes (HOT
        # updates: the indexes, the search vector's GIN included, are not touched).
        {**TENANT, "postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.processes.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown, sanitised on render
    theme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.themes.id", ondelete="SET NULL")
    )
    neighbourhood_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.neighbourhoods.id", ondelete="SET NULL")
    )
    image_path: Mapped[str | None] = mapped_column(sa.String(300))
    image_alt: Mapped[str | None] = mapped_column(sa.String(300))  # the image described
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)

    status: Mapped[ProposalStatus] = mapped_column(
        str_enum(ProposalStatus, "proposal_status"), default=ProposalStatus.RECEIVED
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    answer: Mapped[str | None] = mapped_column(sa.Text)  # the official public answer
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    answered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    service_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.services.id", ondelete="SET NULL"), index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    due_on: Mapped[date | None] = mapped_column(sa.Date)

    # Maintained by a trigger on ``supports``: exact under concurrency.
    supports_count: Mapped[int] = mapped_column(default=0, server_default="0")
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)
    search_vector = mapped_column(
        TSVECTOR,
        sa.Computed(
            "setweight(to_tsvector('french', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('french', coalesce(body, '')), 'B')",
            persisted=True,
        ),
        deferred=True,
    )

    process = relationship("Process")
    author = relationship("User", foreign_keys=[author_id])
    assignee = relationship("User", foreign_keys=[assignee_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    service = relationship("Service")
    theme = relationship("Theme")
    neighbourhood = relationship("Neighbourhood")
    events: Mapped[list[ProposalEvent]] = relationship(
        back_populates="proposal", order_by="ProposalEvent.created_at", cascade="all, delete-orphan"
    )

    @property
    def is_visible(self) -> bool:
        return self.hidden_at is None and self.withdrawn_at is None


class Support(db.Model):
    """One support per citizen and proposal: the primary key makes it so."""

    __tablename__ = "supports"
    __table_args__ = TENANT

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.proposals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class ProposalEventKind(enum.StrEnum):
    CREATED = "created"
    STATUS = "status"  # a status change, public
    ANSWER = "answer"  # the official answer text, public
    ASSIGNMENT = "assignment"  # service / agent / due date, internal
    THRESHOLD = "threshold"  # the support threshold was reached
    WITHDRAWN = "withdrawn"


class ProposalEvent(db.Model):
    """The proposal's timeline. Public events are shown to everyone."""

    __tablename__ = "proposal_events"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.proposals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ProposalEventKind] = mapped_column(
        str_enum(ProposalEventKind, "proposal_event_kind")
    )
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    body: Mapped[str | None] = mapped_column(sa.Text)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    is_public: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    proposal: Mapped[Proposal] = relationship(back_populates="events")
    actor = relationship("User")
