"""The French labels of phases, project statuses and voting rules, the tie rule as the
results page explains it, and amounts written the French way (``euros``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from participation.budgets.models import BudgetPhase, ProjectStatus, VotingRule

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


def euros(value: int | None) -> str:
    from core.i18n import number_fr

    return "" if value is None else f"{number_fr(value)}\u00a0€"


def phase_label(phase: BudgetPhase) -> str:
    return str(PHASE_LABELS[phase])


def status_label(status: ProjectStatus) -> str:
    return str(STATUS_LABELS[ProjectStatus(status)])
