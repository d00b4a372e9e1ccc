"""The forum of a network (public schema): questions and answers between member agents."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db
from network.core.models import Network
from tenants.models import Tenant
from tenants.platform.models import PlatformUser


class ForumQuestion(TimestampMixin, db.Model):
    __tablename__ = "network_forum_questions"
    __table_args__ = {"schema": "public"}

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.networks.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL"), index=True
    )
    author_tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown
    last_activity_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), index=True
    )

    network: Mapped[Network] = relationship()
    author: Mapped[PlatformUser | None] = relationship()
    author_tenant: Mapped[Tenant | None] = relationship()
    answers: Mapped[list[ForumAnswer]] = relationship(
        back_populates="question", cascade="all, delete-orphan", order_by="ForumAnswer.id"
    )


class ForumAnswer(db.Model):
    __tablename__ = "network_forum_answers"
    __table_args__ = {"schema": "public"}

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.network_forum_questions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL"), index=True
    )
    author_tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    question: Mapped[ForumQuestion] = relationship(back_populates="answers")
    author: Mapped[PlatformUser | None] = relationship()
    author_tenant: Mapped[Tenant | None] = relationship()
