"""Jobs used by the tests (rq needs them importable by dotted path)."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db
from core.jobs import redis_connection
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
