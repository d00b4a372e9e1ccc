"""Where the verification of the spaces stands, read from the public tables.

The open requests and disputes, the latest decisions, each space's latest request, and the
French names of their states. The operator console's home (``tenants.platform.views``)
shows them next to each space; the verification console and its services
(``billing.verification``) read them too. Read-only: writing is the services' business.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from tenants.verification import DisputeState, TenantDispute, VerificationRequest

STATE_LABELS = {
    "pending": _l("À vérifier"),
    "more_info": _l("Complément demandé"),
    "approved": _l("Vérifiée"),
    "rejected": _l("Refusée"),
}
METHOD_LABELS = {
    "operator": _l("par l'opérateur"),
    "official_domain": _l("par domaine e-mail officiel"),
    "dispute": _l("après contestation"),
}
PROOF_LABELS = {
    "bon_de_commande": _l("Bon de commande signé"),
    "deliberation": _l("Délibération"),
    "courrier_officiel": _l("Courrier officiel"),
}
DISPUTE_LABELS = {
    "open": _l("Ouverte"),
    "transferred": _l("Espace confié"),
    "reset": _l("Espace réinitialisé"),
    "dismissed": _l("Classée"),
}


def request_for_tenant(tenant_id: int) -> VerificationRequest | None:
    """The latest request of a space (a space has one, but a transfer may add none)."""
    return db.session.scalar(
        sa.select(VerificationRequest)
        .where(VerificationRequest.tenant_id == tenant_id)
        .order_by(VerificationRequest.id.desc())
        .limit(1)
    )


def latest_requests_by_tenant() -> dict[int, VerificationRequest]:
    """The newest verification request of each tenant (for the console's table)."""
    newest = (
        sa.select(sa.func.max(VerificationRequest.id))
        .where(VerificationRequest.tenant_id.is_not(None))
        .group_by(VerificationRequest.tenant_id)
    )
    rows = db.session.scalars(
        sa.select(VerificationRequest).where(VerificationRequest.id.in_(newest))
    )
    return {row.tenant_id: row for row in rows}


def open_requests() -> list[VerificationRequest]:
    return list(
        db.session.scalars(
            sa.select(VerificationRequest)
            .where(VerificationRequest.state.in_(("pending", "more_info")))
            .order_by(VerificationRequest.created_at, VerificationRequest.id)
        )
    )


def recent_decisions(limit: int = 20) -> list[VerificationRequest]:
    return list(
        db.session.scalars(
            sa.select(VerificationRequest)
            .where(VerificationRequest.state.in_(("approved", "rejected")))
            .order_by(VerificationRequest.decided_at.desc().nulls_last())
            .limit(limit)
        )
    )


def open_disputes() -> list[TenantDispute]:
    return list(
        db.session.scalars(
            sa.select(TenantDispute)
            .where(TenantDispute.state == DisputeState.OPEN)
            .order_by(TenantDispute.created_at, TenantDispute.id)
        )
    )
