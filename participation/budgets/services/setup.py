"""Setting up a budget (staff): its calendar, envelope and voting rule checked together,
then created, updated (the rule is frozen once ballots exist) and published."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from core import clock
from core.audit import audit
from core.db import db
from participation.accounts.models import User
from participation.budgets.models import Budget, BudgetEnvelope, VotingRule
from participation.budgets.services.errors import BudgetError
from participation.budgets.services.lookups import has_votes


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


def create_budget(fields: BudgetFields, actor: User) -> Budget:
    _check_fields(fields)
    budget = Budget()
    _apply(budget, fields)
    db.session.add(budget)
    db.session.flush()
    audit("budgets.created", actor, "budget", budget.id, title=budget.title)
    return budget


def update_budget(budget: Budget, fields: BudgetFields, actor: User) -> None:
    _check_fields(fields)
    if has_votes(budget) and (
        fields.rule != budget.rule
        or fields.split_by_neighbourhood != budget.split_by_neighbourhood
        or fields.vote_per_neighbourhood != budget.vote_per_neighbourhood
    ):
        raise BudgetError(
            _("Des bulletins ont déjà été déposés : la règle de vote ne peut plus changer."), "rule"
        )
    _apply(budget, fields)
    db.session.flush()
    audit("budgets.updated", actor, "budget", budget.id, title=budget.title)


def publish_budget(budget: Budget, actor: User) -> None:
    if budget.published_at is not None:
        raise BudgetError(_("Ce budget est déjà publié."))
    budget.published_at = clock.utcnow()
    db.session.flush()
    audit("budgets.published", actor, "budget", budget.id)
