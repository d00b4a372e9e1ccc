"""Demo seed of the benchmarks (after the participation seeders and the demo network):
consent set (Mulhouse shares every metric but one, Saillans all, Angers a few), then the
real refresh job run for every member of the demo network. Idempotent: consent is only set
for a tenant that has none yet with the network; the job replaces its own rows."""

from __future__ import annotations

import sqlalchemy as sa

from core import demo
from core.db import db
from network.benchmarks.metrics import METRIC_KEYS
from network.benchmarks.models import NetworkMetricShare
from network.core.models import MembershipStatus, Network, NetworkMembership
from tenants.models import Tenant

NETWORK_SLUG = "territoires-participatifs"
CONSENT = {
    "mulhouse": [k for k in METRIC_KEYS if k != "representativeness"],
    "saillans": list(METRIC_KEYS),
    "angers": ["participants", "contributions", "answered_share", "median_days_to_answer"],
}


@demo.register(order=95)
def seed_benchmarks():
    from network.benchmarks.tasks import refresh_tenant_metrics

    network = db.session.scalar(sa.select(Network).where(Network.slug == NETWORK_SLUG))
    if network is None:
        return
    members = db.session.execute(
        sa.select(Tenant.id, Tenant.slug)
        .join(NetworkMembership, NetworkMembership.tenant_id == Tenant.id)
        .where(
            NetworkMembership.network_id == network.id,
            NetworkMembership.status == MembershipStatus.ACTIVE,
        )
    ).all()
    for tenant_id, slug in members:
        has_any = db.session.scalar(
            sa.select(sa.func.count()).where(
                NetworkMetricShare.network_id == network.id,
                NetworkMetricShare.tenant_id == tenant_id,
            )
        )
        if not has_any:
            for metric in CONSENT.get(slug, METRIC_KEYS):
                db.session.add(
                    NetworkMetricShare(network_id=network.id, tenant_id=tenant_id, metric=metric)
                )
    db.session.commit()
    for tenant_id, slug in members:
        count = refresh_tenant_metrics(tenant_id)
        yield f"indicateurs : {slug} — {count} valeurs calculées"
