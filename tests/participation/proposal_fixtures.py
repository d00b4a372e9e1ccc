"""Fixtures and helpers of the proposal tests (test_proposals*.py, test_proposal_*.py).

``proposals_app`` is the shared app once participation/__init__.py registers every page the
proposals need (accounts, staff, processes, engagement, proposals); until then it is a fresh
app wired here (Flask refuses new blueprints on an app that has already served requests).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from core.db import db
from tests.conftest import base_config
from tests.participation.staff_fixtures import (
    PASSWORD,
    Person,
    client_on,
    create_person,
    ensure_legal_documents,
    forge_session,
)

REQUIRED_ENDPOINTS = (
    "accounts.login",
    "staff.home",
    "processes.show",
    "engagement.notifications",
    "debates.show",
    "proposals.show",
)
TODAY = date(2027, 3, 15)
#: A valid 1×1 PNG (core.uploads decodes and re-encodes every image: a file with a bad
#: checksum is refused as damaged).
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)


def wire(app) -> None:
    """Register every package the proposal pages need (each init_app is idempotent)."""
    from participation import accounts, debates, engagement, processes, proposals, staff

    accounts.init_app(app)
    staff.init_app(app)
    processes.init_app(app)
    engagement.init_app(app)
    debates.init_app(app)
    proposals.init_app(app)


@pytest.fixture(scope="session")
def proposals_app(staff_app, database_url, redis_url, staff_smtp):
    if all(endpoint in staff_app.view_functions for endpoint in REQUIRED_ENDPOINTS):
        return staff_app
    from core import create_app

    wired = create_app(base_config(database_url, redis_url))
    wire(wired)
    wired.config.update(SMTP_HOST=staff_smtp.host, SMTP_PORT=staff_smtp.port)
    return wired


@pytest.fixture(scope="module")
def tenant(proposals_app, make_tenant):
    """A tenant shared by the tests of a module (each test makes its own process)."""
    ref = make_tenant()
    ensure_legal_documents(proposals_app, ref)
    return ref


@pytest.fixture
def own_tenant(proposals_app, make_tenant):
    ref = make_tenant()
    ensure_legal_documents(proposals_app, ref)
    return ref


@pytest.fixture
def today(monkeypatch):
    """Freeze the collectivité's day (the processes' clock, which proposals use too)."""
    monkeypatch.setattr("core.clock.paris_today", lambda: TODAY)
    return TODAY


# --------------------------------------------------------------------------- data


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


OPEN_PHASE = ("propose", "support", "comment")


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
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        process = Process(
            title=title or f"Démarche {uuid.uuid4().hex[:8]}",
            summary="Une démarche de test.",
            state=ProcessState.DRAFT,
            support_threshold=threshold,
        )
        process.phases.append(
            Phase(
                position=1,
                kind=PhaseKind.CONTRIBUTIONS,
                title="Vos propositions",
                starts_on=base + timedelta(days=start),
                ends_on=base + timedelta(days=end),
                **{f"allows_{action}": True for action in actions},
            )
        )
        db.session.add(process)
        db.session.flush()
        if state != "draft":
            process.publish()
        if state == "archived":
            process.archive()
        db.session.commit()
        return process.id


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


def signed_in(app, tenant, person: Person, verified: bool = True):
    client = client_on(app, tenant)
    forge_session(client, tenant, person, verified=verified)
    return client


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


__all__ = [
    "PASSWORD",
    "PNG_1PX",
    "TODAY",
    "backdate",
    "bulk_proposals",
    "citizen",
    "count_queries",
    "days",
    "events_of",
    "make_process",
    "make_proposal",
    "notifications_of",
    "proposal_row",
    "read",
    "service_id",
    "set_setting",
    "signed_in",
    "staff",
    "support_rows",
]
