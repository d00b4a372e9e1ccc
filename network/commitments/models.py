"""Commitments of member territories (an action plan) and the comments of the network's
coordinators and evaluators (public schema)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db
from network.core.models import Network
from tenants.models import Tenant
from tenants.platform.models import PlatformUser


class CommitmentStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ABANDONED = "abandoned"


def _status_enum() -> sa.Enum:
    return sa.Enum(
        CommitmentStatus,
        name="commitment_status",
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        create_constraint=False,
    )


class Commitment(TimestampMixin, db.Model):
    __tablename__ = "network_commitments"
    __table_args__ = (
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        sa.Index("ix_network_commitments_network_tenant", "network_id", "tenant_id"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(sa.ForeignKey("public.networks.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("public.tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[CommitmentStatus] = mapped_column(
        _status_enum(), default=CommitmentStatus.PLANNED
    )
    progress: Mapped[int] = mapped_column(default=0)
    evidence_text: Mapped[str] = mapped_column(sa.Text, default="")
    evidence_url: Mapped[str | None] = mapped_column(sa.String(500))
    evidence_file: Mapped[str | None] = mapped_column(sa.String(100))  # random stored name
    evidence_filename: Mapped[str | None] = mapped_column(sa.String(200))  # shown name
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    completed_on: Mapped[date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )

    network: Mapped[Network] = relationship()
    tenant: Mapped[Tenant] = relationship()
    created_by: Mapped[PlatformUser | None] = relationship(foreign_keys=[created_by_id])
    comments: Mapped[list[CommitmentComment]] = relationship(
        back_populates="commitment",
        order_by="CommitmentComment.created_at",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Commitment {self.id} t{self.tenant_id} {self.status} {self.progress}%>"


class CommitmentComment(db.Model):
    __tablename__ = "network_commitment_comments"
    __table_args__ = (
        sa.Index("ix_network_commitment_comments_commitment_id", "commitment_id"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        sa.ForeignKey(
            "public.network_commitments.id",
            ondelete="CASCADE",
            name="fk_network_commitment_comments_commitment_id",
        ),
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(
            "public.platform_users.id",
            ondelete="SET NULL",
            name="fk_network_commitment_comments_author_id",
        )
    )
    author_role: Mapped[str] = mapped_column(sa.String(20))  # coordinator / evaluator
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    commitment: Mapped[Commitment] = relationship(back_populates="comments")
    author: Mapped[PlatformUser | None] = relationship()

    def __repr__(self) -> str:
        return f"<CommitmentComment {self.id} on {self.commitment_id} by {self.author_role}>"
