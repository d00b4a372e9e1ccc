"""The collectivité's answer workflow: a proposal's status (with its public reason), the
official answer, both from one form with one notification, a status changed for many
proposals at once, and the assignment to a service, an agent and a due date (internal).
Every change writes a timeline event and an audit row in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from core import clock
from core.audit import audit
from core.db import db
from core.mail import send_mail
from core.markdown import plain_text
from participation.accounts.models import Service, User
from participation.proposals.models import (
    Proposal,
    ProposalEvent,
    ProposalEventKind,
    ProposalStatus,
)
from participation.proposals.services.common import (
    ANSWER_MAX,
    REASON_MAX,
    ProposalError,
    clean_text,
)
from participation.proposals.services.notifications import notify_author_and_followers
from participation.proposals.services.scope import (
    agents_by_service,
    can_answer,
    is_manager,
    scope_clause,
    service_ids_of,
)
from participation.proposals.services.settings import status_label
from tenants.context import current_tenant


def _check_manageable(proposal: Proposal, actor: User) -> None:
    if not can_answer(actor, proposal):
        raise ProposalError(_("Cette proposition ne relève pas de vos services."))


def _staff_event(
    proposal: Proposal, actor: User, kind: ProposalEventKind, body: str | None, **fields
) -> ProposalEvent:
    """The timeline event of ``actor``'s change (public unless ``is_public=False``), flushed
    so that the audit row and the notifications that follow can name it."""
    fields.setdefault("is_public", True)
    event = ProposalEvent(
        proposal_id=proposal.id, kind=kind, body=body, actor_id=actor.id, **fields
    )
    db.session.add(event)
    db.session.flush()
    return event


def _checked_status(
    status: ProposalStatus | str, reason: str | None, *, several: bool = False
) -> ProposalStatus:
    """``status`` as a ProposalStatus, refusing "Non retenue" without its reason (public and
    required); ``several`` words the refusal for a change of several proposals at once."""
    try:
        status = ProposalStatus(status)
    except ValueError:
        raise ProposalError(_("Choisissez un statut."), "status") from None
    if status == ProposalStatus.REJECTED and not clean_text(reason):
        if several:
            message = _(
                "Indiquez pourquoi les propositions ne sont pas retenues : cette raison est "
                "publique et obligatoire."
            )
        else:
            message = _(
                "Indiquez pourquoi la proposition n'est pas retenue : cette raison est "
                "publique et obligatoire."
            )
        raise ProposalError(message, "reason")
    return status


def change_status(
    proposal: Proposal,
    status: ProposalStatus | str,
    actor: User,
    *,
    reason: str | None = None,
    notify: bool = True,
    bulk: bool = False,
) -> ProposalEvent | None:
    """Move the proposal to ``status`` (a public timeline event, an audit row, and the
    author and followers notified). "Non retenue" needs a reason, made public. Returns
    None when nothing changes."""
    _check_manageable(proposal, actor)
    status = _checked_status(status, reason)
    reason = clean_text(reason) or None
    if reason and len(reason) > REASON_MAX:
        raise ProposalError(
            _("Ce texte ne peut pas dépasser %(n)s caractères.", n="5 000"), "reason"
        )
    if proposal.withdrawn_at is not None:
        raise ProposalError(_("Cette proposition a été retirée par son auteur ou son autrice."))
    if status == proposal.status and (reason or None) == (proposal.status_reason or None):
        return None
    previous = proposal.status
    proposal.status = status
    proposal.status_reason = reason
    event = _staff_event(
        proposal,
        actor,
        ProposalEventKind.STATUS,
        reason,
        from_status=previous.value if previous else None,
        to_status=status.value,
    )
    audit(
        "proposals.status_changed",
        actor,
        "proposal",
        proposal.id,
        before=previous.value if previous else None,
        after=status.value,
        reason=reason,
        bulk=bulk,
    )
    if notify:
        label = status_label(status)
        notify_author_and_followers(
            proposal,
            kind="status.proposal",
            title=_("« %(title)s » : %(label)s", title=proposal.title, label=label),
            body=reason
            or _("Le statut de la proposition est désormais « %(label)s ».", label=label),
            actor_id=actor.id,
        )
    return event


def set_answer(
    proposal: Proposal, answer: str | None, actor: User, *, notify: bool = True
) -> ProposalEvent | None:
    """Publish (or correct) the collectivité's official answer, in Markdown."""
    _check_manageable(proposal, actor)
    answer = clean_text(answer) or None
    if answer and len(answer) > ANSWER_MAX:
        raise ProposalError(
            _("La réponse ne peut pas dépasser %(n)s caractères.", n="20 000"), "answer"
        )
    if answer == (proposal.answer or None):
        return None
    if answer is None:
        raise ProposalError(
            _("Une réponse publiée ne peut pas être effacée : corrigez-la plutôt."), "answer"
        )
    first = proposal.answer is None
    proposal.answer = answer
    proposal.answered_at = clock.utcnow()
    proposal.answered_by_id = actor.id
    event = _staff_event(proposal, actor, ProposalEventKind.ANSWER, answer)
    audit("proposals.answered", actor, "proposal", proposal.id, first=first, length=len(answer))
    if notify:
        notify_author_and_followers(
            proposal,
            kind="answer.proposal",
            title=_("Réponse de la collectivité : « %(title)s »", title=proposal.title),
            body=plain_text(answer, 300),
            actor_id=actor.id,
        )
    return event


def answer_proposal(
    proposal: Proposal,
    actor: User,
    *,
    status: ProposalStatus | str,
    reason: str | None,
    answer: str | None,
) -> list[ProposalEvent]:
    """The answer form: a status and the public answer, one notification for both."""
    _check_manageable(proposal, actor)
    # Validate everything before changing anything.
    wanted = _checked_status(status, reason)
    status_event = change_status(proposal, wanted, actor, reason=reason, notify=False)
    answer_event = set_answer(proposal, answer, actor, notify=False)
    events = [e for e in (status_event, answer_event) if e is not None]
    if not events:
        return events
    label = status_label(proposal.status)
    if status_event is not None:
        title = _("« %(title)s » : %(label)s", title=proposal.title, label=label)
        kind = "status.proposal"
    else:
        title = _("Réponse de la collectivité : « %(title)s »", title=proposal.title)
        kind = "answer.proposal"
    parts = []
    if status_event is not None:
        parts.append(_("Nouveau statut : %(label)s.", label=label))
        if proposal.status_reason:
            parts.append(plain_text(proposal.status_reason, 300))
    if answer_event is not None:
        parts.append(plain_text(proposal.answer, 300))
    notify_author_and_followers(
        proposal, kind=kind, title=title, body=" ".join(parts), actor_id=actor.id
    )
    return events


def assign_proposal(
    proposal: Proposal,
    actor: User,
    *,
    service: Service | None,
    assignee: User | None,
    due_on: date | None,
    today: date | None = None,
    mail_assignee: bool = True,
) -> ProposalEvent | None:
    """Entrust the proposal to a service, one of its agents, with a due date (internal).
    A newly chosen agent gets an e-mail (unless they assigned it to themselves)."""
    _check_manageable(proposal, actor)
    today = today or clock.paris_today()
    if assignee is not None and service is None:
        raise ProposalError(_("Choisissez d'abord le service de cet agent."), "service_id")
    if service is not None and not is_manager(actor) and service.id not in service_ids_of(actor):
        raise ProposalError(
            _("Vous ne pouvez confier une proposition qu'à l'un de vos services."), "service_id"
        )
    if assignee is not None:
        members = {u.id for u in agents_by_service([service]).get(service.id, [])}
        if assignee.id not in members:
            raise ProposalError(
                _(
                    "%(name)s ne fait pas partie du service %(service)s.",
                    name=assignee.display_name,
                    service=service.name,
                ),
                "assignee_id",
            )
    if due_on is not None and due_on < today and due_on != proposal.due_on:
        raise ProposalError(_("L'échéance ne peut pas être dans le passé."), "due_on")
    before = (proposal.service_id, proposal.assignee_id, proposal.due_on)
    after = (
        service.id if service else None,
        assignee.id if assignee else None,
        due_on,
    )
    if before == after:
        return None
    proposal.service_id, proposal.assignee_id, proposal.due_on = after
    parts = [
        _("Service : %(name)s", name=service.name) if service else _("Aucun service"),
        _("Agent : %(name)s", name=assignee.display_name) if assignee else _("Aucun agent"),
        _("Échéance : %(date)s", date=due_on.strftime("%d/%m/%Y"))
        if due_on
        else _("Sans échéance"),
    ]
    event = _staff_event(
        proposal,
        actor,
        ProposalEventKind.ASSIGNMENT,
        " ; ".join(str(p) for p in parts),
        is_public=False,
    )
    audit(
        "proposals.assigned",
        actor,
        "proposal",
        proposal.id,
        service=service.name if service else None,
        assignee_id=after[1],
        due_on=due_on.isoformat() if due_on else None,
        before={
            "service_id": before[0],
            "assignee_id": before[1],
            "due_on": before[2].isoformat() if before[2] else None,
        },
    )
    if (
        mail_assignee
        and assignee is not None
        and assignee.id != before[1]
        and assignee.id != actor.id
    ):
        _mail_assignee(proposal, assignee, actor, service, due_on)
    return event


def _mail_assignee(
    proposal: Proposal, assignee: User, actor: User, service: Service, due_on: date | None
) -> None:
    if not assignee.email:
        return
    from tenants.urls import tenant_url

    send_mail(
        assignee.email,
        "proposal_assigned",
        proposal_title=proposal.title,
        staff_link=tenant_url(current_tenant(), "staff_proposals.answer", proposal_id=proposal.id),
        assignee_name=assignee.display_name,
        actor_name=actor.display_name,
        service_name=service.name,
        due_on=due_on,
        tenant=current_tenant(),
    )


def bulk_change_status(
    proposal_ids: Iterable[int], status: ProposalStatus | str, reason: str | None, actor: User
) -> tuple[int, int]:
    """Change the status of several proposals; returns (changed, skipped). Proposals out of
    ``actor``'s scope, withdrawn or already in that status are skipped."""
    status = _checked_status(status, reason, several=True)
    ids = sorted({int(i) for i in proposal_ids})
    if not ids:
        raise ProposalError(_("Cochez au moins une proposition."), "proposal_ids")
    proposals = db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.id.in_(ids), scope_clause(actor))
        .order_by(Proposal.id)
        .with_for_update(of=Proposal)
        .execution_options(populate_existing=True)
    ).all()
    changed = 0
    for proposal in proposals:
        if proposal.withdrawn_at is not None:
            continue
        if proposal.status == status:
            # Already there: a bulk change is about the status, so no event, audit entry or
            # notification, and its own public reason is not overwritten by the batch's.
            continue
        if change_status(proposal, status, actor, reason=reason, bulk=True) is not None:
            changed += 1
    return changed, len(ids) - changed
