"""A tenant seeded with every kind of public and non-public content the API and the
open-data bundle must handle: published, archived and draft processes; proposals answered,
rejected, withdrawn, hidden, and by a blocked author; a deleted account; debates with
hidden and deleted arguments; comments hidden, deleted, and on a hidden proposal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from core.db import db

HIDDEN_TEXT = "Texte masqué par la modération zqxj"
DELETED_TEXT = "Texte supprimé par son auteur wvkp"
DRAFT_TITLE = "Brouillon secret de la mairie"


@dataclass
class Seeded:
    tenant: object
    emails: list[str] = field(default_factory=list)
    process_ids: dict[str, int] = field(default_factory=dict)
    proposal_ids: dict[str, int] = field(default_factory=dict)
    debate_id: int = 0
    comment_ids: dict[str, int] = field(default_factory=dict)
    theme_ids: dict[str, int] = field(default_factory=dict)
    neighbourhood_ids: dict[str, int] = field(default_factory=dict)
    bulk_process_id: int = 0
    bulk_count: int = 0


def seed_tenant(app, tenant, bulk: int = 45) -> Seeded:
    from participation.accounts.models import Neighbourhood, StaffRole, User
    from participation.debates.models import Argument, Debate, DebateState, Side
    from participation.engagement.comments import Comment
    from participation.processes.models import Phase, PhaseKind, Process, ProcessState, Theme
    from participation.proposals.models import (
        Proposal,
        ProposalEvent,
        ProposalEventKind,
        ProposalStatus,
        Support,
    )
    from tenants.context import tenant_context

    seeded = Seeded(tenant)
    now = datetime.now(UTC)
    today = date.today()
    token = uuid.uuid4().hex[:6]
    with app.app_context(), tenant_context(tenant):

        def user(name: str, **extra) -> User:
            email = f"{name.lower()}.{token}@example.fr"
            seeded.emails.append(email)
            person = User(
                email=email, display_name=f"{name} {token}", email_confirmed_at=now, **extra
            )
            db.session.add(person)
            return person

        camille = user("Camille")
        yasmine = user("Yasmine")
        blocked = user("Bloque", blocked_at=now, blocked_reason="spam")
        gone = user("Parti")
        agent = user("Agent", staff_role=StaffRole.ADMIN)
        velo = Theme(name=f"Mobilités {token}", position=1)
        nature = Theme(name=f"Nature {token}", position=2)
        centre = Neighbourhood(name=f"Centre {token}", position=1)
        nord = Neighbourhood(name=f"Nord {token}", position=2)
        db.session.add_all([velo, nature, centre, nord])
        db.session.flush()
        gone.email = None  # deleted account: the row stays, anonymous
        gone.deleted_at = now
        seeded.theme_ids = {"velo": velo.id, "nature": nature.id}
        seeded.neighbourhood_ids = {"centre": centre.id, "nord": nord.id}

        def process(title: str, state: ProcessState, theme=None, start=-10, end=20) -> Process:
            item = Process(
                title=title,
                summary=f"Résumé de {title}",
                description="Une **démarche** de test.",
                state=state,
                theme_id=theme.id if theme else None,
                published_at=now if state != ProcessState.DRAFT else None,
                created_by_id=agent.id,
            )
            item.phases.append(
                Phase(
                    position=1,
                    kind=PhaseKind.CONTRIBUTIONS,
                    title="Propositions",
                    starts_on=today + timedelta(days=start),
                    ends_on=today + timedelta(days=end),
                    allows_propose=True,
                    allows_support=True,
                    allows_comment=True,
                    allows_debate=True,
                )
            )
            db.session.add(item)
            db.session.flush()
            return item

        open_process = process("Plan vélo", ProcessState.PUBLISHED, velo)
        archived = process("Berges", ProcessState.ARCHIVED, nature, start=-60, end=-30)
        upcoming = process("Budget jeunes", ProcessState.PUBLISHED, nature, start=10, end=40)
        draft = process(DRAFT_TITLE, ProcessState.DRAFT)
        bulk_process = process("Grand débat", ProcessState.PUBLISHED, velo)
        seeded.process_ids = {
            "open": open_process.id,
            "archived": archived.id,
            "upcoming": upcoming.id,
            "draft": draft.id,
        }
        seeded.bulk_process_id = bulk_process.id

        def proposal(key: str, process_: Process, author: User, **values) -> Proposal:
            item = Proposal(
                process_id=process_.id,
                author_id=author.id,
                title=values.pop("title", f"Proposition {key}"),
                body=values.pop("body", f"Le texte de la proposition {key}, avec des détails."),
                **values,
            )
            db.session.add(item)
            db.session.flush()
            db.session.add(
                ProposalEvent(
                    proposal_id=item.id, kind=ProposalEventKind.CREATED, actor_id=author.id
                )
            )
            seeded.proposal_ids[key] = item.id
            return item

        answered = proposal(
            "answered",
            open_process,
            camille,
            title="Piste cyclable rue du Sauvage",
            theme_id=velo.id,
            neighbourhood_id=centre.id,
            status=ProposalStatus.ACCEPTED,
            answer="La ville retient votre idée : travaux au printemps.",
            answered_at=now,
            answered_by_id=agent.id,
            latitude=47.75,
            longitude=7.34,
        )
        db.session.add_all(
            [
                ProposalEvent(
                    proposal_id=answered.id,
                    kind=ProposalEventKind.STATUS,
                    from_status="received",
                    to_status="accepted",
                    actor_id=agent.id,
                ),
                ProposalEvent(
                    proposal_id=answered.id,
                    kind=ProposalEventKind.ANSWER,
                    body=answered.answer,
                    actor_id=agent.id,
                ),
                ProposalEvent(
                    proposal_id=answered.id,
                    kind=ProposalEventKind.ASSIGNMENT,
                    body="Note interne : voir avec la Voirie",
                    is_public=False,
                    actor_id=agent.id,
                ),
            ]
        )
        proposal(
            "rejected",
            open_process,
            yasmine,
            theme_id=nature.id,
            neighbourhood_id=nord.id,
            status=ProposalStatus.REJECTED,
            status_reason="Hors des compétences de la commune.",
        )
        proposal("by_deleted", open_process, gone, title="Bancs au square")
        proposal("withdrawn", open_process, camille, withdrawn_at=now)
        hidden = proposal(
            "hidden",
            open_process,
            yasmine,
            hidden_at=now,
            hidden_reason="hors charte",
            title=HIDDEN_TEXT,
        )
        proposal("blocked", open_process, blocked, title="Publicité déguisée")
        proposal("archived", archived, camille, status=ProposalStatus.DONE)
        proposal("draft", draft, camille, title=DRAFT_TITLE)
        for user_ in (camille, yasmine, agent):
            db.session.add(Support(proposal_id=answered.id, user_id=user_.id))
        for index in range(bulk):
            db.session.add(
                Proposal(
                    process_id=bulk_process.id,
                    author_id=camille.id if index % 2 else yasmine.id,
                    title=f"Idée numéro {index}",
                    body=f"Texte de l'idée {index}",
                    theme_id=velo.id if index % 3 else nature.id,
                )
            )
        seeded.bulk_count = bulk

        debate = Debate(
            process_id=open_process.id,
            question="Faut-il piétonniser le centre ?",
            description="Donnez vos arguments.",
            state=DebateState.OPEN,
            created_by_id=agent.id,
        )
        db.session.add(debate)
        db.session.add(Debate(process_id=draft.id, question=DRAFT_TITLE, state=DebateState.OPEN))
        db.session.flush()
        seeded.debate_id = debate.id
        pour = Argument(
            debate_id=debate.id, side=Side.FOR, author_id=camille.id, body="Plus calme."
        )
        db.session.add(pour)
        db.session.flush()
        db.session.add_all(
            [
                Argument(
                    debate_id=debate.id,
                    parent_id=pour.id,
                    side=Side.FOR,
                    author_id=yasmine.id,
                    body="Et plus sûr.",
                ),
                Argument(
                    debate_id=debate.id,
                    side=Side.AGAINST,
                    author_id=yasmine.id,
                    body="Les commerces souffriront.",
                ),
                Argument(
                    debate_id=debate.id,
                    side=Side.AGAINST,
                    author_id=blocked.id,
                    body=HIDDEN_TEXT,
                    hidden_at=now,
                ),
                Argument(
                    debate_id=debate.id,
                    side=Side.FOR,
                    author_id=camille.id,
                    body=DELETED_TEXT,
                    deleted_at=now,
                ),
            ]
        )

        def comment(key: str, **values) -> Comment:
            item = Comment(**values)
            db.session.add(item)
            db.session.flush()
            seeded.comment_ids[key] = item.id
            return item

        root = comment("visible", proposal_id=answered.id, author_id=yasmine.id, body="Bravo !")
        comment(
            "reply",
            proposal_id=answered.id,
            parent_id=root.id,
            depth=1,
            author_id=agent.id,
            body="Merci pour votre soutien.",
        )
        comment(
            "hidden", proposal_id=answered.id, author_id=blocked.id, body=HIDDEN_TEXT, hidden_at=now
        )
        comment(
            "deleted",
            proposal_id=answered.id,
            author_id=camille.id,
            body=DELETED_TEXT,
            deleted_at=now,
        )
        comment("on_hidden", proposal_id=hidden.id, author_id=camille.id, body=HIDDEN_TEXT)
        comment("on_draft", process_id=draft.id, author_id=camille.id, body=DRAFT_TITLE)
        comment(
            "on_debate", debate_id=debate.id, author_id=gone.id, body="Avis d'un ancien compte."
        )
        comment(
            "on_process", process_id=open_process.id, author_id=camille.id, body="Bonne démarche."
        )
        db.session.commit()
    return seeded


@dataclass
class SeededTools:
    survey_id: int = 0
    draft_survey_id: int = 0
    unpublished_results_id: int = 0
    meeting_id: int = 0
    hidden_meeting_id: int = 0
    problem_ids: dict[str, int] = field(default_factory=dict)
    budget_ids: dict[str, int] = field(default_factory=dict)
    project_ids: dict[str, int] = field(default_factory=dict)


FREE_TEXT = "Réponse libre confidentielle qpmz"


def seed_tools(app, seeded: Seeded) -> SeededTools:
    """Surveys, meetings and problem reports on the seeded tenant."""
    from participation.accounts.models import User
    from participation.meetings.models import Meeting, MeetingRegistration, RegistrationStatus
    from participation.problems.models import (
        ProblemCategory,
        ProblemEventKind,
        ProblemReport,
        ProblemReportEvent,
        ProblemStatus,
    )
    from participation.surveys.models import (
        QuestionKind,
        Survey,
        SurveyAnswer,
        SurveyOption,
        SurveyQuestion,
        SurveyResponse,
        SurveyState,
    )
    from tenants.context import tenant_context

    tools = SeededTools()
    now = datetime.now(UTC)
    today = date.today()
    with app.app_context(), tenant_context(seeded.tenant):
        users = list(db.session.scalars(sa.select(User).where(User.email.is_not(None))))
        citizens = [u for u in users if u.staff_role is None and u.blocked_at is None]

        def survey(title: str, results: bool, state=SurveyState.PUBLISHED) -> Survey:
            item = Survey(
                title=title,
                summary="Votre avis sur les mobilités.",
                state=state,
                opens_on=today - timedelta(days=10),
                closes_on=today + timedelta(days=10),
                published_at=now if state == SurveyState.PUBLISHED else None,
                results_published_at=now if results else None,
                outcome="Nous avons créé deux pistes." if results else "",
                outcome_published_at=now if results else None,
                process_id=seeded.process_ids["open"],
            )
            choice = SurveyQuestion(kind=QuestionKind.SINGLE, text="Votre mode ?", position=1)
            choice.options = [
                SurveyOption(label="Vélo", position=1),
                SurveyOption(label="Bus", position=2),
            ]
            scale = SurveyQuestion(kind=QuestionKind.SCALE, text="Satisfaction ?", position=2)
            text = SurveyQuestion(kind=QuestionKind.LONG_TEXT, text="Remarques ?", position=3)
            item.questions = [choice, scale, text]
            db.session.add(item)
            db.session.flush()
            for index, citizen in enumerate(citizens[:2]):
                response = SurveyResponse(survey_id=item.id, user_id=citizen.id)
                response.answers = [
                    SurveyAnswer(question_id=choice.id, option_id=choice.options[index].id),
                    SurveyAnswer(question_id=scale.id, number_value=4 + index),
                    SurveyAnswer(question_id=text.id, text_value=FREE_TEXT),
                ]
                db.session.add(response)
            return item

        tools.survey_id = survey("Consultation mobilités", results=True).id
        tools.unpublished_results_id = survey("Consultation en cours", results=False).id
        tools.draft_survey_id = survey(DRAFT_TITLE, False, SurveyState.DRAFT).id

        meeting = Meeting(
            title="Réunion publique au centre",
            description="Venez nombreux.",
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=2),
            address="Salle des fêtes, 1 place de la Mairie",
            capacity=2,
            process_id=seeded.process_ids["open"],
            published_at=now,
            minutes="Compte rendu pas encore publié",
        )
        hidden_meeting = Meeting(
            title=DRAFT_TITLE,
            starts_at=now + timedelta(days=5),
            ends_at=now + timedelta(days=5, hours=1),
            online_url="https://visio.example.fr/brouillon",
        )
        db.session.add_all([meeting, hidden_meeting])
        db.session.flush()
        registrants = [u for u in users if u.blocked_at is None][:3]
        for index, citizen in enumerate(registrants):
            status = RegistrationStatus.CONFIRMED if index < 2 else RegistrationStatus.WAITING
            db.session.add(
                MeetingRegistration(meeting_id=meeting.id, user_id=citizen.id, status=status)
            )
        tools.meeting_id, tools.hidden_meeting_id = meeting.id, hidden_meeting.id

        category = ProblemCategory(name=f"Voirie {uuid.uuid4().hex[:6]}")
        db.session.add(category)
        db.session.flush()

        def problem(key: str, **values) -> ProblemReport:
            item = ProblemReport(
                category_id=category.id,
                reporter_id=values.pop("reporter_id", citizens[0].id),
                description=values.pop("description", f"Nid-de-poule {key}"),
                address="12 rue du Sauvage",
                **values,
            )
            db.session.add(item)
            db.session.flush()
            db.session.add(ProblemReportEvent(report_id=item.id, kind=ProblemEventKind.CREATED))
            tools.problem_ids[key] = item.id
            return item

        resolved = problem("resolved", status=ProblemStatus.RESOLVED, resolved_at=now)
        db.session.add_all(
            [
                ProblemReportEvent(
                    report_id=resolved.id,
                    kind=ProblemEventKind.STATUS,
                    from_status="new",
                    to_status="resolved",
                    body="Rebouché ce matin.",
                ),
                ProblemReportEvent(
                    report_id=resolved.id,
                    kind=ProblemEventKind.ASSIGNMENT,
                    body="Note interne : équipe B",
                    is_public=False,
                ),
            ]
        )
        problem("anonymous", is_anonymous=True)
        problem("hidden", hidden_at=now, description=HIDDEN_TEXT)
        blocked = next(u for u in users if u.blocked_at is not None)
        problem("blocked", reporter_id=blocked.id, description=HIDDEN_TEXT)
        seed_budgets(tools, users, citizens, now, today)
        db.session.commit()
    return tools


def seed_budgets(tools: SeededTools, users, citizens, now, today) -> None:
    """A budget with public results, one still voting, one unpublished."""
    import uuid as uuid_module

    from participation.budgets.models import (
        Ballot,
        BallotChannel,
        BallotChoice,
        Budget,
        BudgetProject,
        ProjectStatus,
        Voter,
    )

    def budget(key: str, vote_end: int, published: bool = True) -> Budget:
        item = Budget(
            title=f"Budget {key}" if published else DRAFT_TITLE,
            description="Vos projets pour la ville.",
            envelope=100_000,
            submission_starts_on=today + timedelta(days=vote_end - 60),
            submission_ends_on=today + timedelta(days=vote_end - 40),
            vote_starts_on=today + timedelta(days=vote_end - 20),
            vote_ends_on=today + timedelta(days=vote_end),
            implementation_starts_on=today + timedelta(days=vote_end + 30),
            published_at=now if published else None,
        )
        db.session.add(item)
        db.session.flush()
        tools.budget_ids[key] = item.id
        return item

    def project(budget_: Budget, key: str, cost: int, status=ProjectStatus.FEASIBLE, **values):
        item = BudgetProject(
            budget_id=budget_.id,
            author_id=citizens[0].id,
            title=f"Projet {key}",
            description=f"Description du projet {key}.",
            proposed_cost=cost,
            status=status,
            **values,
        )
        db.session.add(item)
        db.session.flush()
        tools.project_ids[key] = item.id
        return item

    closed = budget("closed", vote_end=-5)
    big = project(closed, "big", 80_000)
    small = project(closed, "small", 30_000)
    project(closed, "rejected", 5_000, ProjectStatus.UNFEASIBLE, analysis_reason="Hors champ.")
    for voter_index, user in enumerate([u for u in users if u.blocked_at is None][:3]):
        db.session.add(Voter(budget_id=closed.id, user_id=user.id, channel=BallotChannel.ONLINE))
        ballot = Ballot(
            id=uuid_module.uuid4(),
            budget_id=closed.id,
            channel=BallotChannel.ONLINE,
            cast_hour=now.replace(minute=0, second=0, microsecond=0),
        )
        db.session.add(ballot)
        db.session.flush()
        db.session.add(BallotChoice(ballot_id=ballot.id, project_id=big.id))
        if voter_index == 0:
            db.session.add(BallotChoice(ballot_id=ballot.id, project_id=small.id))
    voting = budget("voting", vote_end=5)
    ongoing = project(voting, "ongoing", 10_000)
    ballot = Ballot(
        id=uuid_module.uuid4(),
        budget_id=voting.id,
        channel=BallotChannel.PAPER,
        cast_hour=now.replace(minute=0, second=0, microsecond=0),
    )
    db.session.add(ballot)
    db.session.flush()
    db.session.add(BallotChoice(ballot_id=ballot.id, project_id=ongoing.id))
    budget("draft", vote_end=5, published=False)
