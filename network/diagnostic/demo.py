"""Demo seed of the self-diagnostic: six dimensions × four levels, and the answers of the
demo network's members for this year and the last. Idempotent (by name, tenant and year)."""

from __future__ import annotations

import sqlalchemy as sa

from core import demo
from core.db import db
from network.core.models import Network
from network.diagnostic.models import DiagnosticDimension, DiagnosticResponse
from network.diagnostic.services import current_year
from tenants.models import Tenant

NETWORK_SLUG = "territoires-participatifs"
LEVELS = ["Inexistant", "Émergent", "Établi", "Exemplaire"]
DIMENSIONS = [
    ("Information", "Les habitants trouvent facilement les projets et les décisions."),
    ("Consultation", "Les avis sont recueillis avant les décisions, pas après."),
    ("Co-construction", "Des habitants élaborent des projets avec les services."),
    ("Transparence des réponses", "Chaque contribution reçoit une réponse motivée et publique."),
    ("Inclusion", "La collectivité va vers les publics éloignés de la participation."),
    ("Organisation interne", "Les services sont formés et ont du temps pour la participation."),
]
# Levels per dimension, in the order above: (last year, this year).
ANSWERS = {
    "mulhouse": ((2, 3, 2, 2, 2, 3), (3, 3, 2, 3, 2, 3)),
    "saillans": ((3, 3, 4, 3, 2, 2), (4, 3, 4, 3, 3, 2)),
    "angers": ((3, 2, 1, 2, 1, 2), (3, 2, 2, 2, 1, 2)),
}


@demo.register(order=96)
def seed_diagnostic():
    network = db.session.scalar(sa.select(Network).where(Network.slug == NETWORK_SLUG))
    if network is None:
        return
    dimension_ids = []
    for position, (name, description) in enumerate(DIMENSIONS):
        dimension = db.session.scalar(
            sa.select(DiagnosticDimension).where(
                DiagnosticDimension.network_id == network.id, DiagnosticDimension.name == name
            )
        )
        if dimension is None:
            dimension = DiagnosticDimension(
                network_id=network.id,
                position=position,
                name=name,
                description=description,
                levels=LEVELS,
            )
            db.session.add(dimension)
            db.session.flush()
        dimension_ids.append(dimension.id)
    year = current_year()
    answered = 0
    for slug, (last, this) in ANSWERS.items():
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            continue
        for when, levels in ((year - 1, last), (year, this)):
            exists = db.session.scalar(
                sa.select(DiagnosticResponse.id).where(
                    DiagnosticResponse.network_id == network.id,
                    DiagnosticResponse.tenant_id == tenant.id,
                    DiagnosticResponse.year == when,
                )
            )
            if exists is None:
                db.session.add(
                    DiagnosticResponse(
                        network_id=network.id,
                        tenant_id=tenant.id,
                        year=when,
                        scores={
                            str(d): level for d, level in zip(dimension_ids, levels, strict=True)
                        },
                        comment="",
                    )
                )
                answered += 1
    db.session.commit()
    yield (
        f"autodiagnostic du réseau : {len(dimension_ids)} dimensions, {answered} réponses ajoutées"
    )
