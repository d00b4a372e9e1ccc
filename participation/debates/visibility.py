"""What the public sees of the debates, their arguments and the comments, decided here once
for the pages, the API and the open data.

- A debate is public when its process is (:func:`is_public`), and so are its arguments.
- A comment is public when its target is: a public process, a debate of one, or a proposal
  of one that is itself public (or, for the open data, listed).
- Which arguments and comments are shown in their threads (not deleted, not hidden) and
  published in the open data is ``participation.accounts.visibility``'s rule for every
  contribution.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from participation.debates.models import Argument, Debate
from participation.engagement.comments import Comment
from participation.processes import visibility as process_visibility
from participation.processes.models import Process
from participation.proposals import visibility as proposal_visibility
from participation.proposals.models import Proposal

# --------------------------------------------------------------------------- debates


def is_public(debate: Debate) -> bool:
    return process_visibility.is_public(debate.process)


def debates_of_public_processes() -> sa.Select:
    return (
        sa.select(Debate)
        .join(Process, Process.id == Debate.process_id)
        .where(process_visibility.public_clause())
    )


def arguments_of_public_debates() -> sa.Select:
    """Every argument of the public debates, shown or not."""
    return (
        sa.select(Argument)
        .join(Debate, Debate.id == Argument.debate_id)
        .join(Process, Process.id == Debate.process_id)
        .where(process_visibility.public_clause())
    )


# --------------------------------------------------------------------------- comments


def comments_on_public_targets(
    proposal_rule: Callable = proposal_visibility.public_clause,
) -> sa.Select:
    """Every comment whose target is public, shown or not: on a public process, on a
    debate of one, or on a proposal of one that ``proposal_rule`` keeps (public by
    default; the open data asks for listed ones)."""
    on_proposal = aliased(Proposal)
    on_debate = aliased(Debate)
    owner = sa.func.coalesce(Comment.process_id, on_proposal.process_id, on_debate.process_id)
    return (
        sa.select(Comment)
        .outerjoin(on_proposal, on_proposal.id == Comment.proposal_id)
        .outerjoin(on_debate, on_debate.id == Comment.debate_id)
        .join(Process, Process.id == owner)
        .where(
            process_visibility.public_clause(),
            sa.or_(Comment.proposal_id.is_(None), proposal_rule(on_proposal)),
        )
    )
