"""Demo participatory budgets (order 70, after processes and proposals): one per demo
collectivité, each at a different stage, with twelve realistic projects already analysed:

- Mulhouse: the vote is open (global envelope, knapsack, from 16 years old), with paper
  ballots already entered at two polling points;
- Angers: results published and implementation under way (envelope split per quartier,
  vote per quartier), milestones, progress and public updates on the retained projects;
- Saillans: analysis done, vote opening in a few days (approval vote, 1 to 3 projects,
  census list to check voters against).

Idempotent: a budget is found by its title; its dates follow today's date at every run,
projects are found by title, ballots are only added to a budget that has none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from core import clock, demo
from core.db import db
from participation.accounts.models import Neighbourhood, StaffRole, User
from participation.budgets import services
from participation.budgets.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Budget,
    BudgetEnvelope,
    BudgetMilestone,
    BudgetProject,
    BudgetUpdate,
    CensusEntry,
    ProjectStatus,
    Voter,
    VotingRule,
)
from tenants.context import tenant_context

OK, NO = ProjectStatus.FEASIBLE, ProjectStatus.UNFEASIBLE


@dataclass(frozen=True)
class DemoProject:
    title: str
    description: str
    cost: int
    status: ProjectStatus = OK
    estimated: int | None = None
    reason: str | None = None
    neighbourhood: str | None = None


MULHOUSE = [
    DemoProject(
        "Des bancs au parc Salvator",
        (
            "Installer une quinzaine de bancs et trois tables de pique-nique le long des allées "
            "du parc Salvator, à l'ombre des grands arbres : les personnes âgées et les familles "
            "manquent de places assises."
        ),
        38_000,
        estimated=42_000,
        reason="Bancs en bois labellisé, posés par les jardiniers de la Ville au printemps.",
    ),
    DemoProject(
        "Pistes cyclables rue du Sauvage",
        (
            "Tracer une bande cyclable protégée dans la rue du Sauvage entre la place de la "
            "Réunion et la porte Jeune, avec des arceaux de stationnement aux deux extrémités."
        ),
        180_000,
        estimated=165_000,
        reason="Faisable en conservant la circulation des livraisons le matin.",
    ),
    DemoProject(
        "Une fontaine à boire place de la Réunion",
        (
            "Une fontaine d'eau potable accessible aux fauteuils roulants sur la place de la "
            "Réunion, pour les touristes, les habitants et les jours de canicule."
        ),
        25_000,
        estimated=28_000,
        reason="Raccordement possible au réseau existant sous la place.",
    ),
    DemoProject(
        "Un terrain multisport à Bourtzwiller",
        (
            "Un city-stade ouvert à tous près de l'école Matisse, avec un revêtement silencieux "
            "et un éclairage éteint à 22 h."
        ),
        120_000,
        estimated=135_000,
        reason="Le terrain communal derrière l'école convient ; éclairage LED programmable.",
        neighbourhood="Bourtzwiller",
    ),
    DemoProject(
        "Des arbres fruitiers dans les cours d'école",
        (
            "Planter pommiers, poiriers et petits fruits dans cinq cours d'école, avec les élèves "
            "et leurs enseignants."
        ),
        30_000,
        estimated=32_000,
        reason="Cinq écoles volontaires identifiées avec le service Éducation.",
    ),
    DemoProject(
        "Une boîte à livres dans chaque quartier",
        (
            "Des boîtes à livres fabriquées par un chantier d'insertion, une par quartier, "
            "entretenues par des habitants volontaires."
        ),
        12_000,
        estimated=14_000,
        reason="Fabrication confiée à un chantier d'insertion mulhousien.",
    ),
    DemoProject(
        "Éclairer le passage sous la voie ferrée à Dornach",
        (
            "Le passage piéton sous la voie ferrée est sombre et inquiétant le soir : un "
            "éclairage et une fresque le rendraient plus sûr."
        ),
        45_000,
        estimated=52_000,
        reason="Accord de SNCF Réseau obtenu pour les travaux dans le passage.",
        neighbourhood="Dornach",
    ),
    DemoProject(
        "Des composteurs partagés aux Coteaux",
        (
            "Trois sites de compostage collectif au pied des immeubles des Coteaux, avec une "
            "formation des habitants référents."
        ),
        9_000,
        estimated=11_000,
        reason="Mis en place avec m2A, qui fournit les bacs.",
        neighbourhood="Coteaux",
    ),
    DemoProject(
        "Une fresque sur le mur de la gare",
        (
            "Confier le long mur gris de la gare à des artistes du territoire pour une grande "
            "fresque colorée."
        ),
        35_000,
        estimated=40_000,
        reason="Mur appartenant à la Ville ; appel à artistes prévu.",
    ),
    DemoProject(
        "Des toilettes publiques au parc de la Citadelle",
        (
            "Des toilettes publiques gratuites, accessibles et entretenues, ouvertes en journée "
            "au parc de la Citadelle."
        ),
        85_000,
        estimated=95_000,
        reason="Modèle autonettoyant retenu, raccordement prévu.",
    ),
    DemoProject(
        "Une piscine découverte sur l'Ill",
        "Une piscine flottante sur l'Ill au centre-ville, ouverte tout l'été.",
        2_500_000,
        status=NO,
        reason=(
            "Le coût dépasse de loin l'enveloppe et la qualité de l'eau de l'Ill ne permet pas la "
            "baignade."
        ),
    ),
    DemoProject(
        "Un parking gratuit au centre historique",
        "Rendre gratuit le parking souterrain de la place de la Concorde.",
        400_000,
        status=NO,
        reason=(
            "Le budget participatif finance des investissements, pas des dépenses de "
            "fonctionnement comme la gratuité d'un parking."
        ),
    ),
]

ANGERS = [
    DemoProject(
        "Un jardin partagé à Monplaisir",
        (
            "Transformer la pelouse inutilisée de la rue de Normandie en jardin partagé, avec des "
            "bacs surélevés accessibles."
        ),
        40_000,
        estimated=38_000,
        reason="Terrain municipal disponible ; association de jardiniers partenaire.",
        neighbourhood="Monplaisir",
    ),
    DemoProject(
        "Des bancs et de l'ombre place Ney",
        "Des bancs et des arbres d'ombrage place Ney, très minérale et brûlante l'été.",
        55_000,
        estimated=60_000,
        reason="Plantation possible en pleine terre sur la moitié nord.",
        neighbourhood="Monplaisir",
    ),
    DemoProject(
        "Une aire de jeux inclusive à Belle-Beille",
        (
            "Une aire de jeux utilisable par les enfants en situation de handicap, près du lac de "
            "Maine."
        ),
        90_000,
        estimated=95_000,
        reason="Modèle validé avec l'association des parents d'élèves.",
        neighbourhood="Belle-Beille",
    ),
    DemoProject(
        "Un skatepark à Belle-Beille",
        (
            "Un petit skatepark en béton pour les jeunes du quartier, qui n'ont rien de ce genre "
            "à proximité."
        ),
        120_000,
        estimated=140_000,
        reason="Implantation possible près du gymnase.",
        neighbourhood="Belle-Beille",
    ),
    DemoProject(
        "Des fresques dans la Doutre",
        "Des fresques sur les murs pignons de la Doutre, réalisées avec les écoles du quartier.",
        25_000,
        estimated=27_000,
        reason="Murs identifiés avec l'architecte des bâtiments de France.",
        neighbourhood="La Doutre",
    ),
    DemoProject(
        "Des arceaux vélo dans la Doutre",
        "Cinquante arceaux de stationnement vélo répartis dans les rues commerçantes de la Doutre.",
        15_000,
        estimated=16_000,
        reason="Emplacements validés avec les commerçants.",
        neighbourhood="La Doutre",
    ),
    DemoProject(
        "Un verger aux Justices",
        (
            "Planter un verger de trente arbres fruitiers en libre cueillette dans le parc des "
            "Justices."
        ),
        20_000,
        estimated=22_000,
        reason="Parc municipal, entretien par les jardiniers de la Ville.",
        neighbourhood="Justices",
    ),
    DemoProject(
        "Une boîte à livres géante aux Justices",
        "Une cabane-bibliothèque en libre-service près du centre commercial des Justices.",
        10_000,
        estimated=12_000,
        reason="Fabrication par un lycée professionnel.",
        neighbourhood="Justices",
    ),
    DemoProject(
        "Des toilettes publiques au centre-ville",
        "Des toilettes publiques accessibles et gratuites près du jardin du Mail.",
        70_000,
        estimated=80_000,
        reason="Raccordement possible rue de la Roë.",
        neighbourhood="Centre-ville",
    ),
    DemoProject(
        "Un parcours sportif le long de la Maine",
        "Des agrès de sport en accès libre le long des bords de Maine.",
        45_000,
        estimated=48_000,
        reason="Tracé validé avec le service des sports.",
        neighbourhood="Centre-ville",
    ),
    DemoProject(
        "Une patinoire en plein air",
        "Une patinoire éphémère chaque hiver place du Ralliement.",
        300_000,
        status=NO,
        reason="Dépense de fonctionnement annuelle, hors du champ du budget participatif.",
        neighbourhood="Centre-ville",
    ),
    DemoProject(
        "Un téléphérique vers Belle-Beille",
        "Un téléphérique urbain reliant la gare à Belle-Beille.",
        30_000_000,
        status=NO,
        reason="Le coût dépasse très largement l'enveloppe du quartier.",
        neighbourhood="Belle-Beille",
    ),
]
ANGERS_ENVELOPES = {
    "Monplaisir": 100_000,
    "Belle-Beille": 150_000,
    "La Doutre": 50_000,
    "Justices": 40_000,
    "Centre-ville": 120_000,
}

SAILLANS = [
    DemoProject(
        "Des bancs sur la place du Prieuré",
        "Trois bancs en bois local sur la place du Prieuré, pour s'asseoir à l'ombre du platane.",
        4_000,
        estimated=4_500,
        reason="Bois de la forêt communale, fabrication par un menuisier du village.",
    ),
    DemoProject(
        "Un abri à vélos à la gare",
        "Un abri couvert et sécurisé pour une vingtaine de vélos à la gare de Saillans.",
        12_000,
        estimated=13_000,
        reason="Terrain SNCF mis à disposition.",
    ),
    DemoProject(
        "Une aire de pique-nique au bord de la Drôme",
        "Des tables et des poubelles de tri près de la plage de la Drôme.",
        6_000,
        estimated=6_500,
        reason="Hors zone inondable, accord du syndicat de rivière.",
    ),
    DemoProject(
        "Une boîte à livres à la mairie",
        "Une boîte à livres sous le porche de la mairie.",
        1_500,
        estimated=1_500,
        reason="Fabrication par les jeunes du centre de loisirs.",
    ),
    DemoProject(
        "Des nichoirs à martinets",
        "Quarante nichoirs à martinets sur les façades des bâtiments communaux.",
        3_000,
        estimated=3_200,
        reason="Avec la LPO Drôme.",
    ),
    DemoProject(
        "Un composteur au jardin des Chapelains",
        "Un composteur collectif pour les habitants des Chapelains.",
        1_200,
        estimated=1_200,
        reason="Bacs fournis par la communauté de communes.",
    ),
    DemoProject(
        "Réparer le lavoir de la Tour",
        "Restaurer le lavoir de la Tour, dont le bassin fuit.",
        15_000,
        estimated=18_000,
        reason="Travaux simples de maçonnerie.",
    ),
    DemoProject(
        "Une fresque sur le mur de l'école",
        "Une fresque peinte avec les enfants de l'école sur le mur de la cour.",
        3_500,
        estimated=3_500,
        reason="Artiste du village volontaire.",
    ),
    DemoProject(
        "Un point d'eau au cimetière",
        "Un robinet près de l'entrée haute du cimetière pour arroser les tombes.",
        2_500,
        estimated=2_800,
        reason="Raccordement court au réseau.",
    ),
    DemoProject(
        "Des jeux pour les petits au parc",
        "Une balançoire et un toboggan pour les moins de six ans au parc municipal.",
        9_000,
        estimated=10_000,
        reason="Sol amortissant compris.",
    ),
    DemoProject(
        "Une navette vers Crest tous les jours",
        "Un minibus communal vers Crest matin et soir.",
        60_000,
        status=NO,
        reason="Dépense de fonctionnement ; le transport relève de la Région.",
    ),
    DemoProject(
        "Un pont piéton sur la Drôme",
        "Une passerelle piétonne entre le village et la rive gauche.",
        400_000,
        status=NO,
        reason="Le coût dépasse l'enveloppe ; étude à mener avec le Département.",
    ),
]
SAILLANS_CENSUS = [
    ("Élise Roux", date(1986, 4, 12)),
    ("Jean-Pierre Arnaud", date(1952, 9, 3)),
    ("Maëlle Fabre", date(2001, 1, 27)),
    ("Thomas Bernard", date(1978, 6, 30)),
    ("Hélène Chabert", date(1969, 11, 8)),
    ("Louis Garnier", date(1994, 2, 14)),
    ("Inès Morel", date(1990, 7, 21)),
    ("Pierre Vial", date(1945, 3, 2)),
]


@dataclass(frozen=True)
class DemoBudget:
    slug: str
    title: str
    description: str
    projects: list[DemoProject]
    # Days from today: submission start, submission end, vote start, vote end, works start.
    days: tuple[int, int, int, int, int]
    rule: VotingRule = VotingRule.KNAPSACK
    envelope: int = 0
    envelopes: dict[str, int] | None = None
    vote_per_neighbourhood: bool = False
    min_choices: int | None = None
    max_choices: int | None = None
    minimum_age: int | None = None
    require_census: bool = False
    eligible_population: int | None = None
    paper_ballots: int = 0
    process_title: str | None = None


BUDGETS = [
    DemoBudget(
        "mulhouse",
        "Budget participatif 2026 : à vous de choisir !",
        "Mulhouse consacre **500 000 €** d'investissement à des projets proposés par les "
        "habitantes et habitants. Les services ont analysé chaque projet ; c'est maintenant "
        "à vous de voter, en ligne ou dans l'une des mairies annexes.",
        MULHOUSE,
        (-70, -40, -5, 16, 40),
        envelope=500_000,
        minimum_age=16,
        eligible_population=88_000,
        paper_ballots=24,
    ),
    DemoBudget(
        "angers",
        "Budget des quartiers 2025",
        "Chaque quartier a voté pour ses projets, dans la limite de son enveloppe. Suivez ici "
        "leur réalisation.",
        ANGERS,
        (-260, -200, -150, -120, -90),
        envelopes=ANGERS_ENVELOPES,
        vote_per_neighbourhood=True,
        minimum_age=11,
        eligible_population=150_000,
        paper_ballots=180,
        process_title="Budget des quartiers",
    ),
    DemoBudget(
        "saillans",
        "Budget participatif du village",
        "30 000 € pour des projets simples et utiles à tout le village. Chaque habitante et "
        "chaque habitant choisit de un à trois projets.",
        SAILLANS,
        (-45, -15, 5, 25, 60),
        rule=VotingRule.APPROVAL,
        envelope=30_000,
        min_choices=1,
        max_choices=3,
        require_census=True,
    ),
]


def _tenant_ids() -> dict[str, int]:
    rows = db.session.execute(
        sa.text(
            "SELECT slug, id FROM public.tenants WHERE slug IN :slugs AND status = 'active'"
        ).bindparams(sa.bindparam("slugs", expanding=True)),
        {"slugs": [b.slug for b in BUDGETS]},
    )
    ids = {slug: tenant_id for slug, tenant_id in rows}
    db.session.rollback()  # entering a tenant needs no open transaction
    return ids


def _neighbourhoods() -> dict[str, Neighbourhood]:
    return {n.name: n for n in db.session.scalars(sa.select(Neighbourhood))}


def _sync_budget(spec: DemoBudget, today: date) -> Budget:
    places = _neighbourhoods()
    process_id = None
    if spec.process_title:
        from participation.processes.models import Process

        process_id = db.session.scalar(
            sa.select(Process.id).where(Process.title == spec.process_title)
        )
    budget = db.session.scalar(sa.select(Budget).where(Budget.title == spec.title))
    if budget is None:
        budget = Budget(title=spec.title)
    d = [today + timedelta(days=n) for n in spec.days]
    (
        budget.submission_starts_on,
        budget.submission_ends_on,
        budget.vote_starts_on,
        budget.vote_ends_on,
        budget.implementation_starts_on,
    ) = d
    budget.description = spec.description
    budget.rule = spec.rule
    budget.min_choices, budget.max_choices = spec.min_choices, spec.max_choices
    budget.minimum_age = spec.minimum_age
    budget.require_residency = True
    budget.require_census = spec.require_census
    budget.vote_per_neighbourhood = spec.vote_per_neighbourhood
    if spec.envelopes:
        budget.split_by_neighbourhood = True
        wanted = {
            places[name].id: amount for name, amount in spec.envelopes.items() if name in places
        }
        existing = {e.neighbourhood_id: e for e in budget.envelopes}
        for nid, amount in wanted.items():
            if nid in existing:
                existing[nid].amount = amount
            else:
                budget.envelopes.append(BudgetEnvelope(neighbourhood_id=nid, amount=amount))
        budget.envelope = sum(wanted.values())
    else:
        budget.split_by_neighbourhood = False
        budget.envelope = spec.envelope
    budget.process_id = process_id
    if budget.published_at is None:
        budget.published_at = datetime.now(UTC)
    db.session.add(budget)
    db.session.flush()
    return budget


def _sync_projects(
    budget: Budget, spec: DemoBudget, authors: list[User], admin: User
) -> list[BudgetProject]:
    places = _neighbourhoods()
    existing = {p.title: p for p in budget.projects}
    start = datetime.combine(budget.submission_starts_on, datetime.min.time(), tzinfo=UTC)
    projects = []
    for index, item in enumerate(spec.projects):
        project = existing.get(item.title)
        if project is None:
            project = BudgetProject(
                budget_id=budget.id,
                title=item.title,
                author_id=authors[index % len(authors)].id if authors else None,
                created_at=start + timedelta(days=index + 1, hours=index),
            )
            db.session.add(project)
        project.description = item.description
        project.proposed_cost = item.cost
        project.neighbourhood_id = (
            places[item.neighbourhood].id if item.neighbourhood in places else None
        )
        project.status = item.status
        project.estimated_cost = item.estimated
        project.analysis_reason = item.reason
        project.analysed_by_id = admin.id
        project.analysed_at = datetime.combine(
            budget.submission_ends_on, datetime.min.time(), tzinfo=UTC
        ) + timedelta(days=3)
        projects.append(project)
    db.session.flush()
    return projects


def _seed_ballots(budget: Budget, spec: DemoBudget, projects: list[BudgetProject]) -> int:
    if not spec.paper_ballots:
        return 0
    if db.session.scalar(sa.select(sa.func.count()).where(Ballot.budget_id == budget.id)):
        return 0
    rng = random.Random(f"{spec.slug}-{budget.id}")
    feasible = [p for p in projects if p.status == OK]
    # Some projects are more popular than others.
    weights = {p.id: rng.uniform(0.2, 1.0) for p in feasible}
    pools = services.envelopes(budget)
    points = ["Hôtel de ville", "Mairie de quartier"] if not budget.split_by_neighbourhood else None
    vote_day = datetime.combine(budget.vote_starts_on, datetime.min.time(), tzinfo=UTC)
    for number in range(spec.paper_ballots):
        if budget.vote_per_neighbourhood:
            area = rng.choice(list(pools))
            candidates = [p for p in feasible if p.neighbourhood_id == area]
            point = f"Mairie de quartier — {db.session.get(Neighbourhood, area).name}"
        else:
            area, candidates, point = None, feasible, rng.choice(points)
        order = sorted(candidates, key=lambda p: -weights[p.id] * rng.random())
        limit = pools[area]
        chosen, total = [], 0
        for project in order:
            if total + project.cost <= limit and rng.random() < 0.75:
                chosen.append(project)
                total += project.cost
        if not chosen and order:
            chosen = [min(order, key=lambda p: p.cost)]
        if not chosen:
            continue
        moment = vote_day + timedelta(hours=rng.randrange(9, 19) + 24 * rng.randrange(0, 5))
        db.session.add(
            Voter(
                budget_id=budget.id,
                voter_label=f"Électrice ou électeur n° {number + 1} (démo)",
                channel=BallotChannel.PAPER,
                polling_point=point,
                voted_at=moment,
            )
        )
        ballot = Ballot(
            budget_id=budget.id,
            channel=BallotChannel.PAPER,
            polling_point=point,
            neighbourhood_id=area,
            cast_hour=moment,
        )
        db.session.add(ballot)
        db.session.flush()
        db.session.add_all(BallotChoice(ballot_id=ballot.id, project_id=p.id) for p in chosen)
    db.session.flush()
    return spec.paper_ballots


FOLLOW_UP = [
    ("Études et commande", 20, True),
    ("Travaux", 60, False),
    ("Inauguration", 100, False),
]


def _seed_follow_up(budget: Budget, admin: User) -> int:
    if services.phase_label(budget.phase(clock.paris_today())) is None:  # pragma: no cover
        return 0
    retained = [row.project for row in services.compute_results(budget).retained]
    for index, project in enumerate(retained):
        if project.milestones:
            continue
        project.progress = [100, 60, 35, 20, 10][index % 5]
        start = budget.implementation_starts_on
        for position, (title, offset, done) in enumerate(FOLLOW_UP):
            db.session.add(
                BudgetMilestone(
                    project_id=project.id,
                    position=position,
                    title=title,
                    due_on=start + timedelta(days=offset),
                    done_on=start + timedelta(days=offset - 5)
                    if done or project.progress == 100
                    else None,
                )
            )
        db.session.add(
            BudgetUpdate(
                project_id=project.id,
                author_id=admin.id,
                body=(
                    f"Les études de « {project.title} » sont terminées et la commande est passée. "
                    "Les travaux suivront le calendrier ci-dessus ; nous publierons des photos "
                    "du chantier."
                ),
            )
        )
    db.session.flush()
    return len(retained)


def _seed_census(budget: Budget) -> None:
    if services.census_size(budget):
        return
    db.session.execute(
        sa.insert(CensusEntry),
        [
            {
                "budget_id": budget.id,
                "full_name": name,
                "normalised_name": services.normalise_name(name),
                "birth_date": born,
            }
            for name, born in SAILLANS_CENSUS
        ],
    )
    budget.eligible_population = 1_050
    db.session.flush()


def _people() -> tuple[list[User], User | None]:
    citizens = list(
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
    admin = db.session.scalar(
        sa.select(User).where(User.staff_role == StaffRole.ADMIN).order_by(User.id).limit(1)
    )
    return citizens, admin


@demo.register(order=70)
def seed_budgets():
    ids = _tenant_ids()
    if not ids:
        yield "budgets demo: no active demo tenant, skipped"
        return
    for spec in BUDGETS:
        tenant_id = ids.get(spec.slug)
        if tenant_id is None:
            continue
        with tenant_context(tenant_id) as tenant:
            citizens, admin = _people()
            if admin is None:
                yield f"{tenant.name} budget participatif: no admin yet, skipped"
                continue
            budget = _sync_budget(spec, clock.paris_today())
            projects = _sync_projects(budget, spec, citizens, admin)
            ballots = _seed_ballots(budget, spec, projects)
            if spec.require_census:
                _seed_census(budget)
            followed = 0
            if spec.slug == "angers":
                followed = _seed_follow_up(budget, admin)
            db.session.commit()
            yield (
                f"{tenant.name} budget participatif « {budget.title} » : {len(projects)} projets, "
                f"{ballots} bulletins ajoutés, {followed} projets suivis "
                f"(/budgets-participatifs/{budget.id})"
            )
