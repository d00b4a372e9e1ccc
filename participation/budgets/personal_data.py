"""What participatory budgets hold about a person (registered in the tenant registry).

Eligibility declarations (full name, birth date) are deleted with the account and, like the
census list, ``RETENTION_BUDGET_CENSUS_MONTHS`` after the results (participation/accounts/
retention.py). The ballot register keeps that a vote took place, without the name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import clock
from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts import retention
from participation.accounts.personal_data import registry, retention_periods, with_the_account
from participation.budgets.models import (
    Budget,
    BudgetProject,
    BudgetUpdate,
    CensusEntry,
    Eligibility,
    ProjectFollow,
    Voter,
)


def census_retention() -> str:
    from flask_babel import gettext as _

    return _(
        "Jusqu'à %(months)d mois après la publication des résultats du budget, puis supprimé.",
        months=retention_periods()["census_months"],
    )


def export(user: Any) -> tuple[str, Any] | None:
    eligibilities = db.session.scalars(
        sa.select(Eligibility).where(Eligibility.user_id == user.id).order_by(Eligibility.id)
    ).all()
    voters = db.session.scalars(
        sa.select(Voter).where(Voter.user_id == user.id).order_by(Voter.id)
    ).all()
    projects = db.session.scalars(
        sa.select(BudgetProject)
        .where(BudgetProject.author_id == user.id)
        .order_by(BudgetProject.id)
    ).all()
    follows = db.session.scalars(
        sa.select(ProjectFollow.project_id).where(ProjectFollow.user_id == user.id)
    ).all()
    updates = db.session.scalars(
        sa.select(BudgetUpdate).where(BudgetUpdate.author_id == user.id)
    ).all()
    census_ids = {e.census_entry_id for e in eligibilities if e.census_entry_id} | {
        v.census_entry_id for v in voters if v.census_entry_id
    }
    census = (
        db.session.scalars(sa.select(CensusEntry).where(CensusEntry.id.in_(census_ids))).all()
        if census_ids
        else []
    )
    titles = dict(db.session.execute(sa.select(Budget.id, Budget.title)).all())
    if not (eligibilities or voters or projects or follows or updates):
        return None
    return "budgets_participatifs.json", {
        "eligibilite": [
            {
                "budget": titles.get(e.budget_id),
                "nom_complet": e.full_name,
                "date_de_naissance": e.birth_date,
                "habite_la_commune": e.resident,
                "quartier": e.neighbourhood.name if e.neighbourhood else None,
                "statut": e.status,
                "note_de_verification": e.match_note,
                "declaree_le": e.created_at,
                "verifiee_le": e.reviewed_at,
            }
            for e in eligibilities
        ],
        "liste_electorale": [
            {"budget": titles.get(c.budget_id), "nom": c.full_name, "naissance": c.birth_date}
            for c in census
        ],
        "registre_des_votants": [
            {
                "budget": titles.get(v.budget_id),
                "a_vote_le": v.voted_at,
                "canal": v.channel,
                "bureau": v.polling_point,
                "remarque": "Le contenu du vote est secret : il n'est relié à aucun compte.",
            }
            for v in voters
        ],
        "projets_proposes": [
            {
                "id": p.id,
                "budget": titles.get(p.budget_id),
                "titre": p.title,
                "description": p.description,
                "cout_propose": p.proposed_cost,
                "statut": p.status,
                "propose_le": p.created_at,
            }
            for p in projects
        ],
        "projets_suivis": list(follows),
        "actualites_publiees": [
            {"projet": u.project_id, "texte": u.body, "le": u.created_at} for u in updates
        ],
    }


def erase(user: Any) -> None:
    db.session.execute(sa.delete(Eligibility).where(Eligibility.user_id == user.id))
    db.session.execute(sa.delete(ProjectFollow).where(ProjectFollow.user_id == user.id))
    # The register keeps that one vote was cast (turnout, one vote per census entry), not who.
    db.session.execute(
        sa.update(Voter).where(Voter.user_id == user.id).values(user_id=None, voter_label=None)
    )
    db.session.flush()


registry.register(
    PersonalData(
        name="budgets",
        export=export,
        erase=erase,
        tables=(
            PersonalTable(
                "budget_eligibilities",
                ("user_id", "full_name", "birth_date", "match_note", "reviewed_by_id"),
                Erasure.DELETE,
                retention=census_retention,
            ),
            PersonalTable(
                "budget_census_entries",
                ("full_name", "normalised_name", "birth_date"),
                Erasure.KEEP,
                retention=census_retention,
                reason=_l(
                    "Liste électorale fournie par la collectivité, pas par le compte : exportée "
                    "si elle vous concerne, supprimée après les résultats."
                ),
            ),
            PersonalTable(
                "budget_voters",
                ("user_id", "voter_label", "recorded_by_id"),
                Erasure.ANONYMISE,
                retention=census_retention,
                reason=_l(
                    "Le registre garde qu'un vote a eu lieu (participation, un seul vote par "
                    "personne de la liste) ; le lien au compte et le nom sont effacés."
                ),
            ),
            PersonalTable(
                "budget_project_follows", ("user_id",), Erasure.DELETE, retention=with_the_account
            ),
            PersonalTable(
                "budget_projects",
                ("author_id", "title", "description", "analysis_reason", "analysed_by_id"),
                Erasure.KEEP,
                retention=_l("Durée du budget et de sa réalisation."),
                reason=_l(
                    "Projet soumis au vote public : il reste, signé « Participant·e anonyme »."
                ),
            ),
            PersonalTable(
                "budget_updates",
                ("author_id", "body"),
                Erasure.KEEP,
                retention=_l("Durée de la réalisation du projet."),
                reason=_l("Information publique de la collectivité sur un projet."),
            ),
        ),
    )
)


# --------------------------------------------------------------------------- retention


def purge_budget_census(now: datetime | None = None) -> int:
    """Census lists and eligibility records of budgets whose results are old enough.
    Returns the number of budgets purged."""
    now = now or clock.utcnow()
    # Results are published the day after the vote closes (Budget.phase).
    last_vote_day = retention.months_before(
        now, retention_periods()["census_months"]
    ).date() - timedelta(days=1)
    budgets = db.session.scalars(
        sa.select(Budget)
        .where(Budget.vote_ends_on < last_vote_day, Budget.personal_data_purged_at.is_(None))
        .with_for_update(skip_locked=True)
    ).all()
    for budget in budgets:
        db.session.execute(
            sa.update(Voter)
            .where(Voter.budget_id == budget.id)
            .values(census_entry_id=None, voter_label=None)
        )
        db.session.execute(sa.delete(Eligibility).where(Eligibility.budget_id == budget.id))
        db.session.execute(sa.delete(CensusEntry).where(CensusEntry.budget_id == budget.id))
        budget.personal_data_purged_at = now
    db.session.flush()
    return len(budgets)


# --------------------------------------------------------------------------- accounts


retention.register_rule("budgets_purged", purge_budget_census)
