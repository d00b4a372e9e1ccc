from __future__ import annotations

import uuid

import pytest

from core import create_app
from core.db import db
from core.jobs import PnyxWorker, enqueue, get_queue, redis_connection, worker_redis_connection
from tenants.context import current_tenant, tenant_job_id
from tests.core.jobs_for_tests import failing_job, record_tenant
from tests.support import base_config


def test_tenant_job_runs_inside_its_tenant_in_a_forked_worker(database_url, redis_url, tenant_a):
    app = create_app(base_config(database_url, redis_url, RQ_ASYNC=True))
    key = f"test-{uuid.uuid4().hex}"
    with app.app_context():
        db.session.execute(db.select(1)).all()  # the parent's pool has a live connection
        queue = get_queue(f"q-{uuid.uuid4().hex[:8]}")
        job = enqueue(
            record_tenant,
            tenant_a.id,
            key,
            queue=queue.name,
            job_id=tenant_job_id(tenant_a.id, "record", key),
        )
        assert job.id.startswith(f"t{tenant_a.id}-")
        worker = PnyxWorker([queue], connection=worker_redis_connection(), name=uuid.uuid4().hex)
        worker.flask_app = app
        worker.work(burst=True)
        assert redis_connection().get(key) == f"{tenant_a.slug}:{tenant_a.schema}".encode()
        # The parent's connections still work after the fork.
        assert db.session.execute(db.select(1)).scalar() == 1


def test_tenant_job_leaves_the_tenant_even_when_it_fails(app, tenant_a):
    with app.app_context():
        with pytest.raises(RuntimeError):
            failing_job(tenant_a.id)
        assert current_tenant() is None
        assert db.session().tenant_schema is None


def test_tenant_job_in_a_request_context_does_not_touch_the_request_session(
    app, tenant_a, tenant_b
):
    from tenants.context import tenant_context

    key = f"test-{uuid.uuid4().hex}"
    with app.app_context(), tenant_context(tenant_b):
        assert record_tenant(tenant_a.id, key) == f"{tenant_a.slug}:{tenant_a.schema}"
        assert current_tenant().id == tenant_b.id
        assert db.session().tenant_schema == tenant_b.schema
