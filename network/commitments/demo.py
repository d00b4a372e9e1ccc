"""Demo seed of the commitments: two or three per member of the demo network, with
progress, evidence and comments of the coordination and the evaluator. Idempotent (by
network, tenant and title)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from core import demo
from core.db import db
from network.commitments.models import Commitment, CommitmentComment, CommitmentStatus
from network.core.models import Network
from tenants.models import Tenant
from tenants.platform.services import get_platform_user_by_email


def _demo_accounts() -> tuple[str, str, str, dict[str, str]]:
    """The demo network's slug and accounts, as network/core/demo.py creates them."""
    from network.core import demo as network_demo

    members = {slug: email for slug, email, *_rest in network_demo.MEMBER_ACCOUNTS}
    return (
        network_demo.NETWORK_SLUG,
        network_demo.COORDINATOR_EMAIL,
        network_demo.EVALUATOR[0],
        members,
    )


COMMITMENTS = {
    "mulhouse": [
        {
            "title": "Répondre à chaque proposition citoyenne en moins de trois mois",
            "description": "Chaque proposition déposée sur la plateforme reçoit une réponse "
            "motivée et publique du service concerné dans les **90 jours**.",
            "status": CommitmentStatus.IN_PROGRESS,
            "progress": 65,
            "starts_on": date(2026, 1, 1),
            "due_on": date(2026, 12, 31),
            "evidence_text": "Délai médian de réponse passé de 74 à 41 jours entre janvier et "
            "octobre ; tableau de bord mensuel présenté en conseil municipal.",
            "evidence_url": "https://www.mulhouse.fr/",
            "comments": [
                (
                    "coordinator",
                    "Belle progression. Pensez à publier aussi les réponses "
                    "négatives motivées : elles comptent autant.",
                ),
                (
                    "evaluator",
                    "Preuve solide. Le tableau de bord gagnerait à distinguer les "
                    "quartiers prioritaires.",
                ),
            ],
        },
        {
            "title": "Former 40 agents à l'animation de réunions publiques",
            "description": "Deux sessions de formation par an, ouvertes aux agents de tous "
            "les services.",
            "status": CommitmentStatus.DONE,
            "progress": 100,
            "starts_on": date(2025, 9, 1),
            "due_on": date(2026, 6, 30),
            "completed_on": date(2026, 6, 12),
            "evidence_text": "43 agents formés (liste d'émargement disponible sur demande).",
            "comments": [],
        },
    ],
    "saillans": [
        {
            "title": "Tirer au sort la moitié du comité de suivi du budget participatif",
            "description": "Le comité associe des habitants tirés au sort sur les listes "
            "électorales et des volontaires.",
            "status": CommitmentStatus.PLANNED,
            "progress": 10,
            "starts_on": date(2026, 11, 1),
            "due_on": date(2027, 3, 31),
            "evidence_text": "",
            "comments": [
                (
                    "coordinator",
                    "Le guide du tirage au sort de la bibliothèque de pratiques peut vous aider.",
                )
            ],
        },
        {
            "title": "Publier l'ordre du jour des commissions participatives 15 jours avant",
            "status": CommitmentStatus.IN_PROGRESS,
            "progress": 80,
            "starts_on": date(2026, 2, 1),
            "due_on": date(2026, 12, 31),
            "evidence_text": "11 commissions sur 13 publiées dans les délais.",
            "comments": [],
        },
    ],
    "angers": [
        {
            "title": "Aller vers les quartiers où la participation est la plus faible",
            "description": "Permanences mobiles de la plateforme sur les marchés de trois "
            "quartiers prioritaires.",
            "status": CommitmentStatus.ABANDONED,
            "progress": 20,
            "starts_on": date(2026, 3, 1),
            "due_on": date(2026, 10, 31),
            "evidence_text": "Abandonné faute de médiateurs disponibles ; reprise prévue avec "
            "les centres sociaux en 2027.",
            "comments": [
                ("evaluator", "Merci de documenter cet échec : il sera utile aux autres membres.")
            ],
        },
    ],
}


@demo.register(order=96)
def seed_commitments():
    network_slug, coordinator_email, evaluator_email, member_emails = _demo_accounts()
    network = db.session.scalar(sa.select(Network).where(Network.slug == network_slug))
    if network is None:
        return
    authors = {
        "coordinator": get_platform_user_by_email(coordinator_email),
        "evaluator": get_platform_user_by_email(evaluator_email),
    }
    created = 0
    for slug, entries in COMMITMENTS.items():
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            continue
        email = member_emails.get(slug)
        member = get_platform_user_by_email(email) if email else None
        for entry in entries:
            exists = db.session.scalar(
                sa.select(Commitment.id).where(
                    Commitment.network_id == network.id,
                    Commitment.tenant_id == tenant.id,
                    Commitment.title == entry["title"],
                )
            )
            if exists is not None:
                continue
            fields = {k: v for k, v in entry.items() if k != "comments"}
            commitment = Commitment(
                network_id=network.id,
                tenant_id=tenant.id,
                created_by_id=member.id if member else None,
                updated_by_id=member.id if member else None,
                **{"description": "", **fields},
            )
            db.session.add(commitment)
            db.session.flush()
            for role, body in entry["comments"]:
                author = authors.get(role)
                db.session.add(
                    CommitmentComment(
                        commitment_id=commitment.id,
                        author_id=author.id if author else None,
                        author_role=role,
                        body=body,
                    )
                )
            created += 1
    db.session.commit()
    yield f"engagements du réseau : {created} créés"
