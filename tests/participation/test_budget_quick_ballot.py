"""The ballot endpoint's one-statement path (``services.quick_cast``) must accept exactly
the ballots the ordinary path accepts (``check_selection`` with the voter's eligibility and
the budget's phase), for every voting rule, and write nothing for any other.

Each selection is tried inside a savepoint that is rolled back, so one voter serves them
all; the expected answer is computed by the ordinary path's own functions."""

from __future__ import annotations

import itertools
import random

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import client_on, create_person, csrf_for, forge_session
from tests.support.budgets import approve_voter, count_rows, make_budget
from tests.support.participation import TODAY


def _verdicts(app, tenant, budget_id: int, user_id: int, selections, today=TODAY):
    """[(ordinary path accepts, quick path accepts)] for each selection; nothing kept."""
    from participation.accounts.models import User
    from participation.budgets import services
    from participation.budgets.models import EligibilityStatus
    from participation.budgets.services import BudgetError
    from tenants.context import tenant_context

    out = []
    with app.app_context(), tenant_context(tenant):
        budget = services.get_budget(budget_id)
        user = db.session.get(User, user_id)
        state = services.voter_state(budget, user)
        for selection in selections:
            area = state.neighbourhood_id if state and budget.vote_per_neighbourhood else None
            expected = (
                services.is_public(budget)
                and budget.phase(today) == services.BudgetPhase.VOTE
                and state is not None
                and state.status == EligibilityStatus.APPROVED
                and not services.has_voted(budget, user)
            )
            if expected:
                try:
                    lines = services.ballot_lines(budget, area)
                    services.check_selection(budget, lines, selection, area)
                except BudgetError:
                    expected = False
            savepoint = db.session.begin_nested()
            quick = services.quick_cast(budget_id, user_id, selection, today)
            written = db.session.scalar(
                sa.text("SELECT count(*) FROM budget_voters WHERE budget_id = :b"),
                {"b": budget_id},
            )
            savepoint.rollback()
            assert written == (1 if quick else 0)  # the register starts empty
            out.append((expected, quick))
        db.session.rollback()
    return out


def _selections(ids: list[int], extra: list[int], rng: random.Random, count: int = 60):
    """Every subset of up to 3 ids, plus random larger ones and foreign ids mixed in."""
    pool = ids + extra
    out = [[]]
    for size in (1, 2, 3):
        out += [list(c) for c in itertools.combinations(ids, size)]
    for _ in range(count):
        out.append(rng.sample(pool, rng.randint(1, len(pool))))
    return out


def _agree(verdicts) -> None:
    disagreements = [i for i, (expected, quick) in enumerate(verdicts) if expected != quick]
    assert not disagreements, f"{len(disagreements)} selections judged differently"
    assert any(expected for expected, _ in verdicts), "no valid selection was tried"
    assert not all(expected for expected, _ in verdicts), "no invalid selection was tried"


def _both_paths_agree(app, tenant, made, ids, extra, seed: int, neighbourhood_id=None) -> None:
    """A new approved voter; both paths judge every subset of ``ids`` up to 3 and random
    larger selections (with ``extra`` ids mixed in) the same way."""
    person = create_person(app, tenant, None)
    approve_voter(app, tenant, made.id, person.id, neighbourhood_id=neighbourhood_id)
    selections = _selections(ids, extra, random.Random(seed))
    _agree(_verdicts(app, tenant, made.id, person.id, selections))


def test_knapsack_global_envelope(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        envelope=100_000,
        projects=[
            ("A", 60_000),
            ("B", 40_000),
            ("C", 10_000),
            ("D", 35_000),
            ("Refusé", 1_000, None, "unfeasible"),
            ("En attente", 1_000, None, "submitted"),
        ],
    )
    p = made.projects
    ids = [p["A"], p["B"], p["C"], p["D"]]
    extra = [p["Refusé"], p["En attente"], 999_999]
    _both_paths_agree(staff_app, budget_tenant, made, ids, extra, seed=1)


def test_knapsack_split_per_quartier(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        envelopes={"Est": 50_000, "Ouest": 30_000},
        projects=[
            ("E1", 40_000, "Est"),
            ("E2", 20_000, "Est"),
            ("E3", 10_000, "Est"),
            ("O1", 30_000, "Ouest"),
            ("O2", 5_000, "Ouest"),
        ],
    )
    _both_paths_agree(staff_app, budget_tenant, made, list(made.projects.values()), [], seed=2)


@pytest.mark.parametrize("with_area", [True, False])
def test_vote_per_quartier(staff_app, budget_tenant, with_area):
    made = make_budget(
        staff_app,
        budget_tenant,
        envelopes={"Haut": 50_000, "Bas": 30_000},
        vote_per_neighbourhood=True,
        projects=[
            ("H1", 40_000, "Haut"),
            ("H2", 15_000, "Haut"),
            ("B1", 30_000, "Bas"),
            ("B2", 10_000, "Bas"),
        ],
    )
    area = made.neighbourhoods["Haut"] if with_area else None
    ids = list(made.projects.values())
    _both_paths_agree(staff_app, budget_tenant, made, ids, [], seed=3, neighbourhood_id=area)


def test_approval_between_min_and_max(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        rule="approval",
        min_choices=2,
        max_choices=3,
        envelope=1_000,  # approval ignores the envelope on the ballot
        projects=[(name, 900) for name in "PQRST"],
    )
    _both_paths_agree(staff_app, budget_tenant, made, list(made.projects.values()), [], seed=4)


@pytest.mark.parametrize(
    "case", ["analysis", "results", "unpublished", "not approved", "pending", "no eligibility"]
)
def test_nothing_is_written_outside_an_open_vote_or_for_a_voter_not_approved(
    staff_app, budget_tenant, case
):
    from participation.budgets.models import Eligibility, EligibilityStatus
    from tenants.context import tenant_context

    phase = case if case in ("analysis", "results") else "vote"
    made = make_budget(
        staff_app,
        budget_tenant,
        phase=phase,
        published=case != "unpublished",
        projects=[("A", 10_000), ("B", 20_000)],
    )
    person = create_person(staff_app, budget_tenant, None)
    if case != "no eligibility":
        approve_voter(staff_app, budget_tenant, made.id, person.id)
    if case in ("not approved", "pending"):
        status = EligibilityStatus.REJECTED if case == "not approved" else EligibilityStatus.PENDING
        with staff_app.app_context(), tenant_context(budget_tenant):
            db.session.execute(
                sa.update(Eligibility).where(Eligibility.budget_id == made.id).values(status=status)
            )
            db.session.commit()
    verdicts = _verdicts(
        staff_app, budget_tenant, made.id, person.id, [list(made.projects.values())]
    )
    assert verdicts == [(False, False)]


def test_a_second_ballot_takes_the_ordinary_path_and_is_refused(staff_app, budget_tenant, today):
    """Through the endpoint: the first ballot is recorded by the one-statement path, the
    second one writes nothing there and gets the « déjà voté » answer of the ordinary path;
    an over-budget ballot gets its explanation from the ordinary path too."""
    made = make_budget(
        staff_app, budget_tenant, envelope=50_000, projects=[("A", 30_000), ("B", 30_000)]
    )
    person = create_person(staff_app, budget_tenant, None)
    approve_voter(staff_app, budget_tenant, made.id, person.id)
    client = client_on(staff_app, budget_tenant)
    forge_session(client, budget_tenant, person)
    token = csrf_for(client)
    path = f"/budgets-participatifs/{made.id}/vote"
    over = client.post(path, data={"csrf_token": token, "project": list(made.projects.values())})
    assert over.status_code == 422
    assert "dépasse" in over.get_data(as_text=True)
    assert count_rows(staff_app, budget_tenant, "budget_voters", made.id) == 0
    first = client.post(path, data={"csrf_token": token, "project": [made.projects["A"]]})
    assert first.status_code == 303
    assert first.headers["Location"].endswith(f"/budgets-participatifs/{made.id}/vote/merci")
    assert "votre vote est enregistré" in client.get(first.headers["Location"]).get_data(
        as_text=True
    )
    second = client.post(path, data={"csrf_token": token, "project": [made.projects["B"]]})
    assert second.status_code == 409
    assert "déjà voté" in second.get_data(as_text=True)
    assert count_rows(staff_app, budget_tenant, "budget_ballots", made.id) == 1
    assert count_rows(staff_app, budget_tenant, "budget_voters", made.id) == 1
