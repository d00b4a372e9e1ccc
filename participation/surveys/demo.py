"""Demo consultations (order 65, after the processes and proposals): in each demo
collectivité, « Mobilités douces : vos habitudes », closed, anonymous, with 40 responses,
published results and a « Vous avez dit, nous avons fait » page; and « Le marché du
samedi », open and nominative, with no response yet, to try answering and editing.

The demo citizens' responses are recorded like web responses (participation row, no link);
the others are paper questionnaires from the mobility forum (``channel = 'paper'``), as a
collectivité would type them in. Rows are inserted directly: the survey is already closed.
Idempotent: a survey is found by its title and left alone when it exists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import selectinload

from core import clock, demo
from core.db import db
from participation.accounts.models import StaffRole, User
from participation.processes.models import Process
from participation.surveys.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
    SurveyState,
)
from tenants.context import tenant_context
from tenants.models import Tenant, TenantStatus

SLUGS = ("mulhouse", "saillans", "angers")
MOBILITY_TITLE = "Mobilités douces : vos habitudes"
MARKET_TITLE = "Le marché du samedi : qu'en pensez-vous ?"
PROCESS_FOR = {
    "mulhouse": "Plan vélo 2027",
    "saillans": "Mobilités douces au village",
    "angers": None,
}
RESPONSES = 40


@dataclass(frozen=True)
class Q:
    kind: QuestionKind
    text: str
    options: tuple[str, ...] = ()
    required: bool = False
    section: int | None = None  # index in SECTIONS
    max_choices: int | None = None
    scale: tuple[str, str] = ("", "")
    condition: tuple[int, str] | None = None  # (question index, option label)
    help_text: str = ""


SECTIONS = (
    ("Vos déplacements", "Quelques questions sur vos trajets de tous les jours."),
    ("Vos priorités", "Ce que la collectivité devrait faire en premier."),
)
MOBILITY_QUESTIONS = (
    Q(
        QuestionKind.SINGLE,
        "Quel mode de transport utilisez-vous le plus souvent pour vos trajets quotidiens ?",
        ("Voiture", "Transports en commun", "Vélo", "Marche à pied", "Trottinette ou autre"),
        required=True,
        section=0,
    ),
    Q(
        QuestionKind.MULTIPLE,
        "Qu'est-ce qui vous empêche de vous déplacer davantage à vélo ?",
        (
            "Le manque de pistes sécurisées",
            "La peur du vol",
            "Des distances trop longues",
            "Le relief ou la météo",
            "Je n'ai pas de vélo",
        ),
        section=0,
        max_choices=3,
        help_text="Trois réponses au plus.",
    ),
    Q(
        QuestionKind.SCALE,
        "Vous sentez-vous en sécurité à vélo dans la commune ?",
        required=True,
        section=0,
        scale=("Pas du tout", "Tout à fait"),
    ),
    Q(
        QuestionKind.NUMBER,
        "Combien de kilomètres parcourez-vous par jour, environ ?",
        section=0,
    ),
    Q(
        QuestionKind.RANKING,
        "Classez ces aménagements par ordre de priorité.",
        (
            "Des pistes cyclables séparées",
            "Des stationnements vélo sécurisés",
            "Des zones 30 autour des écoles",
            "Des trottoirs élargis",
        ),
        required=True,
        section=1,
    ),
    Q(
        QuestionKind.SINGLE,
        "Utilisez-vous les vélos en location de courte durée ?",
        ("Oui, régulièrement", "Parfois", "Jamais"),
        section=1,
    ),
    Q(
        QuestionKind.SHORT_TEXT,
        "Pourquoi ne les utilisez-vous pas ?",
        section=1,
        condition=(5, "Jamais"),
    ),
    Q(
        QuestionKind.DATE,
        "À partir de quand seriez-vous disponible pour un atelier de réparation de vélos ?",
        section=1,
    ),
    Q(QuestionKind.LONG_TEXT, "Une idée, une remarque ?", section=1),
)
MARKET_QUESTIONS = (
    Q(
        QuestionKind.SINGLE,
        "Venez-vous au marché du samedi ?",
        ("Chaque semaine", "De temps en temps", "Jamais"),
        required=True,
    ),
    Q(
        QuestionKind.MULTIPLE,
        "Qu'aimeriez-vous y trouver de plus ?",
        ("Des producteurs bio", "Un coin restauration", "Des animations", "Un point vélo"),
        max_choices=2,
        condition=(0, "Chaque semaine"),
    ),
    Q(
        QuestionKind.SCALE,
        "Les horaires (8 h – 13 h) vous conviennent-ils ?",
        scale=("Pas du tout", "Parfaitement"),
    ),
    Q(QuestionKind.LONG_TEXT, "Votre suggestion pour le marché"),
)

IDEAS = (
    "Des arceaux devant la médiathèque, ils sont toujours pleins.",
    "Éclairer la piste le long du canal, l'hiver il fait nuit à 17 h.",
    "Une vélo-école pour les adultes, je n'ai jamais appris.",
    "Plus de contrôles de vitesse rue du Sauvage.",
    "Des bancs le long des trottoirs pour les personnes âgées.",
    "Un garage à vélos fermé à la gare.",
    "Relier les écoles par des rues cyclables.",
)
WHY_NOT = (
    "Pas de station près de chez moi.",
    "Trop cher pour un usage occasionnel.",
    "Je préfère mon propre vélo.",
    "Je ne savais pas que ça existait.",
)

OUTCOME = """## Ce que vous nous avez dit

Vous avez été {n} à répondre. La voiture reste le premier mode de déplacement, mais
**le manque de pistes sécurisées** est le premier frein cité au vélo, et vous placez les
**pistes cyclables séparées** en tête des priorités.

## Ce que nous faisons

- **Trois continuités cyclables** seront aménagées d'ici l'été prochain, en commençant par
  les abords des écoles.
- **Cent places de stationnement vélo sécurisées** seront installées près des gares et des
  équipements publics.
- Un **atelier mensuel de réparation** de vélos ouvrira à la rentrée, avec une association
  locale.

## Ce que nous ne retenons pas pour l'instant

L'élargissement général des trottoirs : il sera étudié rue par rue, lors des travaux de
voirie déjà programmés.

Merci à toutes et à tous pour vos réponses.
"""


def _tenant_ids() -> dict[str, int]:
    tenants = db.session.scalars(sa.select(Tenant).where(Tenant.slug.in_(SLUGS)))
    ids = {t.slug: t.id for t in tenants if t.status == TenantStatus.ACTIVE}
    db.session.rollback()
    return ids


def _build(survey: Survey, specs: tuple[Q, ...]) -> list[SurveyQuestion]:
    sections = []
    if any(spec.section is not None for spec in specs):
        for position, (title, description) in enumerate(SECTIONS, start=1):
            section = SurveySection(title=title, description=description, position=position)
            survey.sections.append(section)
            sections.append(section)
        db.session.flush()
    questions = []
    for position, spec in enumerate(specs, start=1):
        question = SurveyQuestion(
            kind=spec.kind,
            text=spec.text,
            help_text=spec.help_text,
            is_required=spec.required,
            position=position,
            max_choices=spec.max_choices,
            scale_min_label=spec.scale[0],
            scale_max_label=spec.scale[1],
            section_id=sections[spec.section].id if spec.section is not None else None,
        )
        question.options = [
            SurveyOption(label=label, position=n) for n, label in enumerate(spec.options, 1)
        ]
        survey.questions.append(question)
        questions.append(question)
    db.session.flush()
    for spec, question in zip(specs, questions, strict=True):
        if spec.condition:
            index, label = spec.condition
            question.condition_option_id = next(
                o.id for o in questions[index].options if o.label == label
            )
    db.session.flush()
    return questions


def _pick(rng: random.Random, options, weights):
    return rng.choices(options, weights=weights, k=1)[0]


def _answers(rng: random.Random, questions: list[SurveyQuestion]) -> list[dict]:
    """One plausible response to the mobility questionnaire."""
    q = questions
    out: list[dict] = []

    def add(question, **values):
        out.append({"question_id": question.id, **values})

    mode = _pick(rng, q[0].options, (34, 22, 24, 16, 4))
    add(q[0], option_id=mode.id)
    if rng.random() < 0.85:
        for option in rng.sample(q[1].options, k=rng.choice((1, 1, 2, 3))):
            add(q[1], option_id=option.id)
    cyclist = mode.label == "Vélo"
    add(
        q[2],
        number_value=Decimal(
            _pick(rng, (1, 2, 3, 4, 5), (2, 4, 4, 3, 1) if cyclist else (4, 5, 3, 2, 1))
        ),
    )
    if rng.random() < 0.7:
        add(q[3], number_value=Decimal(rng.choice((2, 3, 5, 6, 8, 10, 12, 15, 20, 25))))
    ranking = list(q[4].options)
    rng.shuffle(ranking)
    if rng.random() < 0.6:  # most put separated cycle paths first
        ranking.remove(q[4].options[0])
        ranking.insert(0, q[4].options[0])
    for rank, option in enumerate(ranking, start=1):
        add(q[4], option_id=option.id, rank=rank)
    if rng.random() < 0.9:
        used = _pick(rng, q[5].options, (2, 3, 5))
        add(q[5], option_id=used.id)
        if used.label == "Jamais" and rng.random() < 0.7:
            add(q[6], text_value=rng.choice(WHY_NOT))
    if rng.random() < 0.3:
        add(q[7], date_value=clock.paris_today() + timedelta(days=rng.randint(10, 60)))
    if rng.random() < 0.35:
        add(q[8], text_value=rng.choice(IDEAS))
    return out


def _seed_mobility(slug: str, citizens: list[User], admin: User | None) -> str:
    if db.session.scalar(sa.select(Survey.id).where(Survey.title == MOBILITY_TITLE)):
        return "déjà là"
    today = clock.paris_today()
    process = _process(PROCESS_FOR.get(slug))
    survey = Survey(
        title=MOBILITY_TITLE,
        summary="Comment vous déplacez-vous, et que faudrait-il pour marcher et pédaler "
        "davantage ? Vos réponses ont préparé le plan des mobilités douces.",
        description="Cette consultation, **anonyme**, a été ouverte pendant cinq semaines en "
        "ligne et lors du forum des mobilités, où des questionnaires papier ont été "
        "remplis puis saisis par le service Démocratie participative.",
        state=SurveyState.PUBLISHED,
        is_anonymous=True,
        opens_on=today - timedelta(days=40),
        closes_on=today - timedelta(days=5),
        published_at=clock.utcnow() - timedelta(days=41),
        results_published_at=clock.utcnow() - timedelta(days=3),
        outcome_published_at=clock.utcnow() - timedelta(days=1),
        outcome=OUTCOME.format(n=RESPONSES),
        process_id=process.id if process else None,
        phase_id=process.phases[0].id if process and process.phases else None,
        created_by_id=admin.id if admin else None,
    )
    db.session.add(survey)
    db.session.flush()
    questions = _build(survey, MOBILITY_QUESTIONS)
    rng = random.Random(f"pnyx-demo-{slug}")
    start = clock.utcnow() - timedelta(days=40)
    for index in range(RESPONSES):
        web = index < len(citizens)
        when = start + timedelta(hours=rng.randint(0, 35 * 24))
        response = SurveyResponse(
            survey_id=survey.id,
            user_id=None,
            channel="web" if web else "paper",
            submitted_at=when.replace(minute=0, second=0, microsecond=0),
        )
        db.session.add(response)
        db.session.flush()
        if web:
            db.session.execute(
                pg_insert(SurveyParticipation)
                .values(survey_id=survey.id, user_id=citizens[index].id)
                .on_conflict_do_nothing()
            )
        db.session.execute(
            sa.insert(SurveyAnswer),
            [{"response_id": response.id, **row} for row in _answers(rng, questions)],
        )
    return f"{RESPONSES} réponses"


def _seed_market(admin: User | None) -> str:
    if db.session.scalar(sa.select(Survey.id).where(Survey.title == MARKET_TITLE)):
        return "déjà là"
    today = clock.paris_today()
    survey = Survey(
        title=MARKET_TITLE,
        summary="Horaires, producteurs, animations : aidez-nous à faire évoluer le marché.",
        description="Vos réponses sont **nominatives** : vous pourrez les modifier jusqu'à la "
        "clôture de la consultation.",
        state=SurveyState.PUBLISHED,
        is_anonymous=False,
        opens_on=today - timedelta(days=3),
        closes_on=today + timedelta(days=25),
        published_at=clock.utcnow() - timedelta(days=3),
        created_by_id=admin.id if admin else None,
    )
    db.session.add(survey)
    db.session.flush()
    _build(survey, MARKET_QUESTIONS)
    return "ouverte"


def _process(title: str | None) -> Process | None:
    if not title:
        return None
    return db.session.scalar(
        sa.select(Process).where(Process.title == title).options(selectinload(Process.phases))
    )


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
        sa.select(User).where(User.staff_role == StaffRole.ADMIN).order_by(User.id).limit(1)
    )


@demo.register(order=65)
def seed_surveys():
    ids = _tenant_ids()
    if not ids:
        yield "surveys demo: no active demo tenant, skipped"
        return
    for slug, tenant_id in ids.items():
        with tenant_context(tenant_id) as tenant:
            citizens, admin = _citizens(), _admin()
            mobility = _seed_mobility(slug, citizens, admin)
            market = _seed_market(admin)
            db.session.commit()
            yield (
                f"{tenant.name} consultations: « {MOBILITY_TITLE} » ({mobility}), "
                f"« {MARKET_TITLE} » ({market})"
            )
