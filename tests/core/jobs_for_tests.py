"""Jobs used by the tests (rq needs them importable by dotted path)."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db
from core.jobs import job, redis_connection
from tenants.context import current_tenant, tenant_job


@tenant_job
def record_tenant(tenant_id: int, key: str) -> str:
    schema = db.session.execute(sa.text("SELECT current_schema()")).scalar()
    value = f"{current_tenant().slug}:{schema}"
    redis_connection().set(key, value, ex=60)
    return value


@tenant_job
def failing_job(tenant_id: int) -> None:
    raise RuntimeError("job failed")


@job
def count_run(key: str) -> int:
    """Counts its runs in Redis (the outbox tests: a job relayed twice runs once)."""
    from core.jobs import worker_redis_connection

    return worker_redis_connection().incr(key)


@job
def deliver_then_wait(message: dict, flag: str) -> str:
    """Deliver a mail, then wait for ``flag`` to exist: a worker killed while it waits has
    sent and recorded the mail (tests/core/test_job_faults.py)."""
    import os
    import time

    from core.mail import deliver_mail

    outcome = deliver_mail(message)
    while not os.path.exists(flag):
        time.sleep(0.05)
    return outcome
