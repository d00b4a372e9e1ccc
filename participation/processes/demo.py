"""Demo processes of the three demo collectivités: themes, and four processes each at
different stages (open for contributions, upcoming, finished with results, in
implementation).

Dates are computed from today, so the stages stay true whenever the demo is seeded. The
seeder owns these processes (found by title): running it again brings their fields and
phases back to the definition below, with today's dates. Idempotent within a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from core import clock, demo
from core.db import db
from participation.accounts.models import Neighbourhood
from participation.processes import services
from participation.processes.models import Phase, PhaseKind, Process, ProcessState, Theme
from tenants.context import tenant_context
from tenants.models import Tenant, TenantStatus

THEMES = ["Mobilités", "Environnement", "Cadre de vie", "Culture", "Solidarités", "Jeunesse"]

INFO, CONTRIB, ANALYSIS, VOTE, RESULTS, WORKS = (
    PhaseKind.INFORMATION,
    PhaseKind.CONTRIBUTIONS,
    PhaseKind.ANALYSIS,
    PhaseKind.VOTE,
    PhaseKind.RESULTS,
    PhaseKind.IMPLEMENTATION,
)


@dataclass(frozen=True)
class DemoPhase:
    kind: PhaseKind
    title: str
    start: int  # days from today
    end: int
    actions: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class DemoProcess:
    title: str
    theme: str
    summary: str
    description: str
    phases: tuple[DemoPhase, ...]
    neighbourhood: str | None = None
    support_threshold: int | None = None


def _open_for_contributions(subject: str, vote: bool = False) -> tuple[DemoPhase, ...]:
    phases = [
        DemoPhase(
            INFO,
            "Information et diagnostic",
            -40,
            -15,
            ("comment",),
            f"Réunions publiques et balades de diagnostic sur {subject}. Les comptes rendus "
            "sont en ligne ; vos remarques restent les bienvenues en commentaire.",
        ),
        DemoPhase(
            CONTRIB,
            "Vos propositions",
            -14,
            30,
            ("propose", "support", "comment", "debate"),
            "Déposez vos idées, soutenez celles des autres et débattez des questions "
            "ouvertes. Chaque proposition recevra une réponse publique de la collectivité.",
        ),
        DemoPhase(
            ANALYSIS,
            "Étude par les services",
            31,
            75,
            ("comment",),
            "Les services étudient la faisabilité technique, juridique et financière de "
            "chaque proposition. Les avis sont publiés au fil de l'eau.",
        ),
    ]
    if vote:
        phases.append(
            DemoPhase(
                VOTE,
                "Vote des habitants",
                76,
                96,
                ("support",),
                "Chaque habitant peut soutenir les projets retenus.",
            )
        )
    phases.append(
        DemoPhase(
            RESULTS,
            "Résultats",
            97 if vote else 76,
            120 if vote else 100,
            (),
            "Publication des projets retenus et du calendrier de réalisation.",
        )
    )
    return tuple(phases)


def _upcoming(subject: str) -> tuple[DemoPhase, ...]:
    return (
        DemoPhase(
            INFO,
            "Lancement et réunion publique",
            12,
            30,
            ("comment",),
            f"Présentation de la démarche sur {subject} et des règles du jeu.",
        ),
        DemoPhase(
            CONTRIB,
            "Contributions",
            31,
            80,
            ("propose", "support", "comment"),
            "Propositions en ligne et ateliers dans les quartiers.",
        ),
        DemoPhase(
            ANALYSIS,
            "Analyse et arbitrages",
            81,
            120,
            (),
            "Les services et les élus étudient les contributions.",
        ),
        DemoPhase(
            RESULTS,
            "Restitution",
            121,
            135,
            ("comment",),
            "Restitution publique : ce qui est retenu, ce qui ne l'est pas, et pourquoi.",
        ),
    )


def _finished(results: str) -> tuple[DemoPhase, ...]:
    return (
        DemoPhase(
            INFO, "Information", -240, -211, (), "Trois réunions publiques ont réuni 180 personnes."
        ),
        DemoPhase(
            CONTRIB,
            "Contributions",
            -210,
            -151,
            ("propose", "support", "comment"),
            "126 propositions déposées, 1 450 soutiens, 310 commentaires.",
        ),
        DemoPhase(
            ANALYSIS,
            "Analyse",
            -150,
            -91,
            (),
            "Chaque proposition a reçu une réponse argumentée des services.",
        ),
        DemoPhase(RESULTS, "Résultats", -90, -10, ("comment",), results),
    )


def _in_implementation(results: str, works: str) -> tuple[DemoPhase, ...]:
    return (
        DemoPhase(INFO, "Information", -400, -371, (), "Lancement et réunions publiques."),
        DemoPhase(
            CONTRIB,
            "Contributions",
            -370,
            -311,
            ("propose", "support", "comment", "debate"),
            "89 propositions et 2 débats publics.",
        ),
        DemoPhase(ANALYSIS, "Analyse", -310, -251, (), "Études de faisabilité par les services."),
        DemoPhase(RESULTS, "Résultats", -250, -201, ("comment",), results),
        DemoPhase(WORKS, "Mise en œuvre", -200, 240, ("comment",), works),
    )


DESCRIPTION = """{intro}

## Pourquoi cette démarche ?

{why}

## Comment participer ?

- consultez les documents et le calendrier ci-dessous ;
- déposez vos propositions et soutenez celles des autres pendant la phase de contributions ;
- suivez la démarche pour être prévenu·e de chaque nouvelle étape.

Chaque contribution reçoit une **réponse publique** de la collectivité.
"""


def _description(intro: str, why: str) -> str:
    return DESCRIPTION.format(intro=intro, why=why)


PROCESSES: dict[str, list[DemoProcess]] = {
    "mulhouse": [
        DemoProcess(
            "Réinventons les berges de l'Ill",
            "Cadre de vie",
            "Promenade, baignade, guinguettes, nature : imaginons ensemble les berges de l'Ill "
            "entre le centre-ville et Dornach.",
            _description(
                "La Ville de Mulhouse lance une grande concertation sur l'avenir des berges de "
                "l'Ill et du canal du Rhône au Rhin.",
                "Les berges sont aujourd'hui peu accessibles, alors qu'elles pourraient devenir "
                "un lieu de promenade, de fraîcheur et de rencontre au cœur de la ville.",
            ),
            _open_for_contributions("les berges de l'Ill", vote=True),
            support_threshold=50,
        ),
        DemoProcess(
            "Plan vélo 2027",
            "Mobilités",
            "Pistes cyclables, stationnement, apprentissage : dites-nous où et comment vous "
            "aimeriez pédaler en sécurité.",
            _description(
                "Le plan vélo 2027 fixera les aménagements cyclables des trois prochaines années.",
                "La part du vélo dans les déplacements progresse, mais les discontinuités du "
                "réseau et le manque de stationnement freinent encore beaucoup d'habitants.",
            ),
            _upcoming("le plan vélo"),
        ),
        DemoProcess(
            "Un nouveau souffle pour le parc Salvator",
            "Environnement",
            "Les habitants ont choisi les aménagements du parc Salvator : découvrez les résultats.",
            _description(
                "Le parc Salvator, poumon vert du centre-ville, avait besoin d'être rénové.",
                "Ombre, jeux, toilettes publiques et biodiversité : les usages ont changé.",
            ),
            _finished(
                "**12 projets retenus**, dont une aire de jeux inclusive, 40 arbres plantés et "
                "des fontaines à eau. Le détail des réponses est publié sur chaque proposition."
            ),
            neighbourhood="Centre-ville",
        ),
        DemoProcess(
            "Cours d'école Oasis",
            "Jeunesse",
            "Débitumer et végétaliser les cours d'école de Drouot-Barbanègre, avec les enfants "
            "et les parents.",
            _description(
                "Les cours d'école deviennent des îlots de fraîcheur ouverts au quartier.",
                "Les cours bitumées sont brûlantes l'été ; les enfants et les parents ont "
                "dessiné avec les services des cours plus vertes et plus calmes.",
            ),
            _in_implementation(
                "Trois cours retenues : écoles Drouot, Jean-Zay et Cité.",
                "Travaux pendant les vacances scolaires ; la première cour ouvre à la rentrée.",
            ),
            neighbourhood="Drouot-Barbanègre",
        ),
    ],
    "saillans": [
        DemoProcess(
            "Révision participative du PLU",
            "Cadre de vie",
            "Où construire, que protéger, comment se loger au village ? Le plan local "
            "d'urbanisme se révise avec les habitants.",
            _description(
                "Saillans révise son plan local d'urbanisme (PLU) avec un comité de pilotage "
                "composé d'habitants tirés au sort et d'élus.",
                "Le PLU décide de l'usage de chaque parcelle pour quinze ans : logement, "
                "agriculture, espaces naturels, activités.",
            ),
            _open_for_contributions("le PLU"),
        ),
        DemoProcess(
            "Mobilités douces au village",
            "Mobilités",
            "Cheminements piétons, covoiturage, navette vers la gare de Crest : préparons "
            "ensemble le plan de mobilité du village.",
            _description(
                "Un plan de mobilité douce pour se déplacer autrement à Saillans.",
                "La traversée du village par la départementale et l'éloignement de la gare "
                "rendent la voiture presque indispensable.",
            ),
            _upcoming("les mobilités douces"),
        ),
        DemoProcess(
            "Éclairage public : éteindre la nuit ?",
            "Environnement",
            "Les habitants ont décidé d'éteindre l'éclairage public de 23 h à 5 h.",
            _description(
                "Faut-il éteindre l'éclairage public une partie de la nuit ?",
                "Économies d'énergie, biodiversité et ciel étoilé d'un côté, sentiment de "
                "sécurité de l'autre.",
            ),
            _finished(
                "Extinction de **23 h à 5 h** toute l'année, sauf la nuit du 14 juillet et les "
                "soirs de fête votive. Économie attendue : 40 % de la facture d'éclairage."
            ),
        ),
        DemoProcess(
            "Jardins partagés des Samarins",
            "Solidarités",
            "Des parcelles cultivées ensemble, un composteur collectif et un verger : les "
            "jardins partagés prennent forme.",
            _description(
                "Des jardins partagés sur le terrain communal des Samarins.",
                "Des habitants sans jardin souhaitaient cultiver ; la commune disposait d'un "
                "terrain en friche.",
            ),
            _in_implementation(
                "Vingt parcelles, un verger de 15 arbres et un composteur collectif retenus.",
                "Les premières parcelles sont cultivées ; le verger sera planté à l'automne.",
            ),
            neighbourhood="Les Samarins",
        ),
    ],
    "angers": [
        DemoProcess(
            "Budget des quartiers",
            "Cadre de vie",
            "Un million d'euros pour des projets proposés et choisis par les habitants de "
            "chaque quartier.",
            _description(
                "Angers consacre chaque année un budget aux projets imaginés par les habitants.",
                "Les habitants connaissent mieux que quiconque les besoins de leur quartier : "
                "bancs, jardins, fresques, équipements sportifs…",
            ),
            _open_for_contributions("les projets des quartiers", vote=True),
            support_threshold=30,
        ),
        DemoProcess(
            "La culture dans l'espace public",
            "Culture",
            "Fresques, concerts de rue, boîtes à livres : quelle place pour la culture dans "
            "nos rues et nos places ?",
            _description(
                "Une démarche pour faire sortir la culture des équipements culturels.",
                "Les habitants éloignés des équipements culturels demandent des propositions "
                "au plus près de chez eux.",
            ),
            _upcoming("la culture dans l'espace public"),
        ),
        DemoProcess(
            "Conseil des jeunes : vos priorités",
            "Jeunesse",
            "Les 15-25 ans ont choisi les trois priorités du conseil des jeunes.",
            _description(
                "Le conseil des jeunes a consulté les 15-25 ans sur ses priorités.",
                "Le conseil des jeunes voulait un mandat clair, donné par les jeunes eux-mêmes.",
            ),
            _finished(
                "Les trois priorités retenues : **logement étudiant**, **lieux pour se "
                "retrouver le soir**, **transports de nuit**."
            ),
        ),
        DemoProcess(
            "Cœur de Maine : les bords de Maine réaménagés",
            "Environnement",
            "Les propositions des habitants se réalisent : promenade, guinguette et îlots de "
            "fraîcheur au bord de la Maine.",
            _description(
                "Le réaménagement des bords de Maine, côté Doutre.",
                "Les quais étaient dédiés à la voiture ; les habitants voulaient retrouver la "
                "rivière.",
            ),
            _in_implementation(
                "Promenade piétonne continue, guinguette saisonnière et 200 arbres retenus.",
                "Les travaux de la promenade sont en cours ; la guinguette ouvre au printemps.",
            ),
            neighbourhood="Doutre",
        ),
    ],
}


def _seed_themes() -> dict[str, Theme]:
    existing = {theme.name: theme for theme in db.session.scalars(sa.select(Theme))}
    for position, name in enumerate(THEMES, start=1):
        if name not in existing:
            theme = Theme(name=name, position=position)
            db.session.add(theme)
            existing[name] = theme
    db.session.flush()
    return existing


def _sync_process(spec: DemoProcess, themes: dict[str, Theme], today: date) -> Process:
    process = db.session.scalar(
        sa.select(Process).where(Process.title == spec.title).order_by(Process.id).limit(1)
    )
    if process is None:
        process = Process(title=spec.title, state=ProcessState.DRAFT)
        db.session.add(process)
    neighbourhood_id = None
    if spec.neighbourhood:
        neighbourhood_id = db.session.scalar(
            sa.select(Neighbourhood.id).where(Neighbourhood.name == spec.neighbourhood)
        )
    process.summary = spec.summary
    process.description = spec.description
    process.theme_id = themes[spec.theme].id
    process.neighbourhood_id = neighbourhood_id
    process.support_threshold = spec.support_threshold
    phases = sorted(process.phases, key=lambda p: p.position)
    for position, phase_spec in enumerate(spec.phases, start=1):
        if position <= len(phases):
            phase = phases[position - 1]
        else:
            phase = Phase()
            process.phases.append(phase)
        phase.position = position
        phase.kind = phase_spec.kind
        phase.title = phase_spec.title
        phase.description = phase_spec.description
        phase.starts_on = today + timedelta(days=phase_spec.start)
        phase.ends_on = today + timedelta(days=phase_spec.end)
        for action in services.ACTIONS:
            setattr(phase, f"allows_{action}", action in phase_spec.actions)
    for extra in phases[len(spec.phases) :]:
        process.phases.remove(extra)
    if process.state == ProcessState.DRAFT:
        process.publish()
    elif process.state == ProcessState.ARCHIVED:
        process.state = ProcessState.PUBLISHED
    db.session.flush()
    return process


@demo.register(order=50)
def seed_processes():
    slugs = list(PROCESSES)
    tenants = {
        t.slug: t for t in db.session.scalars(sa.select(Tenant).where(Tenant.slug.in_(slugs)))
    }
    ready = {slug: t.id for slug, t in tenants.items() if t.status == TenantStatus.ACTIVE}
    db.session.rollback()
    for slug in slugs:
        if slug not in ready:
            yield f"processes demo: {slug} is not an active tenant, skipped"
            continue
        with tenant_context(ready[slug]) as tenant:
            today = clock.paris_today()
            themes = _seed_themes()
            processes = [_sync_process(spec, themes, today) for spec in PROCESSES[slug]]
            statuses = [services.process_status(p, today) for p in processes]
            db.session.commit()
            counts = ", ".join(
                f"{statuses.count(status)} {status.value}" for status in services.ProcessStatus
            )
            yield (
                f"{tenant.name} démarches: {len(processes)} ({counts}) "
                f"http://{tenant.primary_host}{_port()}/demarches"
            )


def _port() -> str:
    domain = current_app.config["PLATFORM_DOMAIN"]
    return ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""
