"""Provisioning: idempotent on retry, atomic on failure, and through a real rq worker."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from core import create_app
from core.db import db
from core.jobs import PnyxWorker, get_queue, redis_connection
from tenants import migrate, provisioning
from tenants.context import load_tenant_ref, tenant_context
from tenants.models import TenantSetting
from tenants.provisioning import provision_now, provision_tenant
from tests.support import base_config


def _state(app, ref):
    with app.app_context():
        with db.engine.connect() as conn:
            schemas = conn.scalar(
                sa.text("SELECT count(*) FROM pg_namespace WHERE nspname=:s"), {"s": ref.schema}
            )
            revision = migrate.read_revision(conn, ref.schema)
        current = load_tenant_ref(ref.id)
        with tenant_context(current):
            settings = {s.key: s.value for s in db.session.scalars(sa.select(TenantSetting))}
    return schemas, revision, current.status, settings


def test_provisioning_twice_gives_one_consistent_schema(app, make_tenant):
    ref = make_tenant(provision=False)
    with app.app_context():
        assert provision_tenant(ref.id) == "active"
        first = _state(app, ref)
        assert provision_tenant(ref.id) == "active"  # a retried job
    second = _state(app, ref)
    assert first == second
    schemas, revision, status, settings = second
    assert schemas == 1 and revision == migrate.head_revision(migrate.TENANT)
    assert status == "active"
    assert settings["site_name"] == ref.name and settings["primary_colour"].startswith("#")


def test_concurrent_provisioning_jobs_serialise(app, make_tenant):
    ref = make_tenant(provision=False)
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                results.append(provision_now(db.engine, ref.id))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(results) == ["active"] * 3
    assert _state(app, ref)[:3] == (1, migrate.head_revision(migrate.TENANT), "active")


def test_a_failed_provisioning_leaves_nothing_behind(app, make_tenant, monkeypatch):
    ref = make_tenant(provision=False)

    def broken_hook(conn, tenant):
        raise RuntimeError("disk full")

    monkeypatch.setattr(provisioning, "provisioning_hooks", [broken_hook])
    with app.app_context(), pytest.raises(RuntimeError):
        provision_now(db.engine, ref.id)
    with app.app_context(), db.engine.connect() as conn:
        assert not conn.scalar(
            sa.text("SELECT count(*) FROM pg_namespace WHERE nspname=:s"), {"s": ref.schema}
        )
    assert load_tenant_ref_in(app, ref.id).status == "provisioning"
    monkeypatch.setattr(provisioning, "provisioning_hooks", [])
    with app.app_context():
        assert provision_now(db.engine, ref.id) == "active"


def load_tenant_ref_in(app, tenant_id):
    with app.app_context():
        return load_tenant_ref(tenant_id)


def test_provisioning_through_a_real_worker(database_url, redis_url, make_tenant):
    """Enqueued after the commit, picked up by a forking rq worker, tenant becomes active."""
    app = create_app(base_config(database_url, redis_url, RQ_ASYNC=True))
    ref = make_tenant(provision=False)
    with app.app_context():
        queue = get_queue("high")
        queue.empty()
        provisioning.enqueue_provisioning(ref.id)
        assert queue.count == 0  # nothing before the commit
        db.session.commit()
        assert queue.job_ids == [f"t{ref.id}-provision"]
        worker = PnyxWorker([queue], connection=redis_connection(), name=uuid.uuid4().hex)
        worker.flask_app = app
        assert worker.work(burst=True)
    assert load_tenant_ref_in(app, ref.id).status == "active"


def test_rolled_back_transaction_enqueues_nothing(database_url, redis_url, make_tenant):
    app = create_app(base_config(database_url, redis_url, RQ_ASYNC=True))
    ref = make_tenant(provision=False)
    with app.app_context():
        queue = get_queue("high")
        queue.empty()
        provisioning.enqueue_provisioning(ref.id)
        db.session.rollback()
        db.session.commit()
        assert queue.count == 0
