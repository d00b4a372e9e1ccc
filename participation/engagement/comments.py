"""Comments on processes, proposals and debates (tenant schema).

A comment belongs to exactly one target through its own foreign key (``process_id``,
``proposal_id`` or ``debate_id``: the tables are named, never imported). It lives here, below
the features, because all three pages carry a thread and moderation hides comments; the
threads themselves (writing, editing, paging) are ``participation.debates.services.comments``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db

COMMENT_MAX_DEPTH = 3  # a comment, a reply, a reply to the reply
#: Top-level comments shown per page of a thread (their replies come with them).
COMMENTS_PER_PAGE = 30
#: The query-string argument carrying the page of a comment thread.
COMMENT_PAGE_ARG = "commentaires"


class Comment(TimestampMixin, db.Model):
    """A comment on exactly one of: a process, a proposal, a debate."""

    __tablename__ = "comments"
    __table_args__ = (
        sa.CheckConstraint(
            "num_nonnulls(process_id, proposal_id, debate_id) = 1", name="one_target"
        ),
        sa.CheckConstraint(f"depth BETWEEN 0 AND {COMMENT_MAX_DEPTH - 1}", name="depth_range"),
        sa.Index("ix_comments_proposal", "proposal_id", "created_at"),
        sa.Index("ix_comments_debate", "debate_id", "created_at"),
        sa.Index("ix_comments_process", "process_id", "created_at"),
        sa.Index("ix_comments_parent_id", "parent_id"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.processes.id", ondelete="CASCADE")
    )
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.proposals.id", ondelete="CASCADE")
    )
    debate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.debates.id", ondelete="CASCADE")
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.comments.id", ondelete="CASCADE")
    )
    depth: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown, sanitised on render
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)

    author = relationship("User")
    parent = relationship("Comment", remote_side=[id])
