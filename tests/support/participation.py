"""Participation data for the tests: processes, proposals and what they lead to (supports,
timeline events, notifications), the tenant's settings and services, and a counter of the
SQL statements a block sends. Everything is made through the models or the services, inside
the tenant, and read back in an app context of its own (what is committed)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event

from core.db import db
from tests.support.people import Person, create_person, signed_in

#: The day the participation tests live on (the ``today`` fixture freezes core.clock on it).
TODAY = date(2027, 3, 15)
#: A valid 1×1 PNG (core.uploads decodes and re-encodes every image: a file with a bad
#: checksum is refused as damaged).
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)


# --------------------------------------------------------------------------- data


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


OPEN_PHASE = ("propose", "support", "comment")


def create_process(app, tenant, title: str | None = None, *, state="published", phases=(), **kw):
    """A process with ``phases`` (dicts of Phase columns, numbered in order) made directly
    in the database, then published (or archived) as ``state`` says; returns its id."""
    from participation.processes.models import Phase, Process, ProcessState
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        process = Process(
            title=title or f"Démarche {uuid.uuid4().hex[:8]}",
            summary=kw.pop("summary", "Un résumé de la démarche."),
            state=ProcessState.DRAFT,
            **kw,
        )
        for position, values in enumerate(phases, start=1):
            process.phases.append(Phase(position=position, **values))
        db.session.add(process)
        db.session.flush()
        if state != "draft":
            process.publish()
        if state == "archived":
            process.archive()
        db.session.commit()
        return process.id


def make_process(
    app,
    tenant,
    *,
    actions: tuple[str, ...] = OPEN_PHASE,
    threshold: int | None = None,
    state: str = "published",
    start: int = -10,
    end: int = 20,
    title: str | None = None,
    base: date = TODAY,
) -> int:
    """A process with one phase from ``start`` to ``end`` days around ``base`` (TODAY)
    opening ``actions``; returns its id."""
    from participation.processes.models import PhaseKind

    phase = {
        "kind": PhaseKind.CONTRIBUTIONS,
        "title": "Vos propositions",
        "starts_on": base + timedelta(days=start),
        "ends_on": base + timedelta(days=end),
        **{f"allows_{action}": True for action in actions},
    }
    return create_process(
        app,
        tenant,
        title,
        state=state,
        phases=[phase],
        summary="Une démarche de test.",
        support_threshold=threshold,
    )


def citizen(app, tenant, **kwargs) -> Person:
    return create_person(app, tenant, None, **kwargs)


def make_proposal(
    app,
    tenant,
    process_id: int,
    author: Person,
    title: str | None = None,
    body: str = "Une description suffisamment longue pour être acceptée.",
    **fields,
) -> int:
    """A proposal made through the service (phase rules checked on TODAY); returns its id."""
    from participation.accounts.models import User
    from participation.proposals import services
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        process = services.get_process(process_id)
        proposal = services.create_proposal(
            process,
            db.session.get(User, author.id),
            title=title or f"Proposition {uuid.uuid4().hex[:8]}",
            body=body,
            today=TODAY,
            **fields,
        )
        db.session.commit()
        return proposal.id


def bulk_proposals(app, tenant, process_id: int, author_id: int, n: int, **values) -> list[int]:
    """``n`` proposals inserted in one statement (no timeline, no follow): list fixtures."""
    from participation.proposals.models import Proposal
    from tenants.context import tenant_context

    now = datetime.now(UTC)
    rows = [
        {
            "process_id": process_id,
            "author_id": author_id,
            "title": values.get("title", "Proposition {i}").format(i=i),
            "body": values.get("body", "Texte de la proposition numéro {i}.").format(i=i),
            "created_at": now - timedelta(minutes=i),
            "updated_at": now - timedelta(minutes=i),
            **{k: v for k, v in values.items() if k not in ("title", "body")},
        }
        for i in range(n)
    ]
    with app.app_context(), tenant_context(tenant):
        ids = db.session.scalars(sa.insert(Proposal).returning(Proposal.id), rows).all()
        db.session.commit()
        return list(ids)


def read(app, tenant, func):
    """``func()`` inside the tenant, in a fresh app context (reads what is committed)."""
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        return func()


def proposal_row(app, tenant, proposal_id: int) -> dict:
    from participation.proposals.models import Proposal

    def load():
        p = db.session.get(Proposal, proposal_id)
        return {
            "status": p.status.value,
            "status_reason": p.status_reason,
            "supports_count": p.supports_count,
            "answer": p.answer,
            "service_id": p.service_id,
            "assignee_id": p.assignee_id,
            "due_on": p.due_on,
            "withdrawn_at": p.withdrawn_at,
            "title": p.title,
            "body": p.body,
            "latitude": p.latitude,
            "longitude": p.longitude,
            "image_path": p.image_path,
            "edited_at": p.edited_at,
        }

    return read(app, tenant, load)


def support_rows(app, tenant, proposal_id: int) -> int:
    from participation.proposals.models import Support

    return read(
        app,
        tenant,
        lambda: db.session.scalar(
            sa.select(sa.func.count()).where(Support.proposal_id == proposal_id)
        ),
    )


def events_of(app, tenant, proposal_id: int) -> list[dict]:
    from participation.proposals.models import ProposalEvent

    def load():
        rows = db.session.scalars(
            sa.select(ProposalEvent)
            .where(ProposalEvent.proposal_id == proposal_id)
            .order_by(ProposalEvent.id)
        )
        return [
            {
                "kind": e.kind.value,
                "from": e.from_status,
                "to": e.to_status,
                "body": e.body,
                "public": e.is_public,
                "actor_id": e.actor_id,
            }
            for e in rows
        ]

    return read(app, tenant, load)


def notifications_of(app, tenant, user_id: int) -> list[dict]:
    from participation.engagement.models import Notification

    def load():
        rows = db.session.scalars(
            sa.select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
        )
        return [{"kind": n.kind, "title": n.title, "body": n.body, "url": n.url} for n in rows]

    return read(app, tenant, load)


def set_setting(app, tenant, key: str, value) -> None:
    from tenants.context import tenant_context
    from tenants.models import TenantSetting

    with app.app_context(), tenant_context(tenant):
        row = db.session.get(TenantSetting, key)
        if row is None:
            db.session.add(TenantSetting(key=key, value=value))
        else:
            row.value = value
        db.session.commit()


def backdate(app, tenant, proposal_id: int, minutes: int) -> None:
    from participation.proposals.models import Proposal

    def update():
        db.session.execute(
            sa.update(Proposal)
            .where(Proposal.id == proposal_id)
            .values(created_at=sa.func.now() - timedelta(minutes=minutes))
        )
        db.session.commit()

    read(app, tenant, update)


# --------------------------------------------------------------------------- clients


def staff(app, tenant, role: str, services: tuple[str, ...] = ()) -> tuple[object, Person]:
    person = create_person(app, tenant, role, services=services)
    return signed_in(app, tenant, person), person


def service_id(app, tenant, name: str) -> int:
    from participation.accounts.models import Service

    def load():
        service = db.session.scalar(sa.select(Service).where(Service.name == name))
        if service is None:
            service = Service(name=name)
            db.session.add(service)
            db.session.commit()
        return service.id

    return read(app, tenant, load)


# --------------------------------------------------------------------------- queries


@contextmanager
def count_queries(app) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs (this thread only)."""
    statements: list[str] = []
    thread = threading.get_ident()

    def before(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == thread:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
