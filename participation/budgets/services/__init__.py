"""Business rules of participatory budgets. Services add and flush, never commit and never
touch the request; a broken rule raises :class:`BudgetError` with a French message.

One module per step of a budget's life:

- ``errors``: :class:`BudgetError` and :class:`AlreadyVoted`;
- ``labels``: French labels of phases, statuses and rules, the tie rule, ``euros``;
- ``lookups``: read-only queries every step shares (budgets, projects, envelopes, calendar);
- ``setup``: a budget's settings checked, created, updated, published (staff);
- ``projects``: submission by residents, analysis by staff;
- ``census``: the census list import and name matching (the name functions are pure);
- ``eligibility``: the voter's declaration and its review;
- ``ballots``: the selection rule, online and paper ballots, the register;
- ``results``: counting and the retained projects of each pool (the ranking is pure);
- ``follow_up``: following a retained project, its progress, milestones and updates.

This package re-exports the names other packages, tests and bench scripts use
(``from participation.budgets import services``; ``services.compute_results``); modules
inside the package import from each other directly.
"""

from participation.budgets.models import BudgetPhase  # services.BudgetPhase, for callers
from participation.budgets.services.ballots import (
    BallotLine,
    VoterState,
    already_voted_message,
    ballot_lines,
    ballot_projects,
    cast_ballot,
    check_selection,
    has_voted,
    quick_cast,
    record_paper_ballot,
    register,
    voter_state,
)
from participation.budgets.services.census import (
    CENSUS_MAX_BYTES,
    CensusImport,
    CensusMatch,
    _distance,
    census_size,
    import_census,
    match_census,
    normalise_name,
    parse_date,
    strip_accents,
)
from participation.budgets.services.eligibility import (
    age_on,
    declare_eligibility,
    eligibility_of,
    review_eligibility,
    review_queue,
)
from participation.budgets.services.errors import AlreadyVoted, BudgetError
from participation.budgets.services.follow_up import (
    add_milestone,
    complete_milestone,
    is_following,
    post_update,
    set_progress,
    toggle_follow,
)
from participation.budgets.services.labels import (
    RULE_LABELS,
    TIE_RULE,
    euros,
    phase_label,
    status_label,
)
from participation.budgets.services.lookups import (
    ProcessBudgets,
    all_budgets,
    envelopes,
    feasible_projects,
    get_budget,
    get_project,
    is_public,
    neighbourhood,
    neighbourhoods,
    phase_periods,
    process_budgets,
    public_budgets,
    public_projects,
)
from participation.budgets.services.projects import analyse_project, submit_project
from participation.budgets.services.results import (
    PoolResult,
    ProjectResult,
    Results,
    compute_results,
    rank_pool,
    results_public,
    retained_project_ids,
    vote_counts,
)
from participation.budgets.services.setup import (
    BudgetFields,
    create_budget,
    publish_budget,
    update_budget,
)

__all__ = [
    "CENSUS_MAX_BYTES",
    "RULE_LABELS",
    "TIE_RULE",
    "AlreadyVoted",
    "BallotLine",
    "BudgetError",
    "BudgetFields",
    "BudgetPhase",
    "CensusImport",
    "CensusMatch",
    "PoolResult",
    "ProcessBudgets",
    "ProjectResult",
    "Results",
    "VoterState",
    "_distance",
    "add_milestone",
    "age_on",
    "all_budgets",
    "already_voted_message",
    "analyse_project",
    "ballot_lines",
    "ballot_projects",
    "cast_ballot",
    "census_size",
    "check_selection",
    "complete_milestone",
    "compute_results",
    "create_budget",
    "declare_eligibility",
    "eligibility_of",
    "envelopes",
    "euros",
    "feasible_projects",
    "get_budget",
    "get_project",
    "has_voted",
    "import_census",
    "is_following",
    "is_public",
    "match_census",
    "neighbourhood",
    "neighbourhoods",
    "normalise_name",
    "parse_date",
    "phase_label",
    "phase_periods",
    "post_update",
    "process_budgets",
    "public_budgets",
    "public_projects",
    "publish_budget",
    "quick_cast",
    "rank_pool",
    "record_paper_ballot",
    "register",
    "results_public",
    "retained_project_ids",
    "review_eligibility",
    "review_queue",
    "set_progress",
    "status_label",
    "strip_accents",
    "submit_project",
    "toggle_follow",
    "update_budget",
    "vote_counts",
    "voter_state",
]
