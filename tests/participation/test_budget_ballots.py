"""Ballots and results of participatory budgets: the rules of a selection (knapsack, per
quartier, approval), the retained projects and the tie rule computed by hand, and one
ballot per voter under 50 simultaneous submissions."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import client_on, create_person, csrf_for, forge_session
from tests.support.budgets import approve_voter, count_rows, make_budget


def in_tenant(app, tenant, func):
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        result = func()
        db.session.commit()
        return result


def add_ballots(app, tenant, budget_id: int, ballots: list[list[int]], area_id=None) -> None:
    """Ballot rows straight into the tables (results do not read the register)."""
    from participation.budgets.models import Ballot, BallotChoice

    def insert():
        for choices in ballots:
            ballot_id = uuid.uuid4()
            db.session.execute(
                sa.insert(Ballot).values(
                    id=ballot_id,
                    budget_id=budget_id,
                    channel="online",
                    neighbourhood_id=area_id,
                    cast_hour=datetime(2027, 3, 10, 14, tzinfo=UTC),
                )
            )
            db.session.execute(
                sa.insert(BallotChoice),
                [{"ballot_id": ballot_id, "project_id": p} for p in choices],
            )

    in_tenant(app, tenant, insert)


def results_of(app, tenant, budget_id: int) -> dict:
    from participation.budgets import services

    def compute():
        results = services.compute_results(services.get_budget(budget_id))
        return {
            "pools": [
                {
                    "name": pool.neighbourhood.name if pool.neighbourhood else None,
                    "order": [row.project.title for row in pool.rows],
                    "votes": {row.project.title: row.votes for row in pool.rows},
                    "retained": [row.project.title for row in pool.rows if row.retained],
                    "skipped": [row.project.title for row in pool.rows if row.skipped],
                    "spent": pool.spent,
                }
                for pool in results.pools
            ],
            "ballots": results.ballots,
            "turnout": results.turnout,
        }

    return in_tenant(app, tenant, compute)


# --------------------------------------------------------------------------- results


def test_knapsack_results_skip_what_does_not_fit_and_break_ties_by_cost(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        phase="results",
        envelope=100_000,
        projects=[("A", 60_000), ("B", 50_000), ("C", 30_000), ("D", 20_000), ("E", 10_000)],
        eligible_population=40,
    )
    p = made.projects
    # A: 5 votes, B: 4, C: 4, D: 1, E: 0.
    add_ballots(
        staff_app,
        budget_tenant,
        made.id,
        [[p["A"], p["C"]]] * 3 + [[p["A"], p["B"]]] * 2 + [[p["B"]]] * 2 + [[p["C"], p["D"]]],
    )
    result = results_of(staff_app, budget_tenant, made.id)
    pool = result["pools"][0]
    assert pool["votes"] == {"A": 5, "B": 4, "C": 4, "D": 1, "E": 0}
    # B and C tie on 4 votes: the cheaper (C, 30 000) comes first.
    assert pool["order"] == ["A", "C", "B", "D", "E"]
    # A (60 000) fits: 40 000 left; C (30 000) fits: 10 000 left; B and D do not fit.
    assert pool["retained"] == ["A", "C"]
    assert pool["skipped"] == ["B", "D"]
    assert pool["spent"] == 90_000
    assert result["ballots"] == 8
    assert result["turnout"] == 0  # no register rows: turnout counts voters, not ballots


def test_tie_on_votes_and_cost_goes_to_the_earlier_submission(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        phase="results",
        envelope=50_000,
        # (title, cost, neighbourhood, status, minutes after the reference time)
        projects=[("Tardif", 30_000, None, None, 90), ("Précoce", 30_000, None, None, 10)],
    )
    p = made.projects
    add_ballots(staff_app, budget_tenant, made.id, [[p["Tardif"], p["Précoce"]]] * 3)
    pool = results_of(staff_app, budget_tenant, made.id)["pools"][0]
    assert pool["order"] == ["Précoce", "Tardif"]
    assert pool["retained"] == ["Précoce"]
    assert pool["skipped"] == ["Tardif"]


def test_split_envelope_ranks_each_quartier_on_its_own(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        phase="results",
        envelopes={"Nord": 50_000, "Sud": 30_000},
        projects=[
            ("N1", 40_000, "Nord"),
            ("N2", 20_000, "Nord"),
            ("S1", 25_000, "Sud"),
            ("S2", 10_000, "Sud"),
            ("Refusé", 5_000, "Sud", "unfeasible"),
        ],
    )
    p = made.projects
    add_ballots(
        staff_app,
        budget_tenant,
        made.id,
        [[p["N1"], p["S2"]]] * 3 + [[p["N2"], p["S2"]]] * 2 + [[p["S1"]]],
    )
    pools = {pool["name"]: pool for pool in results_of(staff_app, budget_tenant, made.id)["pools"]}
    assert set(pools) == {"Nord", "Sud"}
    assert pools["Nord"]["retained"] == ["N1"]  # 40 000 of 50 000; N2 (20 000) no longer fits
    assert pools["Nord"]["skipped"] == ["N2"]
    assert pools["Sud"]["votes"] == {"S2": 5, "S1": 1}  # the unfeasible project is not listed
    assert pools["Sud"]["retained"] == ["S2"]  # 10 000 of 30 000; S1 (25 000) does not fit
    assert pools["Sud"]["skipped"] == ["S1"]


# --------------------------------------------------------------------------- selection rules


def _check(app, tenant, budget_id, ids, area=None):
    from participation.budgets import services

    def run():
        budget = services.get_budget(budget_id)
        projects = services.ballot_projects(budget, area)
        try:
            chosen = services.check_selection(budget, projects, ids, area)
        except services.BudgetError as exc:
            return str(exc)
        return sorted(p.title for p in chosen)

    return in_tenant(app, tenant, run)


def test_knapsack_selection_rules(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        envelope=100_000,
        projects=[
            ("A", 60_000),
            ("B", 40_000),
            ("C", 10_000),
            ("Refusé", 1_000, None, "unfeasible"),
        ],
    )
    p = made.projects
    assert _check(staff_app, budget_tenant, made.id, [p["A"], p["B"]]) == [
        "A",
        "B",
    ]  # exactly 100 000
    message = _check(staff_app, budget_tenant, made.id, [p["A"], p["B"], p["C"]])
    assert "dépasse l'enveloppe" in message
    assert "Choisissez au moins un projet" in _check(staff_app, budget_tenant, made.id, [])
    assert "ne fait pas partie" in _check(staff_app, budget_tenant, made.id, [p["Refusé"]])
    assert "ne fait pas partie" in _check(staff_app, budget_tenant, made.id, [999_999])


def test_split_knapsack_checks_each_quartier(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        envelopes={"Est": 50_000, "Ouest": 30_000},
        projects=[("E1", 40_000, "Est"), ("E2", 20_000, "Est"), ("O1", 30_000, "Ouest")],
    )
    p = made.projects
    assert _check(staff_app, budget_tenant, made.id, [p["E1"], p["O1"]]) == ["E1", "O1"]
    # E1 + E2 (60 000) is under the 80 000 of both envelopes together, but each quartier
    # is checked on its own: Est has 50 000.
    message = _check(staff_app, budget_tenant, made.id, [p["E1"], p["E2"]])
    assert "Pour le quartier Est" in message and "dépasse" in message


def test_vote_per_quartier_offers_only_the_voters_quartier(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        envelopes={"Haut": 50_000, "Bas": 30_000},
        vote_per_neighbourhood=True,
        projects=[("H1", 40_000, "Haut"), ("B1", 30_000, "Bas")],
    )
    p, haut = made.projects, made.neighbourhoods["Haut"]
    assert _check(staff_app, budget_tenant, made.id, [p["H1"]], haut) == ["H1"]
    assert "ne fait pas partie" in _check(staff_app, budget_tenant, made.id, [p["B1"]], haut)


def test_approval_selection_between_min_and_max(staff_app, budget_tenant):
    made = make_budget(
        staff_app,
        budget_tenant,
        rule="approval",
        min_choices=2,
        max_choices=3,
        envelope=1_000,  # approval ignores the envelope on the ballot
        projects=[(name, 900) for name in "PQRST"],
    )
    ids = [made.projects[name] for name in "PQRST"]
    assert "au moins 2 projets" in _check(staff_app, budget_tenant, made.id, ids[:1])
    assert _check(staff_app, budget_tenant, made.id, ids[:2]) == ["P", "Q"]
    assert _check(staff_app, budget_tenant, made.id, ids[:3]) == ["P", "Q", "R"]
    assert "au plus 3 projets" in _check(staff_app, budget_tenant, made.id, ids[:4])


# --------------------------------------------------------------------------- concurrency


def test_fifty_simultaneous_ballots_of_one_voter_make_one_ballot(staff_app, budget_tenant, today):
    made = make_budget(
        staff_app, budget_tenant, envelope=100_000, projects=[("Bancs", 20_000), ("Arbres", 30_000)]
    )
    person = create_person(staff_app, budget_tenant, None)
    approve_voter(staff_app, budget_tenant, made.id, person.id)
    path = f"/budgets-participatifs/{made.id}/vote"
    choices = [made.projects["Bancs"], made.projects["Arbres"]]
    clients = []
    for _ in range(50):
        client = client_on(staff_app, budget_tenant)
        forge_session(client, budget_tenant, person)
        clients.append((client, csrf_for(client)))
    barrier = threading.Barrier(50)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def submit(client, token):
        barrier.wait()
        response = client.post(path, data={"csrf_token": token, "project": choices})
        with lock:
            answers.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=submit, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(code for code, _ in answers)
    assert len(answers) == 50
    assert codes.count(303) == 1, codes
    assert codes.count(409) == 49, codes
    assert all("déjà voté" in body for code, body in answers if code == 409)
    assert count_rows(staff_app, budget_tenant, "budget_ballots", made.id) == 1
    assert count_rows(staff_app, budget_tenant, "budget_voters", made.id) == 1
    with staff_app.app_context(), db.engine.connect() as conn:
        choices_count = conn.scalar(
            sa.text(
                f'SELECT count(*) FROM "{budget_tenant.schema}".budget_ballot_choices c '
                f'JOIN "{budget_tenant.schema}".budget_ballots b ON b.id = c.ballot_id '
                "WHERE b.budget_id = :b"
            ),
            {"b": made.id},
        )
    assert choices_count == 2


def test_the_database_refuses_a_second_register_row(staff_app, budget_tenant):
    """The guarantee does not rest on the code: the unique constraint itself refuses."""
    from sqlalchemy.exc import IntegrityError

    from participation.budgets.models import Voter

    made = make_budget(staff_app, budget_tenant)
    person = create_person(staff_app, budget_tenant, None)

    def twice():
        db.session.add(Voter(budget_id=made.id, user_id=person.id, channel="online"))
        db.session.flush()
        db.session.add(Voter(budget_id=made.id, user_id=person.id, channel="paper"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()

    in_tenant(staff_app, budget_tenant, twice)
