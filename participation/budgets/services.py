"""Business rules of participatory budgets. Services add and flush, never commit and never
touch the request; a broken rule raises :class:`BudgetError` with a French message.

Rules worth knowing:

- **One ballot per voter** is guaranteed by ``budget_voters``' unique constraints
  ``(budget_id, user_id)`` and ``(budget_id, census_entry_id)``. :func:`cast_ballot` inserts
  the register row with ``ON CONFLICT DO NOTHING`` first; a concurrent submission waits for
  the first transaction and then finds the conflict: it gets :class:`AlreadyVoted`, and
  the ballot rows are only written by the transaction that owns the register row.
- **Secrecy**: ballots have a random uuid id, the hour of the vote (truncated), the
  channel and the voting area, nothing else; audit entries of paper ballots never contain
  the choices.
- **Retained projects** (:func:`compute_results`), per pool (the whole territory, or each
  neighbourhood when the envelope is split): projects by votes, most first; ties broken by
  the lower cost first, then the earlier submission. Going down that list, a project is
  retained when it received at least one vote and its cost fits in what is left of the
  envelope; a project that does not fit is skipped and the next one considered.
- **Census matching** (:func:`match_census`): same date of birth, and the name equal once
  case, spaces, hyphens and word order are normalised → approved; equal only once accents
  are removed, or one or two letters apart → a near match, reviewed by staff.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core import clock, pagecache
from core.audit import record_action
from core.db import db
from participation.accounts.models import Neighbourhood, User
from participation.budgets.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Budget,
    BudgetEnvelope,
    BudgetMilestone,
    BudgetPhase,
    BudgetProject,
    BudgetUpdate,
    CensusEntry,
    Eligibility,
    EligibilityStatus,
    ProjectFollow,
    ProjectStatus,
    Voter,
    VotingRule,
)
from participation.budgets.visibility import is_public, published_budgets

# Who voted and what is only shown after the vote (results) or to staff: a ballot does not
# make the pages cached for visitors stale (results pages open on a date: PAGE_CACHE_TTL).
pagecache.ignore_writes_to(Voter, Ballot, BallotChoice)

PHASE_LABELS = {
    BudgetPhase.UPCOMING: _l("À venir"),
    BudgetPhase.SUBMISSION: _l("Dépôt des projets"),
    BudgetPhase.ANALYSIS: _l("Analyse des projets"),
    BudgetPhase.VOTE: _l("Vote"),
    BudgetPhase.RESULTS: _l("Résultats"),
    BudgetPhase.IMPLEMENTATION: _l("Réalisation"),
}
PHASE_ORDER = list(BudgetPhase)
STATUS_LABELS = {
    ProjectStatus.SUBMITTED: _l("En cours d'analyse"),
    ProjectStatus.FEASIBLE: _l("Réalisable"),
    ProjectStatus.UNFEASIBLE: _l("Non réalisable"),
}
RULE_LABELS = {
    VotingRule.KNAPSACK: _l("Panier : des projets dont le coût total tient dans l'enveloppe"),
    VotingRule.APPROVAL: _l("Approbation : un nombre de projets entre un minimum et un maximum"),
}
TIE_RULE = _l(
    "Les projets sont classés par nombre de voix. À égalité de voix, le projet le moins cher "
    "passe devant, puis, à coût égal, celui déposé le premier. En suivant ce classement, un "
    "projet est retenu s'il a reçu au moins une voix et si son coût tient dans ce qui reste "
    "de l'enveloppe ; sinon il est écarté et le suivant est examiné."
)
CENSUS_MAX_BYTES = 5 * 1024 * 1024
MAX_COST = 100_000_000


class BudgetError(Exception):
    """A broken rule; ``str()`` is the French message, ``field`` the form field concerned."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AlreadyVoted(BudgetError):
    pass


def _audit(action: str, actor: User, target_type: str, target_id, **details) -> None:
    record_action(
        action,
        actor_id=actor.id,
        actor_label=actor.display_name,
        target_type=target_type,
        target_id=target_id,
        **details,
    )


def euros(value: int | None) -> str:
    from core.i18n import number_fr

    return "" if value is None else f"{number_fr(value)}\u00a0€"


# --------------------------------------------------------------------------- lookups


def get_budget(budget_id: int) -> Budget | None:
    return db.session.get(Budget, budget_id)


def get_project(project_id: int) -> BudgetProject | None:
    return db.session.get(BudgetProject, project_id)


def public_budgets() -> list[Budget]:
    return list(
        db.session.scalars(
            published_budgets().order_by(Budget.vote_starts_on.desc(), Budget.id.desc())
        )
    )


def all_budgets() -> list[Budget]:
    return list(db.session.scalars(sa.select(Budget).order_by(Budget.id.desc())))


def budgets_of_process(process_id: int) -> list[Budget]:
    return list(
        db.session.scalars(
            published_budgets().where(Budget.process_id == process_id).order_by(Budget.id)
        )
    )


def neighbourhoods() -> list[Neighbourhood]:
    return list(
        db.session.scalars(
            sa.select(Neighbourhood).order_by(Neighbourhood.position, Neighbourhood.name)
        )
    )


def neighbourhood(neighbourhood_id: int | None) -> Neighbourhood | None:
    return db.session.get(Neighbourhood, neighbourhood_id) if neighbourhood_id else None


def envelopes(budget: Budget) -> dict[int | None, int]:
    """Pool → amount: ``{None: envelope}``, or one entry per neighbourhood when split."""
    if budget.split_by_neighbourhood:
        return {e.neighbourhood_id: e.amount for e in budget.envelopes}
    return {None: budget.envelope}


def pool_of(budget: Budget, project: BudgetProject) -> int | None:
    return project.neighbourhood_id if budget.split_by_neighbourhood else None


def feasible_projects(
    budget: Budget, area_id: int | None = None, defer_description: bool = False
) -> list[BudgetProject]:
    query = sa.select(BudgetProject).where(
        BudgetProject.budget_id == budget.id, BudgetProject.status == ProjectStatus.FEASIBLE
    )
    if area_id is not None:
        query = query.where(BudgetProject.neighbourhood_id == area_id)
    if defer_description:
        query = query.options(sa.orm.defer(BudgetProject.description))
    return list(db.session.scalars(query.order_by(BudgetProject.title)))


def public_projects(budget: Budget) -> list[BudgetProject]:
    return list(
        db.session.scalars(
            sa.select(BudgetProject)
            .where(BudgetProject.budget_id == budget.id)
            .order_by(BudgetProject.created_at, BudgetProject.id)
        )
    )


def phase_label(phase: BudgetPhase) -> str:
    return str(PHASE_LABELS[phase])


def status_label(status: ProjectStatus) -> str:
    return str(STATUS_LABELS[ProjectStatus(status)])


def phase_periods(budget: Budget) -> list[tuple[BudgetPhase, date, date | None]]:
    from datetime import timedelta

    day = timedelta(days=1)
    return [
        (BudgetPhase.SUBMISSION, budget.submission_starts_on, budget.submission_ends_on),
        (BudgetPhase.ANALYSIS, budget.submission_ends_on + day, budget.vote_starts_on - day),
        (BudgetPhase.VOTE, budget.vote_starts_on, budget.vote_ends_on),
        (BudgetPhase.RESULTS, budget.vote_ends_on + day, budget.implementation_starts_on - day),
        (BudgetPhase.IMPLEMENTATION, budget.implementation_starts_on, None),
    ]


# --------------------------------------------------------------------------- budgets


@dataclass
class BudgetFields:
    title: str
    description: str
    process_id: int | None
    rule: VotingRule
    envelope: int | None
    split_by_neighbourhood: bool
    envelopes: dict[int, int] = field(default_factory=dict)  # split: neighbourhood → amount
    min_choices: int | None = None
    max_choices: int | None = None
    vote_per_neighbourhood: bool = False
    minimum_age: int | None = None
    require_residency: bool = True
    require_census: bool = False
    eligible_population: int | None = None
    submission_starts_on: date | None = None
    submission_ends_on: date | None = None
    vote_starts_on: date | None = None
    vote_ends_on: date | None = None
    implementation_starts_on: date | None = None


def _check_fields(fields: BudgetFields) -> None:
    if not (fields.title or "").strip():
        raise BudgetError(_("Donnez un titre au budget."), "title")
    dates = [
        fields.submission_starts_on,
        fields.submission_ends_on,
        fields.vote_starts_on,
        fields.vote_ends_on,
        fields.implementation_starts_on,
    ]
    if any(d is None for d in dates):
        raise BudgetError(_("Indiquez toutes les dates du calendrier."), "submission_starts_on")
    if fields.submission_ends_on < fields.submission_starts_on:
        raise BudgetError(
            _("Le dépôt des projets doit se terminer après avoir commencé."), "submission_ends_on"
        )
    if fields.vote_starts_on <= fields.submission_ends_on:
        raise BudgetError(
            _(
                "Le vote doit commencer après la fin du dépôt des projets (laissez le temps "
                "de l'analyse)."
            ),
            "vote_starts_on",
        )
    if fields.vote_ends_on < fields.vote_starts_on:
        raise BudgetError(_("Le vote doit se terminer après avoir commencé."), "vote_ends_on")
    if fields.implementation_starts_on <= fields.vote_ends_on:
        raise BudgetError(
            _("La réalisation doit commencer après la fin du vote."), "implementation_starts_on"
        )
    if fields.rule == VotingRule.APPROVAL:
        if not fields.min_choices or fields.min_choices < 1:
            raise BudgetError(
                _("Indiquez le nombre minimum de projets à choisir (au moins 1)."), "min_choices"
            )
        if not fields.max_choices or fields.max_choices < fields.min_choices:
            raise BudgetError(
                _("Le nombre maximum de projets doit être au moins égal au minimum."), "max_choices"
            )
    if fields.split_by_neighbourhood:
        if not any(amount > 0 for amount in fields.envelopes.values()):
            raise BudgetError(
                _("Répartissez l'enveloppe : indiquez le montant d'au moins un quartier."),
                "split_by_neighbourhood",
            )
    elif not fields.envelope or fields.envelope <= 0:
        raise BudgetError(_("Indiquez le montant de l'enveloppe, en euros."), "envelope")
    if fields.vote_per_neighbourhood and not fields.split_by_neighbourhood:
        raise BudgetError(
            _("Le vote par quartier suppose une enveloppe répartie par quartier."),
            "vote_per_neighbourhood",
        )
    if fields.minimum_age is not None and not 0 <= fields.minimum_age <= 120:
        raise BudgetError(_("L'âge minimum doit être compris entre 0 et 120 ans."), "minimum_age")


def _apply(budget: Budget, fields: BudgetFields) -> None:
    budget.title = fields.title.strip()
    budget.description = (fields.description or "").strip()
    budget.process_id = fields.process_id
    budget.rule = fields.rule
    budget.min_choices = fields.min_choices if fields.rule == VotingRule.APPROVAL else None
    budget.max_choices = fields.max_choices if fields.rule == VotingRule.APPROVAL else None
    budget.split_by_neighbourhood = fields.split_by_neighbourhood
    budget.vote_per_neighbourhood = fields.vote_per_neighbourhood
    budget.minimum_age = fields.minimum_age
    budget.require_residency = fields.require_residency
    budget.require_census = fields.require_census
    budget.eligible_population = fields.eligible_population
    for name in (
        "submission_starts_on",
        "submission_ends_on",
        "vote_starts_on",
        "vote_ends_on",
        "implementation_starts_on",
    ):
        setattr(budget, name, getattr(fields, name))
    if fields.split_by_neighbourhood:
        wanted = {nid: amount for nid, amount in fields.envelopes.items() if amount and amount > 0}
        budget.envelopes = [e for e in budget.envelopes if e.neighbourhood_id in wanted]
        existing = {e.neighbourhood_id: e for e in budget.envelopes}
        for nid, amount in wanted.items():
            if nid in existing:
                existing[nid].amount = amount
            else:
                budget.envelopes.append(BudgetEnvelope(neighbourhood_id=nid, amount=amount))
        budget.envelope = sum(wanted.values())
    else:
        budget.envelopes = []
        budget.envelope = fields.envelope


def _has_votes(budget: Budget) -> bool:
    return bool(
        db.session.scalar(sa.select(sa.literal(True)).where(Voter.budget_id == budget.id).limit(1))
    )


def create_budget(fields: BudgetFields, actor: User) -> Budget:
    _check_fields(fields)
    budget = Budget()
    _apply(budget, fields)
    db.session.add(budget)
    db.session.flush()
    _audit("budgets.created", actor, "budget", budget.id, title=budget.title)
    return budget


def update_budget(budget: Budget, fields: BudgetFields, actor: User) -> None:
    _check_fields(fields)
    if _has_votes(budget) and (
        fields.rule != budget.rule
        or fields.split_by_neighbourhood != budget.split_by_neighbourhood
        or fields.vote_per_neighbourhood != budget.vote_per_neighbourhood
    ):
        raise BudgetError(
            _("Des bulletins ont déjà été déposés : la règle de vote ne peut plus changer."), "rule"
        )
    _apply(budget, fields)
    db.session.flush()
    _audit("budgets.updated", actor, "budget", budget.id, title=budget.title)


def publish_budget(budget: Budget, actor: User) -> None:
    if budget.published_at is not None:
        raise BudgetError(_("Ce budget est déjà publié."))
    budget.published_at = clock.utcnow()
    db.session.flush()
    _audit("budgets.published", actor, "budget", budget.id)


# --------------------------------------------------------------------------- projects


def submit_project(
    budget: Budget,
    author: User,
    *,
    title: str,
    description: str,
    neighbourhood_id: int | None,
    proposed_cost: int | None,
    today: date,
) -> BudgetProject:
    if not is_public(budget) or budget.phase(today) != BudgetPhase.SUBMISSION:
        raise BudgetError(_("Le dépôt des projets n'est pas ouvert pour ce budget."))
    title = (title or "").strip()
    description = (description or "").strip()
    if len(title) < 5:
        raise BudgetError(_("Le titre doit faire au moins 5 caractères."), "title")
    if len(description) < 20:
        raise BudgetError(_("Décrivez votre projet en au moins 20 caractères."), "description")
    if proposed_cost is None or proposed_cost <= 0 or proposed_cost > MAX_COST:
        raise BudgetError(_("Indiquez une estimation du coût en euros."), "proposed_cost")
    if budget.split_by_neighbourhood:
        if neighbourhood_id not in envelopes(budget):
            raise BudgetError(
                _("Choisissez le quartier concerné : l'enveloppe est répartie par quartier."),
                "neighbourhood_id",
            )
        pool = envelopes(budget)[neighbourhood_id]
    else:
        pool = budget.envelope
    if proposed_cost > pool:
        raise BudgetError(
            _("Le coût estimé dépasse l'enveloppe disponible (%(amount)s).", amount=euros(pool)),
            "proposed_cost",
        )
    project = BudgetProject(
        budget_id=budget.id,
        author_id=author.id,
        title=title,
        description=description,
        neighbourhood_id=neighbourhood_id,
        proposed_cost=proposed_cost,
    )
    db.session.add(project)
    db.session.flush()
    db.session.add(ProjectFollow(project_id=project.id, user_id=author.id))
    db.session.flush()
    return project


def analyse_project(
    project: BudgetProject,
    actor: User,
    *,
    feasible: bool,
    estimated_cost: int | None,
    reason: str | None,
    today: date,
) -> None:
    budget = project.budget
    if budget.phase(today) not in (
        BudgetPhase.UPCOMING,
        BudgetPhase.SUBMISSION,
        BudgetPhase.ANALYSIS,
    ):
        raise BudgetError(_("Le vote a commencé : l'analyse des projets ne peut plus changer."))
    reason = (reason or "").strip() or None
    if not feasible and not reason:
        raise BudgetError(
            _("Expliquez publiquement pourquoi le projet n'est pas réalisable."), "reason"
        )
    if feasible:
        if estimated_cost is None or estimated_cost <= 0 or estimated_cost > MAX_COST:
            raise BudgetError(
                _("Indiquez le coût estimé par les services, en euros."), "estimated_cost"
            )
        pool = envelopes(budget).get(pool_of(budget, project))
        if pool is None or estimated_cost > pool:
            raise BudgetError(
                _("Ce coût dépasse l'enveloppe : le projet ne pourrait pas être retenu."),
                "estimated_cost",
            )
    previous = project.status
    project.status = ProjectStatus.FEASIBLE if feasible else ProjectStatus.UNFEASIBLE
    project.estimated_cost = estimated_cost if feasible else estimated_cost or None
    project.analysis_reason = reason
    project.analysed_at = clock.utcnow()
    project.analysed_by_id = actor.id
    db.session.flush()
    _audit(
        "budgets.project_analysed",
        actor,
        "budget_project",
        project.id,
        status=project.status.value,
        estimated_cost=project.estimated_cost,
    )
    if project.author_id and previous != project.status:
        from participation.engagement.services import local_url, notify_user

        notify_user(
            project.author_id,
            kind="status.budget",
            title=_("Votre projet « %(title)s » a été analysé", title=project.title),
            body=status_label(project.status) + (f" : {reason}" if reason else ""),
            url=local_url("budgets.project", project_id=project.id),
        )


# --------------------------------------------------------------------------- census


def _collapse(name: str) -> str:
    words = re.split(r"[\s\-'’.,]+", unicodedata.normalize("NFC", name or "").casefold())
    return " ".join(sorted(w for w in words if w))


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_name(name: str) -> str:
    """Case, spaces, hyphens, apostrophes and word order do not matter; accents do."""
    return _collapse(name)


def _distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance, stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@dataclass
class CensusMatch:
    kind: str  # "exact", "near" or "none"
    entry: CensusEntry | None = None
    note: str | None = None


def match_census(budget_id: int, full_name: str, birth_date: date) -> CensusMatch:
    wanted = normalise_name(full_name)
    loose_wanted = strip_accents(wanted)
    candidates = list(
        db.session.scalars(
            sa.select(CensusEntry).where(
                CensusEntry.budget_id == budget_id, CensusEntry.birth_date == birth_date
            )
        )
    )
    for entry in candidates:
        if entry.normalised_name == wanted:
            return CensusMatch("exact", entry)
    for entry in candidates:
        loose = strip_accents(entry.normalised_name)
        if loose == loose_wanted:
            return CensusMatch("near", entry, "accents")
        distance = _distance(loose, loose_wanted)
        if distance <= 2:
            return CensusMatch("near", entry, f"{distance} lettre(s) de différence")
    return CensusMatch("none")


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
NAME_HEADERS = {"nom", "nom_naissance", "nom de naissance", "nom d'usage", "last_name"}
FIRST_NAME_HEADERS = {"prenom", "prénom", "prenoms", "prénoms", "first_name"}
FULL_NAME_HEADERS = {"nom complet", "nom_complet", "full_name", "name"}
BIRTH_HEADERS = {"date_naissance", "date de naissance", "naissance", "birth_date", "ddn"}


def parse_date(value: str) -> date | None:
    value = (value or "").strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


@dataclass
class CensusImport:
    count: int
    skipped: list[str]


def import_census(budget: Budget, raw: bytes, actor: User) -> CensusImport:
    """Replace the budget's census list with the CSV ``raw`` (UTF-8, ``;`` or ``,``).

    Columns (header line, any order): ``nom`` and ``prénom``, or ``nom complet``; and
    ``date de naissance`` (JJ/MM/AAAA or AAAA-MM-JJ).
    """
    if len(raw) > CENSUS_MAX_BYTES:
        raise BudgetError(_("Le fichier dépasse 5 Mo."), "file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise BudgetError(_("Le fichier doit être un CSV encodé en UTF-8."), "file") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().casefold() for h in next(reader, [])]

    def column(names: set[str]) -> int | None:
        for index, name in enumerate(header):
            if name in names:
                return index
        return None

    last, first, full, birth = (
        column(NAME_HEADERS),
        column(FIRST_NAME_HEADERS),
        column(FULL_NAME_HEADERS),
        column(BIRTH_HEADERS),
    )
    if birth is None or (full is None and last is None):
        raise BudgetError(
            _(
                "Colonnes introuvables : la première ligne doit nommer « nom » et « prénom » "
                "(ou « nom complet ») et « date de naissance »."
            ),
            "file",
        )
    rows: dict[tuple[str, date], dict] = {}
    skipped: list[str] = []
    for line_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(index: int | None, row=row) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        name = cell(full) or " ".join(p for p in (cell(first), cell(last)) if p)
        born = parse_date(cell(birth))
        if not name or born is None:
            skipped.append(_("ligne %(n)d : nom ou date de naissance illisible", n=line_number))
            continue
        normalised = normalise_name(name)
        rows[(normalised, born)] = {
            "budget_id": budget.id,
            "full_name": name[:200],
            "normalised_name": normalised[:200],
            "birth_date": born,
        }
    if not rows:
        raise BudgetError(_("Le fichier ne contient aucune personne lisible."), "file")
    previous_count = db.session.scalar(
        sa.select(sa.func.count()).where(CensusEntry.budget_id == budget.id)
    )
    if previous_count and _has_votes(budget):
        # Register rows point at entries: keep them, add the new people only.
        known = {
            (n, b)
            for n, b in db.session.execute(
                sa.select(CensusEntry.normalised_name, CensusEntry.birth_date).where(
                    CensusEntry.budget_id == budget.id
                )
            )
        }
        new_rows = [r for key, r in rows.items() if key not in known]
    else:
        db.session.execute(sa.delete(CensusEntry).where(CensusEntry.budget_id == budget.id))
        new_rows = list(rows.values())
    if new_rows:
        db.session.execute(sa.insert(CensusEntry), new_rows)
    count = db.session.scalar(sa.select(sa.func.count()).where(CensusEntry.budget_id == budget.id))
    if budget.eligible_population is None or budget.eligible_population == previous_count:
        budget.eligible_population = count
    db.session.flush()
    _audit(
        "budgets.census_imported",
        actor,
        "budget",
        budget.id,
        people=count,
        skipped=len(skipped),
    )
    return CensusImport(count, skipped)


def census_size(budget: Budget) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(CensusEntry.budget_id == budget.id))


# --------------------------------------------------------------------------- eligibility


def age_on(birth_date: date, today: date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def eligibility_of(budget: Budget, user: User | None) -> Eligibility | None:
    if user is None:
        return None
    return db.session.scalar(
        sa.select(Eligibility).where(
            Eligibility.budget_id == budget.id, Eligibility.user_id == user.id
        )
    )


def declare_eligibility(
    budget: Budget,
    user: User,
    *,
    full_name: str,
    birth_date: date | None,
    resident: bool,
    neighbourhood_id: int | None,
    today: date,
) -> Eligibility:
    """Check the voter's declaration: approved, pending review (near census match), or a
    BudgetError saying why not."""
    if not is_public(budget) or budget.phase(today) not in (BudgetPhase.ANALYSIS, BudgetPhase.VOTE):
        raise BudgetError(_("Les inscriptions au vote ne sont pas ouvertes pour ce budget."))
    existing = eligibility_of(budget, user)
    if existing is not None and existing.status == EligibilityStatus.APPROVED:
        raise BudgetError(_("Votre participation au vote est déjà validée."))
    if existing is not None and existing.status == EligibilityStatus.PENDING:
        raise BudgetError(_("Votre demande est en cours de vérification par la collectivité."))
    full_name = " ".join((full_name or "").split())
    if len(full_name) < 3:
        raise BudgetError(_("Indiquez vos prénom et nom."), "full_name")
    if birth_date is None or birth_date > today or birth_date.year < 1900:
        raise BudgetError(_("Indiquez votre date de naissance."), "birth_date")
    if budget.minimum_age and age_on(birth_date, today) < budget.minimum_age:
        raise BudgetError(
            _("Ce vote est ouvert aux personnes de %(age)d ans et plus.", age=budget.minimum_age),
            "birth_date",
        )
    if budget.require_residency and not resident:
        raise BudgetError(
            _(
                "Ce vote est réservé aux habitantes et habitants : cochez la déclaration de "
                "résidence."
            ),
            "resident",
        )
    if budget.vote_per_neighbourhood and neighbourhood_id not in envelopes(budget):
        raise BudgetError(
            _("Choisissez votre quartier : le vote a lieu par quartier."), "neighbourhood_id"
        )
    status, entry, note = EligibilityStatus.APPROVED, None, None
    if budget.require_census:
        found = match_census(budget.id, full_name, birth_date)
        if found.kind == "none":
            raise BudgetError(
                _(
                    "Nous ne vous trouvons pas sur la liste des habitants fournie par la "
                    "collectivité. Vérifiez l'orthographe de vos nom et prénom et votre date "
                    "de naissance, ou contactez la mairie."
                ),
                "full_name",
            )
        entry, note = found.entry, found.note
        taken = db.session.scalar(
            sa.select(sa.literal(True)).where(
                Eligibility.budget_id == budget.id,
                Eligibility.census_entry_id == entry.id,
                Eligibility.status != EligibilityStatus.REJECTED,
                Eligibility.user_id != user.id,
            )
        )
        if taken:
            raise BudgetError(
                _(
                    "Cette personne de la liste des habitants est déjà inscrite avec un autre "
                    "compte. Contactez la mairie si ce n'est pas vous."
                ),
                "full_name",
            )
        if found.kind == "near":
            status = EligibilityStatus.PENDING
    eligibility = existing or Eligibility(budget_id=budget.id, user_id=user.id)
    eligibility.full_name = full_name[:200]
    eligibility.birth_date = birth_date
    eligibility.resident = bool(resident)
    eligibility.neighbourhood_id = neighbourhood_id if budget.vote_per_neighbourhood else None
    eligibility.status = status
    eligibility.census_entry_id = entry.id if entry else None
    eligibility.match_note = note
    eligibility.reviewed_by_id = None
    eligibility.reviewed_at = None
    db.session.add(eligibility)
    db.session.flush()
    return eligibility


def review_queue(budget: Budget) -> list[Eligibility]:
    return list(
        db.session.scalars(
            sa.select(Eligibility)
            .where(
                Eligibility.budget_id == budget.id, Eligibility.status == EligibilityStatus.PENDING
            )
            .order_by(Eligibility.created_at)
        )
    )


def review_eligibility(eligibility: Eligibility, approve: bool, actor: User) -> None:
    if eligibility.status != EligibilityStatus.PENDING:
        raise BudgetError(_("Cette demande a déjà été traitée."))
    eligibility.status = EligibilityStatus.APPROVED if approve else EligibilityStatus.REJECTED
    eligibility.reviewed_by_id = actor.id
    eligibility.reviewed_at = clock.utcnow()
    db.session.flush()
    _audit(
        "budgets.eligibility_approved" if approve else "budgets.eligibility_rejected",
        actor,
        "budget_eligibility",
        eligibility.id,
        budget_id=eligibility.budget_id,
        declared_name=eligibility.full_name,
        census_name=eligibility.census_entry.full_name if eligibility.census_entry else None,
    )
    from participation.engagement.services import local_url, notify_user

    budget = db.session.get(Budget, eligibility.budget_id)
    notify_user(
        eligibility.user_id,
        kind="budget.eligibility",
        title=(
            _("Vous pouvez voter au budget « %(title)s »", title=budget.title)
            if approve
            else _(
                "Votre inscription au vote « %(title)s » n'a pas été validée", title=budget.title
            )
        ),
        body=""
        if approve
        else _("Contactez la mairie pour vérifier votre inscription sur la liste des habitants."),
        url=local_url("budgets.vote", budget_id=budget.id),
    )


# --------------------------------------------------------------------------- ballots


def has_voted(budget: Budget, user: User | None) -> bool:
    if user is None:
        return False
    return bool(
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                Voter.budget_id == budget.id, Voter.user_id == user.id
            )
        )
    )


def ballot_projects(budget: Budget, area_id: int | None) -> list[BudgetProject]:
    """The projects on the voter's ballot (descriptions not loaded: the ballot shows titles
    and costs, and the ballot endpoint is a hot path)."""
    return feasible_projects(
        budget, area_id if budget.vote_per_neighbourhood else None, defer_description=True
    )


@dataclass(frozen=True)
class BallotLine:
    """A project as the ballot endpoint needs it (plain columns, no ORM object)."""

    id: int
    cost: int
    neighbourhood_id: int | None


def ballot_lines(budget: Budget, area_id: int | None) -> list[BallotLine]:
    """The projects on the voter's ballot, as plain rows (one light query)."""
    query = sa.select(
        BudgetProject.id,
        sa.func.coalesce(BudgetProject.estimated_cost, BudgetProject.proposed_cost),
        BudgetProject.neighbourhood_id,
    ).where(BudgetProject.budget_id == budget.id, BudgetProject.status == ProjectStatus.FEASIBLE)
    if budget.vote_per_neighbourhood and area_id is not None:
        query = query.where(BudgetProject.neighbourhood_id == area_id)
    return [BallotLine(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class VoterState:
    status: EligibilityStatus
    neighbourhood_id: int | None
    census_entry_id: int | None


def voter_state(budget: Budget, user: User | None) -> VoterState | None:
    """The voter's eligibility as plain values (one light query), None if none."""
    if user is None:
        return None
    row = db.session.execute(
        sa.select(
            Eligibility.status, Eligibility.neighbourhood_id, Eligibility.census_entry_id
        ).where(Eligibility.budget_id == budget.id, Eligibility.user_id == user.id)
    ).first()
    return VoterState(*row) if row is not None else None


def check_selection(
    budget: Budget,
    projects: Iterable[BudgetProject],
    selected_ids: Iterable[int],
    area_id: int | None,
) -> list[BudgetProject]:
    """The chosen projects if the selection follows the budget's rule, else BudgetError."""
    by_id = {p.id: p for p in projects}
    wanted = set(selected_ids)
    if not wanted:
        raise BudgetError(_("Choisissez au moins un projet."))
    unknown = wanted - by_id.keys()
    if unknown:
        raise BudgetError(_("Un des projets choisis ne fait pas partie de ce vote."))
    chosen = [by_id[i] for i in sorted(wanted)]
    if budget.rule == VotingRule.APPROVAL:
        if len(chosen) < (budget.min_choices or 1):
            raise BudgetError(
                _(
                    "Choisissez au moins %(min)d projets (vous en avez choisi %(n)d).",
                    min=budget.min_choices,
                    n=len(chosen),
                )
            )
        if budget.max_choices and len(chosen) > budget.max_choices:
            raise BudgetError(
                _(
                    "Choisissez au plus %(max)d projets (vous en avez choisi %(n)d).",
                    max=budget.max_choices,
                    n=len(chosen),
                )
            )
        return chosen
    pools = envelopes(budget)
    totals: dict[int | None, int] = {}
    for project in chosen:
        key = pool_of(budget, project)
        totals[key] = totals.get(key, 0) + project.cost
    for key, total in totals.items():
        limit = pools.get(key, 0)
        if total > limit:
            if key is None:
                raise BudgetError(
                    _(
                        "Votre sélection coûte %(total)s et dépasse l'enveloppe de %(limit)s : "
                        "retirez un ou plusieurs projets.",
                        total=euros(total),
                        limit=euros(limit),
                    )
                )
            name = db.session.get(Neighbourhood, key).name
            raise BudgetError(
                _(
                    "Pour le quartier %(name)s, votre sélection coûte %(total)s et dépasse "
                    "l'enveloppe de %(limit)s : retirez un ou plusieurs projets.",
                    name=name,
                    total=euros(total),
                    limit=euros(limit),
                )
            )
    return chosen


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _insert_ballot(
    budget: Budget, chosen: list[BudgetProject], channel: BallotChannel, polling_point, area_id
) -> None:
    ballot_id = uuid.uuid4()
    db.session.execute(
        sa.insert(Ballot).values(
            id=ballot_id,
            budget_id=budget.id,
            channel=channel,
            polling_point=polling_point,
            neighbourhood_id=area_id,
            cast_hour=_hour(clock.utcnow()),
        )
    )
    db.session.execute(
        sa.insert(BallotChoice), [{"ballot_id": ballot_id, "project_id": p.id} for p in chosen]
    )


def _register(values: dict) -> bool:
    """Insert the register row; False when this voter (or census person) already voted."""
    inserted = db.session.execute(
        pg_insert(Voter).values(**values).on_conflict_do_nothing().returning(Voter.id)
    ).first()
    return inserted is not None


#: The register row, the ballot and its choices in one statement (one round trip: the
#: ballot endpoint's hot path). The ballot rows are written only when the register row was:
#: a second submission, even a concurrent one, conflicts on ``budget_voters``' unique
#: constraints and writes nothing. Unqualified names: the tenant's ``search_path``.
_CAST_SQL = sa.text(
    """
    WITH registered AS (
        INSERT INTO budget_voters (budget_id, user_id, census_entry_id, channel)
        VALUES (:budget_id, :user_id, :census_entry_id, 'online')
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), ballot AS (
        INSERT INTO budget_ballots (id, budget_id, channel, neighbourhood_id, cast_hour)
        SELECT :ballot_id, :budget_id, 'online', :area_id, :cast_hour
        WHERE EXISTS (SELECT 1 FROM registered)
        RETURNING id
    ), choices AS (
        INSERT INTO budget_ballot_choices (ballot_id, project_id)
        SELECT ballot.id, project_id
        FROM ballot, unnest(CAST(:project_ids AS integer[])) AS project_id
    )
    SELECT count(*) FROM registered
    """
)


#: The ballot endpoint's fast path: every rule of ``cast_ballot`` checked by the database in
#: the same single statement that writes the register row, the ballot and its choices —
#: budget published and in its vote today, voter approved, every chosen project feasible in
#: this budget (and in the voter's quartier for a per-quartier vote), and the voting rule
#: (approval: number of choices; knapsack: each pool's total within its envelope). Nothing
#: to load first, nothing cached: one round trip. When any check fails, or the voter has
#: voted already, nothing is written and the count is 0: the endpoint then takes the
#: ordinary path (``cast_ballot``), which says why. ``check_selection`` and this statement
#: must agree; tests/participation/test_budget_quick_ballot.py holds them to it.
_QUICK_CAST_SQL = sa.text(
    """
    WITH open_budget AS (
        SELECT id, envelope, split_by_neighbourhood, rule, min_choices, max_choices,
               vote_per_neighbourhood
        FROM budgets
        WHERE id = :budget_id AND published_at IS NOT NULL
          AND vote_starts_on <= :today AND vote_ends_on >= :today
    ), voter AS (
        -- OFFSET 0 keeps the status test outside the look-up, so that it goes through the
        -- unique (budget_id, user_id) index: otherwise, with statistics taken before a
        -- census import, the planner may walk the (budget_id, status) index over every
        -- approved voter of the budget, on each ballot.
        SELECT e.census_entry_id,
               CASE WHEN b.vote_per_neighbourhood THEN e.neighbourhood_id END AS area_id
        FROM open_budget AS b,
             LATERAL (SELECT census_entry_id, neighbourhood_id, status
                      FROM budget_eligibilities
                      WHERE budget_id = b.id AND user_id = :user_id
                      OFFSET 0) AS e
        WHERE e.status = 'approved'
    ), chosen AS (
        SELECT p.id, p.neighbourhood_id,
               coalesce(p.estimated_cost, p.proposed_cost, 0) AS cost,
               CASE WHEN b.split_by_neighbourhood THEN p.neighbourhood_id END AS pool
        FROM budget_projects AS p, open_budget AS b
        WHERE p.budget_id = b.id AND p.status = 'feasible'
          AND p.id = ANY(CAST(:project_ids AS integer[]))
    ), valid AS (
        SELECT 1
        FROM open_budget AS b, voter AS v
        WHERE (SELECT count(*) FROM chosen) = cardinality(CAST(:project_ids AS integer[]))
          AND cardinality(CAST(:project_ids AS integer[])) > 0
          AND (v.area_id IS NULL
               OR NOT EXISTS (SELECT 1 FROM chosen AS c
                              WHERE c.neighbourhood_id IS DISTINCT FROM v.area_id))
          AND CASE WHEN b.rule = 'approval' THEN
                  (SELECT count(*) FROM chosen) >= coalesce(b.min_choices, 1)
                  AND (b.max_choices IS NULL OR (SELECT count(*) FROM chosen) <= b.max_choices)
              ELSE NOT EXISTS (
                  SELECT 1
                  FROM (SELECT pool, sum(cost) AS total FROM chosen GROUP BY pool) AS t
                  WHERE t.total > CASE
                      WHEN b.split_by_neighbourhood THEN coalesce(
                          (SELECT amount FROM budget_envelopes AS be
                           WHERE be.budget_id = b.id AND be.neighbourhood_id = t.pool), 0)
                      ELSE b.envelope END)
              END
    ), registered AS (
        INSERT INTO budget_voters (budget_id, user_id, census_entry_id, channel)
        SELECT :budget_id, :user_id, v.census_entry_id, 'online'
        FROM voter AS v, valid
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), ballot AS (
        INSERT INTO budget_ballots (id, budget_id, channel, neighbourhood_id, cast_hour)
        SELECT :ballot_id, :budget_id, 'online', v.area_id, :cast_hour
        FROM voter AS v
        WHERE EXISTS (SELECT 1 FROM registered)
        RETURNING id
    ), choices AS (
        INSERT INTO budget_ballot_choices (ballot_id, project_id)
        SELECT ballot.id, chosen.id FROM ballot, chosen
    )
    SELECT count(*) FROM registered
    """
)


def quick_cast(budget_id: int, user_id: int, selected_ids: Iterable[int], today: date) -> bool:
    """Record the ballot in one statement when every rule holds (see ``_QUICK_CAST_SQL``);
    False when nothing was written, for the caller to take the path that explains why."""
    project_ids = sorted(set(selected_ids))
    if not project_ids:
        return False
    return bool(
        db.session.execute(
            _QUICK_CAST_SQL,
            {
                "budget_id": budget_id,
                "user_id": user_id,
                "today": today,
                "project_ids": project_ids,
                "ballot_id": uuid.uuid4(),
                "cast_hour": _hour(clock.utcnow()),
            },
        ).scalar_one()
    )


def already_voted_message() -> str:
    return _(
        "Vous avez déjà voté pour ce budget : un bulletin est définitif et ne peut être "
        "déposé qu'une fois."
    )


def cast_ballot(
    budget: Budget,
    user: User,
    selected_ids: Iterable[int],
    today: date,
    *,
    eligibility: Eligibility | VoterState | None = None,
    projects: list[BudgetProject] | list[BallotLine] | None = None,
) -> None:
    """Record ``user``'s ballot: register row and ballot in the caller's transaction.

    ``eligibility`` and ``projects`` may be passed when the caller has loaded them already
    (the ballot endpoint does)."""
    if not is_public(budget) or budget.phase(today) != BudgetPhase.VOTE:
        raise BudgetError(_("Le vote n'est pas ouvert pour ce budget."))
    eligibility = eligibility or eligibility_of(budget, user)
    if eligibility is None or eligibility.status != EligibilityStatus.APPROVED:
        raise BudgetError(_("Votre participation au vote doit d'abord être validée."))
    area_id = eligibility.neighbourhood_id if budget.vote_per_neighbourhood else None
    if projects is None:
        projects = ballot_lines(budget, area_id)
    chosen = check_selection(budget, projects, selected_ids, area_id)
    registered = db.session.execute(
        _CAST_SQL,
        {
            "budget_id": budget.id,
            "user_id": user.id,
            "census_entry_id": eligibility.census_entry_id,
            "ballot_id": uuid.uuid4(),
            "area_id": area_id,
            "cast_hour": _hour(clock.utcnow()),
            "project_ids": [p.id for p in chosen],
        },
    ).scalar_one()
    if not registered:
        raise AlreadyVoted(already_voted_message())


def record_paper_ballot(
    budget: Budget,
    actor: User,
    *,
    polling_point: str,
    voter_name: str,
    birth_date: date | None,
    area_id: int | None,
    selected_ids: Iterable[int],
    today: date,
) -> Voter:
    if budget.phase(today) != BudgetPhase.VOTE:
        raise BudgetError(
            _("Le vote n'est pas ouvert : impossible d'enregistrer un bulletin papier.")
        )
    polling_point = " ".join((polling_point or "").split())
    voter_name = " ".join((voter_name or "").split())
    if not polling_point:
        raise BudgetError(_("Indiquez le bureau de vote."), "polling_point")
    if not voter_name:
        raise BudgetError(
            _("Indiquez le nom de la personne, tel qu'il figure sur la liste d'émargement."),
            "voter_name",
        )
    if budget.vote_per_neighbourhood and area_id not in envelopes(budget):
        raise BudgetError(_("Choisissez le quartier du bulletin."), "neighbourhood_id")
    entry_id = None
    if budget.require_census:
        if birth_date is None:
            raise BudgetError(_("Indiquez la date de naissance de la personne."), "birth_date")
        found = match_census(budget.id, voter_name, birth_date)
        if found.kind != "exact":
            raise BudgetError(
                _(
                    "Cette personne n'est pas sur la liste des habitants sous ce nom et cette "
                    "date de naissance : vérifiez sa pièce d'identité."
                ),
                "voter_name",
            )
        entry_id = found.entry.id
    area = area_id if budget.vote_per_neighbourhood else None
    chosen = check_selection(budget, ballot_projects(budget, area), selected_ids, area)
    registered = _register(
        {
            "budget_id": budget.id,
            "user_id": None,
            "census_entry_id": entry_id,
            "voter_label": voter_name[:200],
            "channel": BallotChannel.PAPER,
            "polling_point": polling_point[:200],
            "recorded_by_id": actor.id,
        }
    )
    if not registered:
        raise AlreadyVoted(_("Cette personne a déjà voté (en ligne ou sur papier)."), "voter_name")
    _insert_ballot(budget, chosen, BallotChannel.PAPER, polling_point[:200], area)
    db.session.flush()
    voter = db.session.scalar(
        sa.select(Voter)
        .where(Voter.budget_id == budget.id, Voter.recorded_by_id == actor.id)
        .order_by(Voter.id.desc())
        .limit(1)
    )
    # The choices are not audited: the entry names the voter.
    _audit(
        "budgets.paper_ballot_recorded",
        actor,
        "budget",
        budget.id,
        polling_point=polling_point,
        register_id=voter.id,
    )
    return voter


def register(budget: Budget) -> list[Voter]:
    return list(
        db.session.scalars(
            sa.select(Voter)
            .where(Voter.budget_id == budget.id)
            .order_by(Voter.voted_at, Voter.id)
            .options(sa.orm.joinedload(Voter.user))
        )
    )


# --------------------------------------------------------------------------- results


@dataclass
class ProjectResult:
    project: BudgetProject
    votes: int
    rank: int = 0
    retained: bool = False
    skipped: bool = False  # had votes but did not fit in what was left


@dataclass
class PoolResult:
    neighbourhood: Neighbourhood | None
    envelope: int
    rows: list[ProjectResult]
    spent: int = 0


@dataclass
class Results:
    pools: list[PoolResult]
    ballots: int
    voters: int
    online: int
    paper: int
    eligible_population: int | None

    @property
    def turnout(self) -> float | None:
        if not self.eligible_population:
            return None
        return self.voters / self.eligible_population

    @property
    def retained(self) -> list[ProjectResult]:
        return [row for pool in self.pools for row in pool.rows if row.retained]


def vote_counts(budget: Budget) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(BallotChoice.project_id, sa.func.count())
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.budget_id == budget.id)
        .group_by(BallotChoice.project_id)
    )
    return dict(rows.all())


def rank_pool(rows: list[ProjectResult], envelope: int) -> int:
    """Order ``rows`` (votes desc, cost asc, submission asc) and mark the retained ones;
    returns the amount spent."""
    rows.sort(key=lambda r: (-r.votes, r.project.cost, r.project.created_at, r.project.id))
    left = envelope
    for rank, row in enumerate(rows, 1):
        row.rank = rank
        if row.votes > 0 and row.project.cost <= left:
            row.retained = True
            left -= row.project.cost
        elif row.votes > 0:
            row.skipped = True
    return envelope - left


def compute_results(budget: Budget) -> Results:
    counts = vote_counts(budget)
    pools: dict[int | None, PoolResult] = {}
    by_id = {n.id: n for n in neighbourhoods()}
    for key, amount in envelopes(budget).items():
        pools[key] = PoolResult(by_id.get(key) if key else None, amount, [])
    for project in feasible_projects(budget):
        key = pool_of(budget, project)
        if key not in pools:
            continue
        pools[key].rows.append(ProjectResult(project, counts.get(project.id, 0)))
    for pool in pools.values():
        pool.spent = rank_pool(pool.rows, pool.envelope)
    channel_counts = dict(
        db.session.execute(
            sa.select(Ballot.channel, sa.func.count())
            .where(Ballot.budget_id == budget.id)
            .group_by(Ballot.channel)
        ).all()
    )
    voters = db.session.scalar(sa.select(sa.func.count()).where(Voter.budget_id == budget.id))
    ordered = sorted(
        pools.values(),
        key=lambda p: (
            p.neighbourhood is not None,
            p.neighbourhood.name if p.neighbourhood else "",
        ),
    )
    return Results(
        pools=ordered,
        ballots=sum(channel_counts.values()),
        voters=voters,
        online=channel_counts.get(BallotChannel.ONLINE, 0),
        paper=channel_counts.get(BallotChannel.PAPER, 0),
        eligible_population=budget.eligible_population,
    )


def results_public(budget: Budget, today: date) -> bool:
    return is_public(budget) and PHASE_ORDER.index(budget.phase(today)) >= PHASE_ORDER.index(
        BudgetPhase.RESULTS
    )


def retained_project_ids(budget: Budget) -> set[int]:
    return {row.project.id for row in compute_results(budget).retained}


# --------------------------------------------------------------------------- follow-up


def is_following(project: BudgetProject, user: User | None) -> bool:
    if user is None:
        return False
    return db.session.get(ProjectFollow, (project.id, user.id)) is not None


def toggle_follow(project: BudgetProject, user: User) -> bool:
    """Follow or stop following; returns the new state."""
    row = db.session.get(ProjectFollow, (project.id, user.id))
    if row is None:
        db.session.execute(
            pg_insert(ProjectFollow)
            .values(project_id=project.id, user_id=user.id)
            .on_conflict_do_nothing()
        )
        return True
    db.session.delete(row)
    db.session.flush()
    return False


def _check_follow_up(project: BudgetProject, today: date) -> None:
    if project.budget.phase(today) not in (BudgetPhase.RESULTS, BudgetPhase.IMPLEMENTATION):
        raise BudgetError(_("Le suivi de réalisation commence après le vote."))
    if project.id not in retained_project_ids(project.budget):
        raise BudgetError(_("Seuls les projets retenus par le vote ont un suivi de réalisation."))


def set_progress(project: BudgetProject, progress: int, actor: User, today: date) -> None:
    _check_follow_up(project, today)
    if progress is None or not 0 <= progress <= 100:
        raise BudgetError(_("L'avancement est un pourcentage entre 0 et 100."), "progress")
    previous = project.progress
    project.progress = progress
    db.session.flush()
    _audit(
        "budgets.progress_updated",
        actor,
        "budget_project",
        project.id,
        before=previous,
        after=progress,
    )


def add_milestone(
    project: BudgetProject, title: str, due_on: date | None, actor: User, today: date
) -> BudgetMilestone:
    _check_follow_up(project, today)
    title = (title or "").strip()
    if not title:
        raise BudgetError(_("Donnez un intitulé à l'étape."), "title")
    milestone = BudgetMilestone(
        project_id=project.id, title=title[:200], due_on=due_on, position=len(project.milestones)
    )
    db.session.add(milestone)
    db.session.flush()
    _audit("budgets.milestone_added", actor, "budget_project", project.id, milestone=title)
    return milestone


def complete_milestone(milestone: BudgetMilestone, actor: User, today: date) -> None:
    _check_follow_up(milestone.project, today)
    milestone.done_on = None if milestone.done_on else today
    db.session.flush()
    _audit(
        "budgets.milestone_done" if milestone.done_on else "budgets.milestone_reopened",
        actor,
        "budget_project",
        milestone.project_id,
        milestone=milestone.title,
    )


def post_update(
    project: BudgetProject,
    body: str,
    actor: User,
    today: date,
    photo_path: str | None = None,
    photo_alt: str | None = None,
) -> BudgetUpdate:
    _check_follow_up(project, today)
    body = (body or "").strip()
    if len(body) < 10:
        raise BudgetError(_("L'actualité doit faire au moins 10 caractères."), "body")
    if photo_path and not (photo_alt or "").strip():
        raise BudgetError(
            _("Décrivez la photo pour les personnes qui ne la voient pas."), "photo_alt"
        )
    update = BudgetUpdate(
        project_id=project.id,
        body=body,
        author_id=actor.id,
        photo_path=photo_path,
        photo_alt=(photo_alt or "").strip()[:300] or None,
    )
    db.session.add(update)
    db.session.flush()
    _audit("budgets.update_posted", actor, "budget_project", project.id, update_id=update.id)
    from participation.engagement.services import local_url, notify_user

    followers = db.session.scalars(
        sa.select(ProjectFollow.user_id).where(ProjectFollow.project_id == project.id)
    ).all()
    for user_id in followers:
        notify_user(
            user_id,
            kind="process.budget_update",
            title=_("Du nouveau sur le projet « %(title)s »", title=project.title),
            body=body[:300],
            url=local_url("budgets.project", project_id=project.id),
        )
    return update


# --------------------------------------------------------------------------- process page


@dataclass
class ProcessBudgets:
    budgets: list[tuple[Budget, BudgetPhase]]


def process_budgets(process) -> ProcessBudgets:
    today = clock.paris_today()
    return ProcessBudgets([(b, b.phase(today)) for b in budgets_of_process(process.id)])
