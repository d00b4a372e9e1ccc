"""Public meetings, registrations with a waiting list, proposals made at a meeting
(tenant schema)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db, str_enum


class Meeting(TimestampMixin, db.Model):
    __tablename__ = "meetings"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint(
            "coalesce(address, '') <> '' OR coalesce(online_url, '') <> ''", name="has_place"
        ),
        sa.Index("ix_meetings_starts_at", "starts_at"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")  # Markdown
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: Places; None means no limit (and so no waiting list).
    capacity: Mapped[int | None]
    process_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.processes.id", ondelete="SET NULL"), index=True
    )
    phase_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.phases.id", ondelete="SET NULL")
    )
    registration_open: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cancellation_reason: Mapped[str | None] = mapped_column(sa.Text)
    minutes: Mapped[str | None] = mapped_column(sa.Text)  # Markdown, sanitised on render
    minutes_published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )

    process = relationship("Process")
    phase = relationship("Phase")
    registrations: Mapped[list[MeetingRegistration]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", lazy="raise_on_sql"
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"  # a place
    WAITING = "waiting"  # on the waiting list, in ``queued_at`` order
    CANCELLED = "cancelled"


class MeetingRegistration(db.Model):
    """One row per person and meeting: re-registering after a cancellation reuses it."""

    __tablename__ = "meeting_registrations"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "user_id", name="uq_meeting_registrations_meeting_id"),
        sa.Index("ix_meeting_registrations_queue", "meeting_id", "status", "queued_at"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.meetings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status")
    )
    queued_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.clock_timestamp()
    )
    promoted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    meeting: Mapped[Meeting] = relationship(back_populates="registrations")
    user = relationship("User")


class MeetingProposal(db.Model):
    """A proposal made at the meeting and entered by staff (a staff entry, audited)."""

    __tablename__ = "meeting_proposals"
    __table_args__ = TENANT

    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.meetings.id", ondelete="CASCADE"), primary_key=True
    )
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.proposals.id", ondelete="CASCADE"), primary_key=True, unique=True
    )
    speaker: Mapped[str | None] = mapped_column(sa.String(120))
    entered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    meeting = relationship("Meeting")
    proposal = relationship("Proposal")
    entered_by = relationship("User")
