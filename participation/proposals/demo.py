"""Demo proposals in the demo processes that take contributions (seeded after the
processes, order 50): realistic French ideas, supports from the demo citizens, and official
answers in every status, some assigned to a service with a due date (a few overdue, so the
staff dashboard has something to show).

Idempotent: a proposal is found by its process and title; an existing one is left as it is
(supports are added with ON CONFLICT DO NOTHING). Nothing is notified or e-mailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import selectinload

from core import clock, demo
from core.db import db
from participation.accounts.models import Neighbourhood, Service, StaffRole, User
from participation.engagement import services as engagement
from participation.processes.models import Phase, Process, ProcessState, Theme
from participation.proposals import services
from participation.proposals.models import (
    Proposal,
    ProposalEvent,
    ProposalEventKind,
    ProposalStatus,
    Support,
)
from tenants.context import tenant_context
from tenants.models import Tenant, TenantStatus

R, S, A, X, D = (
    ProposalStatus.RECEIVED,
    ProposalStatus.STUDYING,
    ProposalStatus.ACCEPTED,
    ProposalStatus.REJECTED,
    ProposalStatus.DONE,
)


@dataclass(frozen=True)
class DemoProposal:
    title: str
    body: str
    status: ProposalStatus = R
    days_ago: int = 3
    supporters: int = 2  # how many demo citizens support it
    neighbourhood: str | None = None
    service: str | None = None
    due_in: int | None = None  # days from today (negative: overdue)
    answer: str | None = None
    reason: str | None = None
    point: tuple[float, float] | None = None


VOIRIE = "Voirie et espaces publics"
ENV = "Environnement et transition écologique"
URBA = "Urbanisme"
CULTURE = "Culture"
JEUNESSE = "Jeunesse et sports"
DEMOCRATIE = "Démocratie participative"

PROPOSALS: dict[str, dict[str, list[DemoProposal]]] = {
    "mulhouse": {
        "Réinventons les berges de l'Ill": [
            DemoProposal(
                "Une guinguette saisonnière près du pont de Dornach",
                "Installer de mai à septembre une guinguette tenue par une association du "
                "quartier : boissons, petite restauration locale, concerts le vendredi soir.\n\n"
                "Les berges seraient animées sans construction en dur.",
                S,
                12,
                4,
                "Dornach",
                CULTURE,
                20,
                point=(47.7381, 7.3069),
            ),
            DemoProposal(
                "Des escaliers pour descendre jusqu'à l'eau",
                "Aujourd'hui on longe l'Ill sans jamais pouvoir s'en approcher. Des gradins en "
                "pierre, comme à Strasbourg, permettraient de s'asseoir au bord de l'eau.",
                A,
                20,
                3,
                "Centre historique",
                VOIRIE,
                30,
                answer="La Ville retient cette idée pour le tronçon entre le pont Wilson et "
                "la passerelle de la Doller. Les études de berge commencent cet automne ; "
                "les travaux pourraient débuter au printemps 2028.",
            ),
            DemoProposal(
                "Une piste cyclable continue le long du canal",
                "Relier Dornach au centre-ville à vélo sans quitter les berges : il manque "
                "trois tronçons, dont le passage sous la voie rapide.",
                S,
                9,
                3,
                None,
                VOIRIE,
                -5,
            ),
            DemoProposal(
                "Une baignade surveillée l'été",
                "Une zone de baignade aménagée, surveillée en juillet et août, avec des "
                "analyses de l'eau publiées chaque semaine.",
                X,
                25,
                2,
                None,
                ENV,
                None,
                reason="La qualité de l'eau de l'Ill ne permet pas une baignade sûre : les "
                "analyses de l'Agence régionale de santé dépassent les seuils après chaque "
                "orage. La Ville étudie plutôt des brumisateurs et une pataugeoire.",
            ),
            DemoProposal(
                "Planter des arbres fruitiers en libre cueillette",
                "Des pommiers, poiriers et pruniers le long de la promenade, entretenus avec "
                "les écoles du quartier.",
                D,
                40,
                4,
                "Rebberg",
                ENV,
                None,
                answer="Trente arbres fruitiers ont été plantés en mars avec deux écoles et "
                "le verger-école du Rebberg. Merci pour cette proposition !",
            ),
            DemoProposal(
                "Des bancs et de l'ombre tous les 200 mètres",
                "Pour les personnes âgées et les familles, il faut pouvoir s'asseoir à l'ombre "
                "régulièrement le long de la promenade.",
                R,
                2,
                1,
                "Bourtzwiller",
            ),
            DemoProposal(
                "Des toilettes publiques accessibles",
                "Il n'y a aucune toilette publique entre le centre et Dornach. Deux sanitaires "
                "accessibles aux fauteuils seraient indispensables.",
                R,
                1,
                2,
                None,
                VOIRIE,
                -2,
            ),
        ],
        "Un nouveau souffle pour le parc Salvator": [
            DemoProposal(
                "Une aire de jeux pour les tout-petits",
                "Les jeux actuels sont pour les plus grands : une aire clôturée pour les 1-5 "
                "ans, avec des bancs pour les parents.",
                D,
                190,
                3,
                "Centre historique",
                JEUNESSE,
                None,
                answer="L'aire de jeux des tout-petits a ouvert en juin, près de l'entrée "
                "de l'avenue Salvator.",
            ),
            DemoProposal(
                "Fermer le parc à la circulation des scooters",
                "Des scooters traversent le parc le soir : des barrières chicanes aux entrées "
                "règleraient le problème.",
                A,
                200,
                2,
                None,
                VOIRIE,
                None,
                answer="Des chicanes seront posées aux quatre entrées d'ici la fin de l'année.",
            ),
            DemoProposal(
                "Un parking souterrain sous le parc",
                "Pour faciliter l'accès au centre-ville, creuser un parking sous le parc.",
                X,
                205,
                0,
                None,
                URBA,
                None,
                reason="Un parking souterrain détruirait les arbres centenaires du parc, "
                "protégé au PLU. Le parking Salvator voisin n'est rempli qu'à 60 %.",
            ),
        ],
    },
    "saillans": {
        "Révision participative du PLU": [
            DemoProposal(
                "Protéger les terres agricoles de la plaine",
                "Classer en zone agricole protégée les terres de la plaine de la Drôme, pour "
                "que les jeunes maraîchers puissent s'installer.",
                S,
                10,
                3,
                None,
                URBA,
                25,
            ),
            DemoProposal(
                "Autoriser l'habitat léger sur les terrains communaux",
                "Yourtes, tiny houses : un terrain communal réservé à l'habitat léger, avec un "
                "bail et une charte, pour loger les saisonniers et les jeunes.",
                R,
                3,
                2,
                "Les Chapelains",
            ),
            DemoProposal(
                "Transformer les logements vacants du bourg",
                "Une vingtaine de maisons du bourg sont vides. Une aide à la rénovation contre "
                "une location à loyer modéré pendant dix ans.",
                A,
                18,
                3,
                "Le Bourg",
                URBA,
                40,
                answer="Le futur PLU inscrira une orientation « reconquête du bâti vacant » ; "
                "la commune rejoint l'opération programmée d'amélioration de l'habitat de "
                "la communauté de communes.",
            ),
            DemoProposal(
                "Un lotissement de 60 maisons en entrée de village",
                "Pour accueillir de nouvelles familles, ouvrir à l'urbanisation les champs de "
                "l'entrée sud.",
                X,
                22,
                0,
                None,
                URBA,
                None,
                reason="Le diagnostic partagé montre que les besoins en logement peuvent être "
                "couverts par le bâti vacant et la densification du bourg, sans consommer de "
                "terres agricoles (objectif « zéro artificialisation nette »).",
            ),
            DemoProposal(
                "Des cheminements piétons entre les hameaux",
                "Relier les hameaux au bourg par des sentiers sûrs, à l'écart de la route "
                "départementale.",
                R,
                1,
                1,
                "Rive gauche",
                VOIRIE,
                -3,
            ),
        ],
        "Éclairage public : éteindre la nuit ?": [
            DemoProposal(
                "Éteindre l'éclairage de 23 h à 5 h",
                "Économiser l'énergie, protéger la faune et voir les étoiles.",
                D,
                200,
                3,
                None,
                ENV,
                None,
                answer="Décidé par les habitants : l'éclairage est éteint de 23 h à 5 h "
                "depuis le 1er mars, sauf sur la traversée du village.",
            ),
            DemoProposal(
                "Garder l'éclairage près de l'école",
                "Les parents qui déposent leurs enfants tôt l'hiver souhaitent un éclairage "
                "maintenu dès 6 h 30 autour de l'école.",
                A,
                195,
                2,
                "Le Bourg",
                VOIRIE,
                None,
                answer="L'éclairage des abords de l'école se rallume à 6 h 30 les jours de classe.",
            ),
        ],
    },
    "angers": {
        "Budget des quartiers": [
            DemoProposal(
                "Une boîte à livres géante à la Doutre",
                "Une ancienne cabine téléphonique transformée en boîte à livres, place de la "
                "Paix, entretenue par les habitants.",
                A,
                14,
                4,
                "La Doutre",
                CULTURE,
                30,
                answer="Projet retenu pour le vote final : coût estimé 4 000 €.",
            ),
            DemoProposal(
                "Un terrain de basket 3x3 à Monplaisir",
                "Le playground actuel est en mauvais état : un terrain 3x3 éclairé, ouvert à "
                "tous, avec des gradins.",
                S,
                8,
                3,
                "Monplaisir",
                JEUNESSE,
                -4,
            ),
            DemoProposal(
                "Des ruelles végétalisées à Belle-Beille",
                "Retirer le bitume le long des façades pour planter des grimpantes, avec les "
                "habitants volontaires.",
                S,
                6,
                2,
                "Belle-Beille",
                ENV,
                15,
            ),
            DemoProposal(
                "Des caméras de surveillance dans tous les parcs",
                "Installer des caméras dans chaque parc du quartier.",
                X,
                16,
                1,
                None,
                DEMOCRATIE,
                None,
                reason="Le budget des quartiers finance des projets d'investissement d'intérêt "
                "collectif ; la vidéoprotection relève d'un autre dispositif, décidé par le "
                "conseil municipal après avis de la commission compétente.",
            ),
            DemoProposal(
                "Un composteur collectif par îlot",
                "Des composteurs partagés au pied des immeubles, avec une formation pour les "
                "référents.",
                D,
                30,
                3,
                "Justices",
                ENV,
                None,
                answer="Douze composteurs sont installés et vingt-quatre référents formés. Merci !",
            ),
            DemoProposal(
                "Des fontaines à eau dans les squares",
                "Boire de l'eau fraîche en été sans acheter de bouteille.",
                R,
                2,
                2,
                "Centre-ville",
            ),
            DemoProposal(
                "Une fresque sur le mur du gymnase",
                "Confier à des artistes du quartier, avec les jeunes, une fresque sur le grand "
                "mur aveugle du gymnase.",
                R,
                1,
                1,
                None,
                CULTURE,
                -1,
            ),
        ],
        "Conseil des jeunes : vos priorités": [
            DemoProposal(
                "Un lieu ouvert le soir pour les 15-25 ans",
                "Un local avec wifi, musique et jeux, ouvert jusqu'à 22 h, animé par des jeunes.",
                D,
                200,
                3,
                "Centre-ville",
                JEUNESSE,
                None,
                answer="Le « Spot » a ouvert en septembre, rue Saint-Laud : du mardi au samedi, "
                "de 16 h à 22 h.",
            ),
            DemoProposal(
                "Des transports gratuits pour les moins de 18 ans",
                "La gratuité du tram et du bus pour les mineurs.",
                X,
                205,
                4,
                None,
                DEMOCRATIE,
                None,
                reason="La tarification des transports relève d'Angers Loire Métropole. Le "
                "conseil des jeunes a porté la demande ; un tarif réduit à 10 € par mois "
                "s'applique depuis janvier.",
            ),
        ],
    },
}


def _tenant_ids() -> dict[str, int]:
    tenants = db.session.scalars(sa.select(Tenant).where(Tenant.slug.in_(list(PROPOSALS))))
    ids = {t.slug: t.id for t in tenants if t.status == TenantStatus.ACTIVE}
    db.session.rollback()  # entering a tenant needs no open transaction
    return ids


def _citizens() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.staff_role.is_(None),
                User.email.like("%@example.fr"),
                User.deleted_at.is_(None),
            )
            .order_by(User.id)
        )
    )


def _admin() -> User | None:
    return db.session.scalar(
        sa.select(User)
        .where(User.staff_role == StaffRole.ADMIN, User.deleted_at.is_(None))
        .order_by(User.id)
        .limit(1)
    )


def _agent_of(service: Service | None) -> User | None:
    if service is None:
        return None
    agents = services.agents_by_service([service]).get(service.id, [])
    return next((a for a in agents if a.staff_role == StaffRole.AGENT), None)


def _accepts_proposals(process: Process) -> bool:
    return process.state != ProcessState.DRAFT and any(p.allows_propose for p in process.phases)


def _backdate(obj, when: datetime) -> None:
    obj.created_at = when


def _seed_one(
    process: Process, spec: DemoProposal, authors: list[User], admin: User, index: int
) -> bool:
    exists = db.session.scalar(
        sa.select(Proposal.id).where(
            Proposal.process_id == process.id, Proposal.title == spec.title
        )
    )
    if exists is not None:
        return False
    now = clock.utcnow()
    created = now - timedelta(days=spec.days_ago, hours=index)
    author = authors[index % len(authors)]
    theme_id = process.theme_id
    neighbourhood_id = None
    if spec.neighbourhood:
        neighbourhood_id = db.session.scalar(
            sa.select(Neighbourhood.id).where(Neighbourhood.name == spec.neighbourhood)
        )
    proposal = Proposal(
        process_id=process.id,
        author_id=author.id,
        title=spec.title,
        body=spec.body,
        theme_id=theme_id if db.session.get(Theme, theme_id or 0) else None,
        neighbourhood_id=neighbourhood_id,
        latitude=spec.point[0] if spec.point else None,
        longitude=spec.point[1] if spec.point else None,
        status=R,
        created_at=created,
        updated_at=created,
    )
    db.session.add(proposal)
    db.session.flush()
    db.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            kind=ProposalEventKind.CREATED,
            to_status=R.value,
            actor_id=author.id,
            created_at=created,
        )
    )
    engagement.follow(author.id, services.TARGET, proposal.id)
    supporters = [u for u in authors if u.id != author.id][: spec.supporters]
    for supporter in supporters:
        db.session.execute(
            pg_insert(Support)
            .values(proposal_id=proposal.id, user_id=supporter.id, created_at=created)
            .on_conflict_do_nothing()
        )
    db.session.flush()

    service = (
        db.session.scalar(sa.select(Service).where(Service.name == spec.service))
        if spec.service
        else None
    )
    when = created + timedelta(days=max(1, spec.days_ago // 3))
    if service is not None:
        due = clock.paris_today() + timedelta(days=spec.due_in) if spec.due_in else None
        event = services.assign_proposal(
            proposal,
            admin,
            service=service,
            assignee=_agent_of(service),
            due_on=due,
            today=due or clock.paris_today(),
            mail_assignee=False,
        )
        if event is not None:
            _backdate(event, when)
    if spec.status != R:
        if spec.status in (A, D, X):
            # Decisions go through "À l'étude" first, as in real life.
            event = services.change_status(proposal, S, admin, notify=False)
            _backdate(event, when)
            when += timedelta(days=max(1, spec.days_ago // 4))
        event = services.change_status(
            proposal, spec.status, admin, reason=spec.reason, notify=False
        )
        if event is not None:
            _backdate(event, when)
    if spec.answer:
        event = services.set_answer(proposal, spec.answer, admin, notify=False)
        if event is not None:
            _backdate(event, when)
            proposal.answered_at = when
    db.session.flush()
    return True


def _seed_tenant(slug: str) -> tuple[int, int, list[str]]:
    authors = _citizens()
    admin = _admin()
    notes: list[str] = []
    if not authors or admin is None:
        return 0, 0, ["no demo citizens or admin yet (accounts and staff demos run first)"]
    processes = {
        p.title: p
        for p in db.session.scalars(sa.select(Process).options(selectinload(Process.phases)))
    }
    created = total = 0
    for title, specs in PROPOSALS[slug].items():
        process = processes.get(title)
        if process is None or not _accepts_proposals(process):
            notes.append(f"process « {title} » not found or closed to proposals, skipped")
            continue
        for index, spec in enumerate(specs):
            total += 1
            created += _seed_one(process, spec, authors, admin, index)
    return created, total, notes


@demo.register(order=60)
def seed_proposals():
    ids = _tenant_ids()
    if not ids:
        yield "proposals demo: no active demo tenant, skipped"
        return
    for slug, tenant_id in ids.items():
        with tenant_context(tenant_id) as tenant:
            if not db.session.scalar(sa.select(sa.func.count()).select_from(Phase)):
                yield f"{tenant.name} propositions: no demo process yet, skipped"
                continue
            created, total, notes = _seed_tenant(slug)
            db.session.commit()
            yield f"{tenant.name} propositions: {total} ({created} créées)"
            for note in notes:
                yield f"  {note}"
