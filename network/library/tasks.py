"""The job that copies a practice's process template into the adopting tenant."""

from __future__ import annotations

import sqlalchemy as sa

from core import clock
from core.audit import record_action
from core.db import db
from network.library.models import AdoptionStatus, PracticeAdoption
from network.library.schedule import adoption_start, template_schedule
from tenants.context import tenant_job


@tenant_job
def copy_practice_template(tenant_id: int, adoption_id: int) -> int | None:
    """Create the draft process in *this* tenant (the job runs inside ``tenant_id``'s schema)
    and record its id on the adoption. Idempotent: a done adoption is left alone."""
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState

    adoption = db.session.scalar(
        sa.select(PracticeAdoption).where(PracticeAdoption.id == adoption_id).with_for_update()
    )
    # The adoption names its tenant: a job enqueued for another tenant does nothing.
    if adoption is None or adoption.tenant_id != tenant_id:
        db.session.rollback()
        return None
    if adoption.status == AdoptionStatus.DONE:
        db.session.rollback()
        return adoption.process_id
    practice = adoption.practice
    template = practice.process_template or {}
    network = practice.network
    requested_by = adoption.requested_by
    note = (
        f"Démarche reprise de la pratique « {practice.title} » du réseau « {network.name} »"
        f" (fiche n° {practice.id}). À adapter avant publication."
    )
    description = (template.get("summary") or practice.summary or "").strip()
    process = Process(
        title=(template.get("title") or practice.title)[:200],
        summary=(template.get("summary") or practice.summary or practice.title)[:500],
        description=f"{description}\n\n*{note}*".strip(),
        state=ProcessState.DRAFT,
    )
    db.session.add(process)
    for position, (phase, starts_on, ends_on) in enumerate(
        template_schedule(template, adoption_start()), start=1
    ):
        actions = set(phase.get("actions") or [])
        process.phases.append(
            Phase(
                position=position,
                kind=PhaseKind(phase["kind"]),
                title=phase["title"][:200],
                description=phase.get("description") or "",
                starts_on=starts_on,
                ends_on=ends_on,
                allows_propose="propose" in actions,
                allows_support="support" in actions,
                allows_comment="comment" in actions,
                allows_debate="debate" in actions,
            )
        )
    db.session.flush()
    actor = requested_by.display_name if requested_by is not None else "Réseau"
    record_action(
        "network.practice_adopted",
        actor_id=None,
        actor_label=f"{actor} (réseau {network.name})"[:200],
        target_type="process",
        target_id=process.id,
        practice_id=practice.id,
        network_id=network.id,
        adoption_id=adoption.id,
    )
    adoption.process_id = process.id
    adoption.status = AdoptionStatus.DONE
    adoption.done_at = clock.utcnow()
    db.session.commit()
    return process.id
