"""Demo signalements of the three demo collectivités (seeded after the accounts and staff,
order 75): categories mapped to the demo services, and realistic reports on the map in
every status, with the public comments of each step.

Idempotent: a category is found by its name, a report by its description; existing ones
are left as they are. Nothing is notified or e-mailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from core import clock, demo
from core.db import db
from participation.accounts.models import Service, StaffRole, User
from participation.problems import services
from participation.problems.models import (
    ProblemCategory,
    ProblemEventKind,
    ProblemReport,
    ProblemReportEvent,
    ProblemStatus,
)
from tenants.context import tenant_context
from tenants.models import Tenant, TenantStatus

VOIRIE = "Voirie et espaces publics"
ENV = "Environnement et transition écologique"

CATEGORIES = [
    ("Voirie et trottoirs", "Nids-de-poule, trottoirs abîmés, marquage effacé", VOIRIE),
    ("Éclairage public", "Lampadaire en panne ou allumé en plein jour", VOIRIE),
    ("Propreté", "Dépôts sauvages, poubelles qui débordent, tags", ENV),
    ("Espaces verts", "Arbres dangereux, haies envahissantes, aires de jeux", ENV),
    ("Mobilier urbain", "Bancs, abribus, panneaux endommagés", VOIRIE),
]

N, A, P, R, X = (
    ProblemStatus.NEW,
    ProblemStatus.ACKNOWLEDGED,
    ProblemStatus.IN_PROGRESS,
    ProblemStatus.RESOLVED,
    ProblemStatus.REJECTED,
)


@dataclass(frozen=True)
class DemoReport:
    category: str
    description: str
    address: str | None
    point: tuple[float, float] | None
    status: ProblemStatus = N
    comments: tuple[str, ...] = ()  # one public comment per step after « Nouveau »
    days_ago: int = 3
    anonymous: bool = False


REPORTS: dict[str, list[DemoReport]] = {
    "mulhouse": [
        DemoReport(
            "Voirie et trottoirs",
            "Nid-de-poule rue de la Sinne, devant le numéro 14 : profond d'une dizaine de "
            "centimètres, les cyclistes font des écarts dangereux.",
            "14 rue de la Sinne",
            (47.74755, 7.33798),
            P,
            (
                "Signalement transmis à l'équipe voirie du secteur centre.",
                "Intervention programmée la semaine prochaine (enrobé à froid en attendant "
                "la réfection de la chaussée).",
            ),
            days_ago=9,
        ),
        DemoReport(
            "Éclairage public",
            "Lampadaire en panne place de la Réunion, côté temple Saint-Étienne : la place "
            "est très sombre le soir.",
            "Place de la Réunion",
            (47.74651, 7.33893),
            R,
            (
                "Pris en charge par le service éclairage.",
                "Ampoule et ballast changés le 12 : le lampadaire fonctionne de nouveau. Merci !",
            ),
            days_ago=20,
        ),
        DemoReport(
            "Propreté",
            "Dépôt sauvage de cartons et d'un vieux matelas au pied des conteneurs de tri.",
            "Rue de Bâle, près du square",
            (47.74420, 7.34510),
            A,
            ("Nous avons bien reçu votre signalement : l'enlèvement est demandé au prestataire.",),
            days_ago=2,
            anonymous=True,
        ),
        DemoReport(
            "Espaces verts",
            "Une branche morte pend au-dessus de l'allée principale du parc Salvator.",
            None,
            (47.74890, 7.34250),
            N,
            days_ago=1,
        ),
        DemoReport(
            "Mobilier urbain",
            "Vitre de l'abribus cassée, arrêt Dornach Gare, éclats de verre sur le trottoir.",
            "Arrêt Dornach Gare",
            (47.73810, 7.30690),
            X,
            (
                "Cet abribus appartient au réseau Soléa, qui en assure l'entretien : nous leur "
                "avons transmis votre signalement. Vous pouvez aussi les contacter directement.",
            ),
            days_ago=6,
        ),
    ],
    "saillans": [
        DemoReport(
            "Éclairage public",
            "Lampadaire en panne montée de la Tour, le passage est dans le noir complet.",
            "Montée de la Tour",
            (44.69790, 5.19580),
            A,
            ("Signalement transmis au syndicat d'énergie de la Drôme.",),
            days_ago=4,
        ),
        DemoReport(
            "Propreté",
            "Poubelles qui débordent au bord de la Drôme après le week-end, près de la plage.",
            "Plage de Saillans, bord de Drôme",
            (44.69560, 5.19290),
            R,
            (
                "Passage supplémentaire des agents ce lundi.",
                "Nettoyé ; un bac de plus est installé pour l'été.",
            ),
            days_ago=12,
        ),
        DemoReport(
            "Voirie et trottoirs",
            "Affaissement de la chaussée chemin des Samarins après les pluies.",
            "Chemin des Samarins",
            None,
            N,
            days_ago=1,
        ),
    ],
    "angers": [
        DemoReport(
            "Voirie et trottoirs",
            "Pavés descellés rue Beaurepaire, dans la Doutre : plusieurs personnes ont trébuché.",
            "Rue Beaurepaire",
            (47.47440, -0.55980),
            P,
            ("Pris en charge par le pôle voirie.", "Les pavés seront reposés jeudi matin."),
            days_ago=7,
        ),
        DemoReport(
            "Espaces verts",
            "Aire de jeux du lac de Maine : le toboggan a une planche fendue.",
            "Parc du lac de Maine",
            (47.45510, -0.59720),
            A,
            ("Le toboggan est fermé par sécurité en attendant la réparation.",),
            days_ago=3,
        ),
        DemoReport(
            "Éclairage public",
            "Lampadaire allumé en plein jour boulevard Foch, depuis une semaine.",
            "Boulevard Foch",
            (47.46960, -0.54960),
            N,
            days_ago=2,
            anonymous=True,
        ),
        DemoReport(
            "Propreté",
            "Tags sur le mur de l'école à Monplaisir.",
            "Rue de Normandie",
            (47.49030, -0.53560),
            R,
            ("Nettoyage demandé.", "Le mur est nettoyé."),
            days_ago=15,
        ),
    ],
}


def _tenant_ids() -> dict[str, int]:
    tenants = db.session.scalars(sa.select(Tenant).where(Tenant.slug.in_(list(REPORTS))))
    ids = {t.slug: t.id for t in tenants if t.status == TenantStatus.ACTIVE}
    db.session.rollback()
    return ids


def _seed_categories() -> dict[str, ProblemCategory]:
    existing = {c.name: c for c in db.session.scalars(sa.select(ProblemCategory))}
    for position, (name, description, service_name) in enumerate(CATEGORIES):
        if name in existing:
            continue
        service_id = db.session.scalar(sa.select(Service.id).where(Service.name == service_name))
        category = ProblemCategory(
            name=name, description=description, service_id=service_id, position=position
        )
        db.session.add(category)
        existing[name] = category
    db.session.flush()
    return existing


def _seed_tenant(slug: str) -> tuple[int, int]:
    categories = _seed_categories()
    citizens = list(
        db.session.scalars(
            sa.select(User)
            .where(User.staff_role.is_(None), User.email.like("%@example.fr"))
            .order_by(User.id)
        )
    )
    admin = db.session.scalar(
        sa.select(User).where(User.staff_role == StaffRole.ADMIN).order_by(User.id).limit(1)
    )
    if not citizens or admin is None:
        return 0, 0
    created = 0
    now = clock.utcnow()
    for index, spec in enumerate(REPORTS[slug]):
        exists = db.session.scalar(
            sa.select(ProblemReport.id).where(ProblemReport.description == spec.description)
        )
        if exists is not None:
            continue
        category = categories[spec.category]
        when = now - timedelta(days=spec.days_ago, hours=index)
        reporter = citizens[index % len(citizens)]
        report = ProblemReport(
            category_id=category.id,
            reporter_id=reporter.id,
            is_anonymous=spec.anonymous,
            description=spec.description,
            address=spec.address,
            latitude=spec.point[0] if spec.point else None,
            longitude=spec.point[1] if spec.point else None,
            status=N,
            service_id=category.service_id,
            created_at=when,
            updated_at=when,
        )
        db.session.add(report)
        db.session.flush()
        db.session.add(
            ProblemReportEvent(
                report_id=report.id,
                kind=ProblemEventKind.CREATED,
                to_status=N.value,
                service_id=category.service_id,
                actor_id=reporter.id,
                created_at=when,
            )
        )
        db.session.flush()
        steps = {
            A: [A],
            P: [A, P],
            R: [A, R],
            X: [X],
            N: [],
        }[spec.status]
        for step, comment in zip(steps, spec.comments, strict=False):
            when += timedelta(days=max(1, spec.days_ago // 3))
            event = services.change_status(report, admin, step, comment, notify=False)
            event.created_at = min(when, now)
        if spec.status == R:
            report.resolved_at = min(when, now)
        db.session.flush()
        created += 1
    return created, len(REPORTS[slug])


@demo.register(order=75)
def seed_problems():
    ids = _tenant_ids()
    if not ids:
        yield "signalements demo: no active demo tenant, skipped"
        return
    for slug, tenant_id in ids.items():
        with tenant_context(tenant_id) as tenant:
            created, total = _seed_tenant(slug)
            db.session.commit()
            yield f"{tenant.name} signalements: {total} ({created} créés)"
