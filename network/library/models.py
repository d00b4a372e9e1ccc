"""The practice library of a network (public schema): entries, attachments, comments and
adoptions of a process template by a member territory."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db, str_enum
from network.core.models import Network
from tenants.models import Tenant
from tenants.platform.models import PlatformUser


class PracticeCategory(enum.StrEnum):
    TOOL = "tool"  # outils et méthodes
    EXPERIENCE = "experience"  # expériences et projets
    ACTOR = "actor"  # acteurs


class PracticeOutcome(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    MIXED = "mixed"


class AdoptionStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


#: French full-text document of a practice (kept in step with the migration's column).
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('french'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('french'::regconfig, coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('french'::regconfig, coalesce(tags_text, '')), 'B') || "
    "setweight(to_tsvector('french'::regconfig, coalesce(body, '')), 'C') || "
    "setweight(to_tsvector('french'::regconfig, coalesce(lessons, '')), 'C')"
)


class Practice(TimestampMixin, db.Model):
    __tablename__ = "network_practices"
    __table_args__ = (
        sa.CheckConstraint(
            "outcome IS NULL OR category = 'experience'", name="outcome_for_experiences"
        ),
        sa.CheckConstraint(
            "process_template IS NULL OR category = 'experience'",
            name="template_for_experiences",
        ),
        sa.Index("ix_network_practices_search", "search_vector", postgresql_using="gin"),
        sa.Index("ix_network_practices_tags", "tags", postgresql_using="gin"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.networks.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[PracticeCategory] = mapped_column(
        str_enum(PracticeCategory, "practice_category")
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown
    outcome: Mapped[PracticeOutcome | None] = mapped_column(
        str_enum(PracticeOutcome, "practice_outcome")
    )
    lessons: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(sa.String(40)), default=list, server_default=sa.text("'{}'::varchar[]")
    )
    # The tags joined by spaces, for the full-text document (a generated column cannot
    # use array_to_string, which is not immutable).
    tags_text: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    author_tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )
    # {"title", "summary", "description", "phases": [{"kind", "title", "description",
    #   "weeks", "actions": ["propose", ...]}]} — see network.library.templates.
    process_template: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, sa.Computed(SEARCH_DOCUMENT, persisted=True), deferred=True
    )

    network: Mapped[Network] = relationship()
    author_tenant: Mapped[Tenant | None] = relationship()
    author: Mapped[PlatformUser | None] = relationship()
    attachments: Mapped[list[PracticeAttachment]] = relationship(
        back_populates="practice", cascade="all, delete-orphan", order_by="PracticeAttachment.id"
    )
    comments: Mapped[list[PracticeComment]] = relationship(
        back_populates="practice", cascade="all, delete-orphan", order_by="PracticeComment.id"
    )


class PracticeAttachment(db.Model):
    __tablename__ = "network_practice_attachments"
    __table_args__ = {"schema": "public"}

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.network_practices.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(200))  # shown, never used on disk
    stored_name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    practice: Mapped[Practice] = relationship(back_populates="attachments")


class PracticeComment(db.Model):
    __tablename__ = "network_practice_comments"
    __table_args__ = {"schema": "public"}

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.network_practices.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )
    author_tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    practice: Mapped[Practice] = relationship(back_populates="comments")
    author: Mapped[PlatformUser | None] = relationship()
    author_tenant: Mapped[Tenant | None] = relationship()


class PracticeAdoption(db.Model):
    """A member territory copied a practice's template: the job fills ``process_id``."""

    __tablename__ = "network_practice_adoptions"
    __table_args__ = {"schema": "public"}

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.network_practices.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="SET NULL")
    )
    status: Mapped[AdoptionStatus] = mapped_column(
        str_enum(AdoptionStatus, "adoption_status"), default=AdoptionStatus.PENDING
    )
    # Id of the draft process in the tenant's schema (no foreign key across schemas).
    process_id: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    practice: Mapped[Practice] = relationship()
    tenant: Mapped[Tenant] = relationship()
    requested_by: Mapped[PlatformUser | None] = relationship()
