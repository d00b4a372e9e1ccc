"""Reports of local problems (signalements), their categories and timeline (tenant schema).

The moderation table is already called ``reports``: these tables are ``problem_*``.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db, str_enum


class ProblemStatus(enum.StrEnum):
    NEW = "new"  # « Nouveau »
    ACKNOWLEDGED = "acknowledged"  # « Pris en charge »
    IN_PROGRESS = "in_progress"  # « En cours »
    RESOLVED = "resolved"  # « Résolu »
    REJECTED = "rejected"  # « Rejeté » (a public reason is required)


#: The path a report follows; « Rejeté » can end any step before « Résolu ».
STATUS_ORDER = (
    ProblemStatus.NEW,
    ProblemStatus.ACKNOWLEDGED,
    ProblemStatus.IN_PROGRESS,
    ProblemStatus.RESOLVED,
)
FINAL_STATUSES = frozenset({ProblemStatus.RESOLVED, ProblemStatus.REJECTED})


class ProblemCategory(TimestampMixin, db.Model):
    """A staff-managed kind of problem, routed by default to one service."""

    __tablename__ = "problem_categories"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    description: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    service_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.services.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    service = relationship("Service")


class ProblemReport(TimestampMixin, db.Model):
    __tablename__ = "problem_reports"
    __table_args__ = (
        sa.CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_together"),
        sa.CheckConstraint(
            "latitude IS NOT NULL OR coalesce(address, '') <> ''", name="has_location"
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR status_reason IS NOT NULL", name="rejection_has_reason"
        ),
        sa.Index("ix_problem_reports_status_created", "status", "created_at"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.problem_categories.id", ondelete="RESTRICT"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL"), index=True
    )
    #: The reporter asked not to show their name publicly (staff still see it).
    is_anonymous: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    description: Mapped[str] = mapped_column(sa.Text)  # plain text, escaped on render
    address: Mapped[str | None] = mapped_column(sa.String(300))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    image_name: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[ProblemStatus] = mapped_column(
        str_enum(ProblemStatus, "problem_status"), default=ProblemStatus.NEW
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    service_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.services.id", ondelete="SET NULL"), index=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)

    category: Mapped[ProblemCategory] = relationship()
    reporter = relationship("User")
    service = relationship("Service")
    events: Mapped[list[ProblemReportEvent]] = relationship(
        back_populates="report",
        order_by="ProblemReportEvent.id",
        cascade="all, delete-orphan",
    )

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class ProblemEventKind(enum.StrEnum):
    CREATED = "created"
    STATUS = "status"  # public, with the public comment of the step
    ASSIGNMENT = "assignment"  # the service changed (internal)
    HIDDEN = "hidden"  # moderation (internal)
    RESTORED = "restored"


class ProblemReportEvent(db.Model):
    """The report's timeline: public steps are shown on its page."""

    __tablename__ = "problem_report_events"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.problem_reports.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ProblemEventKind] = mapped_column(str_enum(ProblemEventKind, "problem_event_kind"))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    service_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.services.id", ondelete="SET NULL")
    )
    body: Mapped[str | None] = mapped_column(sa.Text)
    is_public: Mapped[bool] = mapped_column(default=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    report: Mapped[ProblemReport] = relationship(back_populates="events")
    actor = relationship("User")
    service = relationship("Service")
