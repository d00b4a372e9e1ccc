"""The network's indicators, commitments and self-diagnostic pages in headless Chromium,
each checked with axe (sections made public, so no log-in is needed)."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.axe import visit
from tests.support.benchmarks import seed_participation, share

pytestmark = pytest.mark.browser


@pytest.fixture
def public_network(live_server, live_tenant):
    from core.db import db
    from network.benchmarks.metrics import METRIC_KEYS
    from network.benchmarks.tasks import refresh_tenant_metrics
    from network.commitments.models import Commitment, CommitmentComment, CommitmentStatus
    from network.core.models import MembershipStatus, Network, NetworkMembership
    from network.diagnostic.models import DiagnosticDimension, DiagnosticResponse
    from network.diagnostic.services import current_year

    app = live_server.app
    seed_participation(app, live_tenant.ref)
    slug = f"reseau-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        network = Network(
            slug=slug,
            name="Réseau des indicateurs",
            public_sections=["members", "benchmarks", "commitments", "diagnostic"],
        )
        db.session.add(network)
        db.session.flush()
        db.session.add(
            NetworkMembership(
                network_id=network.id, tenant_id=live_tenant.ref.id, status=MembershipStatus.ACTIVE
            )
        )
        commitment = Commitment(
            network_id=network.id,
            tenant_id=live_tenant.ref.id,
            title="Répondre à chaque proposition en trois mois",
            description="Un **engagement**.",
            status=CommitmentStatus.IN_PROGRESS,
            progress=40,
            evidence_text="Tableau de suivi.",
        )
        db.session.add(commitment)
        db.session.flush()
        db.session.add(
            CommitmentComment(commitment_id=commitment.id, author_role="evaluator", body="Bien.")
        )
        dims = []
        for name in ("Information", "Consultation", "Inclusion"):
            dimension = DiagnosticDimension(
                network_id=network.id, name=name, levels=["Faible", "Moyen", "Fort"]
            )
            db.session.add(dimension)
            db.session.flush()
            dims.append(dimension.id)
        db.session.add(
            DiagnosticResponse(
                network_id=network.id,
                tenant_id=live_tenant.ref.id,
                year=current_year(),
                scores={str(d): level for d, level in zip(dims, (1, 3, 2), strict=True)},
            )
        )
        db.session.commit()
        network_id, commitment_id = network.id, commitment.id
        refresh_tenant_metrics(live_tenant.ref.id)
    share(app, network_id, live_tenant.ref.id, METRIC_KEYS)
    return {"slug": slug, "commitment_id": commitment_id}


def test_the_network_pages_of_this_package_are_accessible(
    page,
    live_server,
    live_tenant,
    public_network,
):
    base = f"{live_server.url}/reseaux/{public_network['slug']}"
    visit(page, f"{live_server.url}/reseaux/indicateurs/definitions")
    visit(page, f"{base}/indicateurs")
    assert page.get_by_role("img").count() >= 5
    visit(page, f"{base}/indicateurs/territoires/{live_tenant.ref.id}")
    visit(page, f"{base}/engagements")
    visit(page, f"{base}/engagements/{public_network['commitment_id']}")
    visit(page, f"{base}/autodiagnostic")
    assert page.get_by_role("img").count() == 1
