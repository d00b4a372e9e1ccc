"""Eligibility to vote: the voter's declaration (age, residency, quartier, census match),
approved at once or queued for staff review, and that review."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from core import clock
from core.audit import audit
from core.db import db
from participation.accounts.models import User
from participation.budgets.models import Budget, BudgetPhase, Eligibility, EligibilityStatus
from participation.budgets.services.census import match_census
from participation.budgets.services.errors import BudgetError
from participation.budgets.services.lookups import envelopes, is_public


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
    audit(
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
