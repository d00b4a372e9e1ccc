"""Follows, notifications and moderation reports (tenant schema).

Follows and reports point at their target by ``(target_type, target_id)``: they are
looked up from the target, never joined across all kinds at once.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, db, str_enum


class TargetType(enum.StrEnum):
    PROCESS = "process"
    PROPOSAL = "proposal"
    DEBATE = "debate"
    ARGUMENT = "argument"
    COMMENT = "comment"
    USER = "user"


class Follow(db.Model):
    __tablename__ = "follows"
    __table_args__ = (
        sa.Index("ix_follows_target", "target_type", "target_id"),
        TENANT,
    )

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="CASCADE"), primary_key=True
    )
    target_type: Mapped[TargetType] = mapped_column(
        str_enum(TargetType, "target_type"), primary_key=True
    )
    target_id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class Notification(db.Model):
    """An in-app notification; e-mailed at once or in the daily digest."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
        sa.Index("ix_notifications_digest", "user_id", "emailed_at"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(50))
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    url: Mapped[str | None] = mapped_column(sa.String(500))  # a local path
    target_type: Mapped[str | None] = mapped_column(sa.String(20))
    target_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    emailed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user = relationship("User")


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"  # insultes, harcèlement
    HATE = "hate"  # propos haineux ou discriminatoires
    PERSONAL_DATA = "personal_data"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # content hidden or user blocked
    DISMISSED = "dismissed"


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        sa.Index("ix_reports_status", "status", "created_at"),
        sa.Index("ix_reports_target", "target_type", "target_id"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    target_type: Mapped[TargetType] = mapped_column(str_enum(TargetType, "target_type"))
    target_id: Mapped[int]
    reason: Mapped[ReportReason] = mapped_column(str_enum(ReportReason, "report_reason"))
    details: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ReportStatus] = mapped_column(
        str_enum(ReportStatus, "report_status"), default=ReportStatus.OPEN
    )
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    reporter = relationship("User", foreign_keys=[reporter_id])
