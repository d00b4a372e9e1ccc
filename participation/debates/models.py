"""Debates with arguments pour / contre (tenant schema). Comments, which also go on processes
and proposals, are ``participation.engagement.comments.Comment``."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db, str_enum


class DebateState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Side(enum.StrEnum):
    FOR = "pour"
    AGAINST = "contre"


class Debate(TimestampMixin, db.Model):
    __tablename__ = "debates"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.processes.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[DebateState] = mapped_column(
        str_enum(DebateState, "debate_state"), default=DebateState.OPEN
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )

    process = relationship("Process")
    arguments: Mapped[list[Argument]] = relationship(
        back_populates="debate", order_by="Argument.created_at", cascade="all, delete-orphan"
    )


class Argument(TimestampMixin, db.Model):
    """An argument pour or contre; a reply has a parent and the parent's side."""

    __tablename__ = "arguments"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    debate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.debates.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.arguments.id", ondelete="CASCADE")
    )
    side: Mapped[Side] = mapped_column(str_enum(Side, "argument_side"))
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(sa.Text)
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)

    debate: Mapped[Debate] = relationship(back_populates="arguments")
    author = relationship("User")
    parent = relationship("Argument", remote_side=[id])
