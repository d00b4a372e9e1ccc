"""Supports: one per citizen and proposal, while the proposal and its process's support
phase are open; the first time a process's threshold is reached, the proposal moves from
"Reçue" to "À l'étude".

The ``supports`` primary key (proposal, user) makes one support per citizen, and a trigger
keeps ``proposals.supports_count`` in step inside the same transaction, so counts stay
exact whatever the concurrency. The trigger's UPDATE also takes the proposal's row lock,
which serialises the threshold check below.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core import clock
from core.db import db
from participation.accounts.models import User
from participation.proposals.models import (
    Proposal,
    ProposalEvent,
    ProposalEventKind,
    ProposalStatus,
    Support,
)
from participation.proposals.services.common import SUPPORTABLE_STATUSES, ProposalError
from participation.proposals.services.notifications import notify_author_and_followers
from participation.proposals.services.settings import status_label


def support_refusal(proposal: Proposal, user: User | None, today: date) -> str | None:
    """Why ``user`` may not support (or stop supporting) ``proposal`` today, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return _("Connectez-vous pour soutenir cette proposition.")
    if not user.is_active:
        return _("Votre compte ne permet pas de participer.")
    if proposal.withdrawn_at is not None or proposal.hidden_at is not None:
        return _("Cette proposition n'est plus ouverte aux soutiens.")
    if proposal.author_id == user.id:
        return _("Vous ne pouvez pas soutenir votre propre proposition.")
    if proposal.status not in SUPPORTABLE_STATUSES:
        return _("Cette proposition n'est plus ouverte aux soutiens.")
    if not proposal.process.allows("support", today):
        return _("La phase de soutien de cette démarche n'est pas ouverte en ce moment.")
    return None


def add_support(proposal: Proposal, user: User, today: date | None = None) -> bool:
    """Support ``proposal``; False when ``user`` already did (nothing changes then).

    ``ON CONFLICT DO NOTHING`` on the primary key: two concurrent clicks give one support,
    and the trigger counts only the row actually inserted.
    """
    refusal = support_refusal(proposal, user, today or clock.paris_today())
    if refusal:
        raise ProposalError(refusal)
    inserted = db.session.execute(
        pg_insert(Support)
        .values(proposal_id=proposal.id, user_id=user.id)
        .on_conflict_do_nothing(index_elements=["proposal_id", "user_id"])
        .returning(Support.user_id)
    ).first()
    if inserted is None:
        return False
    _reach_threshold(proposal)
    db.session.refresh(proposal, ["supports_count", "status", "status_reason"])
    return True


def remove_support(proposal: Proposal, user: User, today: date | None = None) -> bool:
    """Withdraw ``user``'s support; False when there was none."""
    refusal = support_refusal(proposal, user, today or clock.paris_today())
    if refusal:
        raise ProposalError(refusal)
    deleted = db.session.execute(
        sa.delete(Support)
        .where(Support.proposal_id == proposal.id, Support.user_id == user.id)
        .returning(Support.user_id)
    ).first()
    db.session.refresh(proposal, ["supports_count"])
    return deleted is not None


def _reach_threshold(proposal: Proposal) -> bool:
    """Move a "Reçue" proposal to "À l'étude" the first time its process's threshold is
    reached. One statement: our trigger already holds the proposal's row lock, so two
    supporters crossing the threshold together cannot both move it."""
    threshold = proposal.process.support_threshold
    if not threshold:
        return False
    already = (
        sa.select(ProposalEvent.id)
        .where(
            ProposalEvent.proposal_id == proposal.id,
            ProposalEvent.kind == ProposalEventKind.THRESHOLD,
        )
        .exists()
    )
    moved = db.session.execute(
        sa.update(Proposal)
        .where(
            Proposal.id == proposal.id,
            Proposal.status == ProposalStatus.RECEIVED,
            Proposal.supports_count >= threshold,
            ~already,
        )
        .values(status=ProposalStatus.STUDYING)
        .returning(Proposal.id)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        return False
    db.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            kind=ProposalEventKind.THRESHOLD,
            from_status=ProposalStatus.RECEIVED.value,
            to_status=ProposalStatus.STUDYING.value,
            body=str(threshold),
            is_public=True,
        )
    )
    db.session.flush()
    label = status_label(ProposalStatus.STUDYING)
    notify_author_and_followers(
        proposal,
        kind="status.proposal",
        title=_("« %(title)s » : %(label)s", title=proposal.title, label=label),
        body=_(
            "La proposition a atteint %(n)d soutiens : la collectivité va l'étudier.",
            n=threshold,
        ),
        actor_id=None,
    )
    return True
