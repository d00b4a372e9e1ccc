"""Demo: the open-data bundle of each demo tenant, built once everything else is seeded
(order 97), so /open-data has something to download. Rebuilding is idempotent."""

from __future__ import annotations

from core import demo
from participation.opendata.tasks import build_tenant_bundle
from tenants.demo import DEMO_TENANTS


@demo.register(order=97)
def seed_open_data():
    import sqlalchemy as sa

    from core.db import db

    slugs = [slug for _code, slug in DEMO_TENANTS]
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, slug FROM public.tenants WHERE status = 'active' AND slug = ANY(:s)"
            ),
            {"s": slugs},
        ).all()
    for tenant_id, slug in rows:
        manifest = build_tenant_bundle(tenant_id)
        yield f"{slug}: données ouvertes {manifest['file']} ({manifest['size'] // 1024} Ko)"
