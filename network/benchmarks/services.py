"""Consent rules of the benchmarks (services add and flush, never commit)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from core.db import db
from network.benchmarks.metrics import METRIC_KEYS
from network.benchmarks.models import NetworkMetricShare
from network.core.models import MembershipStatus, Network, NetworkMembership


class SharingError(ValueError):
    """A consent change that is not allowed (French message for the user)."""


def active_networks_of(tenant_id: int) -> list[Network]:
    return list(
        db.session.scalars(
            sa.select(Network)
            .join(NetworkMembership, NetworkMembership.network_id == Network.id)
            .where(
                NetworkMembership.tenant_id == tenant_id,
                NetworkMembership.status == MembershipStatus.ACTIVE,
            )
            .order_by(Network.name)
        )
    )


def shared_metrics(network_id: int, tenant_id: int) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(NetworkMetricShare.metric).where(
                NetworkMetricShare.network_id == network_id,
                NetworkMetricShare.tenant_id == tenant_id,
            )
        )
    )


def set_shared_metrics(
    network_id: int, tenant_id: int, metrics: list[str] | set[str]
) -> tuple[list[str], list[str]]:
    """Share exactly ``metrics`` of ``tenant_id`` with ``network_id``; (added, removed)."""
    wanted = set(metrics)
    unknown = wanted - set(METRIC_KEYS)
    if unknown:
        raise SharingError(_("Cet indicateur n'existe pas."))
    if network_id not in {n.id for n in active_networks_of(tenant_id)}:
        raise SharingError(_("Votre collectivité n'est pas membre de ce réseau."))
    current = shared_metrics(network_id, tenant_id)
    removed = sorted(current - wanted)
    added = sorted(wanted - current)
    if removed:
        db.session.execute(
            sa.delete(NetworkMetricShare).where(
                NetworkMetricShare.network_id == network_id,
                NetworkMetricShare.tenant_id == tenant_id,
                NetworkMetricShare.metric.in_(removed),
            )
        )
    for metric in added:
        db.session.add(
            NetworkMetricShare(network_id=network_id, tenant_id=tenant_id, metric=metric)
        )
    db.session.flush()
    return added, removed
