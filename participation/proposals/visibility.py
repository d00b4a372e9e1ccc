"""What the public sees of the proposals, decided here once for the pages, the API and the
open data.

- A proposal's page is public (:func:`is_public`) unless moderation hid it, its author is
  blocked or its process is a draft; a withdrawn proposal keeps its page.
- Lists leave withdrawn proposals out too (:func:`listed_clause`).
- Of its timeline, the API and the open data publish the public events of
  :data:`PUBLIC_EVENT_KINDS` (never an internal assignment).
- Its comments are counted as ``participation.accounts.visibility`` tells which are shown
  (:func:`comment_count`).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from participation.accounts.visibility import is_blocked, not_blocked_clause, visible_clause
from participation.engagement.comments import Comment
from participation.processes import visibility as process_visibility
from participation.processes.models import Process
from participation.proposals.models import Proposal, ProposalEventKind

PUBLIC_EVENT_KINDS = (
    ProposalEventKind.CREATED,
    ProposalEventKind.STATUS,
    ProposalEventKind.ANSWER,
    ProposalEventKind.THRESHOLD,
    ProposalEventKind.WITHDRAWN,
)


def is_public(proposal: Proposal) -> bool:
    """Shown to everyone: not hidden by moderation, author not blocked, process published."""
    return (
        proposal.hidden_at is None
        and not is_blocked(proposal.author)
        and process_visibility.is_public(proposal.process)
    )


def public_clause(proposal=Proposal):
    """SQL twin of :func:`is_public` but for the process, which the query joins or knows;
    ``proposal`` may be an alias of :class:`Proposal`."""
    return sa.and_(proposal.hidden_at.is_(None), not_blocked_clause(proposal.author_id))


def listed_clause(proposal=Proposal):
    """What a list shows of a process's proposals: not hidden nor withdrawn, author not
    blocked."""
    return sa.and_(
        proposal.hidden_at.is_(None),
        proposal.withdrawn_at.is_(None),
        not_blocked_clause(proposal.author_id),
    )


def public_proposals() -> sa.Select:
    """The listed proposals of every public process (the API's list, the open data)."""
    return (
        sa.select(Proposal)
        .join(Process, Process.id == Proposal.process_id)
        .where(process_visibility.public_clause(), listed_clause())
    )


def comment_count(rule: Callable = visible_clause):
    """The number of comments the ``rule`` keeps on the outer query's proposal, as a
    correlated scalar subquery (served by the (proposal_id, created_at) index)."""
    return (
        sa.select(sa.func.count(Comment.id))
        .where(Comment.proposal_id == Proposal.id, rule(Comment))
        .correlate(Proposal)
        .scalar_subquery()
    )
