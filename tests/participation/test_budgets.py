"""Participatory budgets: pages, submission, analysis, eligibility (age, residency, census
list and its review queue), knapsack and approval ballots, results with the tie rule
computed by hand, paper ballots (audited), follow-up and its notifications, anonymity."""

from __future__ import annotations

import io

import sqlalchemy as sa

from core.db import db
from tests.support import client_on, create_person, logged_in, post, text
from tests.support.budgets import approve_voter, count_rows, make_budget
from tests.support.staff import audit_rows


def in_tenant(app, tenant, func):
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        result = func()
        db.session.commit()
        return result


def flat(html: str) -> str:
    """Thousands and currency separators (narrow no-break spaces) as plain spaces."""
    return html.replace("\u202f", " ").replace("\u00a0", " ")


def citizen_client(app, tenant):
    return logged_in(app, tenant, None)


# --------------------------------------------------------------------------- pages


def test_public_pages_render(staff_app, budget_tenant, today):
    made = make_budget(
        staff_app,
        budget_tenant,
        phase="vote",
        projects=[("Des bancs au parc Salvator", 30_000), ("Une fontaine", 20_000)],
    )
    client = client_on(staff_app, budget_tenant)
    page = client.get("/budgets-participatifs/")
    assert page.status_code == 200
    assert f"/budgets-participatifs/{made.id}" in text(page)
    page = client.get(f"/budgets-participatifs/{made.id}")
    assert page.status_code == 200
    assert "Des bancs au parc Salvator" in text(page)
    project = client.get(f"/budgets-participatifs/projets/{made.projects['Une fontaine']}")
    assert project.status_code == 200
    # Results are not public during the vote.
    assert client.get(f"/budgets-participatifs/{made.id}/resultats").status_code == 404
    # The vote page needs an account.
    assert client.get(f"/budgets-participatifs/{made.id}/vote").status_code == 302


def test_draft_budget_is_hidden(staff_app, budget_tenant, today):
    made = make_budget(staff_app, budget_tenant, published=False)
    client = client_on(staff_app, budget_tenant)
    assert client.get(f"/budgets-participatifs/{made.id}").status_code == 404
    assert f"/budgets-participatifs/{made.id}" not in text(client.get("/budgets-participatifs/"))


# --------------------------------------------------------------------------- ballots over HTTP


def test_knapsack_ballot_refused_over_budget_then_cast_once(staff_app, budget_tenant, today):
    made = make_budget(
        staff_app,
        budget_tenant,
        envelope=100_000,
        projects=[("Piste cyclable", 70_000), ("Bancs", 20_000), ("Fresque", 40_000)],
    )
    client, person = citizen_client(staff_app, budget_tenant)
    approve_voter(staff_app, budget_tenant, made.id, person.id)
    page = client.get(f"/budgets-participatifs/{made.id}/vote")
    assert page.status_code == 200
    assert "ballot.js" in text(page)
    over = [made.projects["Piste cyclable"], made.projects["Fresque"]]
    refused = post(client, f"/budgets-participatifs/{made.id}/vote", {"project": over})
    assert refused.status_code == 422
    body = text(refused)
    assert "dépasse l'enveloppe" in body
    assert "110 000 €" in flat(body) and "100 000 €" in flat(body)
    # The selection is kept.
    for project_id in over:
        assert f'value="{project_id}" id="projet-{project_id}" data-cost' in body
        assert f'id="projet-{project_id}" data-cost="' in body
    assert body.count(" checked>") == 2
    assert count_rows(staff_app, budget_tenant, "budget_ballots", made.id) == 0
    assert count_rows(staff_app, budget_tenant, "budget_voters", made.id) == 0

    good = [made.projects["Piste cyclable"], made.projects["Bancs"]]
    cast = post(client, f"/budgets-participatifs/{made.id}/vote", {"project": good})
    assert cast.status_code == 303
    assert cast.headers["Location"].endswith(f"/budgets-participatifs/{made.id}/vote/merci")
    assert count_rows(staff_app, budget_tenant, "budget_ballots", made.id) == 1
    assert count_rows(staff_app, budget_tenant, "budget_voters", made.id) == 1

    again = post(client, f"/budgets-participatifs/{made.id}/vote", {"project": good[:1]})
    assert again.status_code == 409
    assert "déjà voté" in text(again)
    assert count_rows(staff_app, budget_tenant, "budget_ballots", made.id) == 1
    assert "Vous avez voté" in text(client.get(f"/budgets-participatifs/{made.id}/vote"))


def test_vote_requires_an_approved_eligibility(staff_app, budget_tenant, today):
    made = make_budget(staff_app, budget_tenant, projects=[("Bancs", 20_000)])
    client, person = citizen_client(staff_app, budget_tenant)
    page = client.get(f"/budgets-participatifs/{made.id}/vote")
    assert page.status_code == 303
    assert page.headers["Location"].endswith(f"/budgets-participatifs/{made.id}/eligibilite")
    refused = post(
        client, f"/budgets-participatifs/{made.id}/vote", {"project": [made.projects["Bancs"]]}
    )
    assert refused.status_code == 303
    assert count_rows(staff_app, budget_tenant, "budget_ballots", made.id) == 0


def test_ballot_rows_carry_nothing_about_the_voter(staff_app, budget_tenant):
    with staff_app.app_context(), db.engine.connect() as conn:
        columns = {
            row[0]: row[1]
            for row in conn.execute(
                sa.text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = 'budget_ballots'"
                ),
                {"s": budget_tenant.schema},
            )
        }
        choice_columns = set(
            conn.scalars(
                sa.text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = 'budget_ballot_choices'"
                ),
                {"s": budget_tenant.schema},
            )
        )
        references = set(
            conn.scalars(
                sa.text(
                    "SELECT ccu.table_name FROM information_schema.table_constraints tc "
                    "JOIN information_schema.constraint_column_usage ccu "
                    "ON tc.constraint_name = ccu.constraint_name "
                    "AND tc.constraint_schema = ccu.constraint_schema "
                    "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = :s "
                    "AND tc.table_name IN ('budget_ballots', 'budget_ballot_choices')"
                ),
                {"s": budget_tenant.schema},
            )
        )
    assert set(columns) == {
        "id",
        "budget_id",
        "channel",
        "polling_point",
        "neighbourhood_id",
        "cast_hour",
    }
    assert columns["id"] == "uuid"  # random, no serial order shared with the register
    assert choice_columns == {"ballot_id", "project_id"}
    assert "users" not in references and "budget_voters" not in references


# --------------------------------------------------------------------------- submission


def test_citizen_submits_a_project_during_submission_only(staff_app, budget_tenant, today):
    made = make_budget(staff_app, budget_tenant, phase="submission", envelope=50_000)
    client, person = citizen_client(staff_app, budget_tenant)
    path = f"/budgets-participatifs/{made.id}/projets/nouveau"
    assert client.get(path).status_code == 200
    too_dear = post(
        client,
        path,
        {
            "title": "Une piscine",
            "description": "Une grande piscine couverte pour tous.",
            "proposed_cost": "80000",
        },
    )
    assert too_dear.status_code == 200
    assert "dépasse l'enveloppe" in text(too_dear)
    done = post(
        client,
        path,
        {
            "title": "Des bancs au parc Salvator",
            "description": "Quinze bancs à l'ombre des grands arbres du parc.",
            "proposed_cost": "12000",
        },
    )
    assert done.status_code == 303

    from participation.budgets.models import BudgetProject, ProjectFollow

    def check():
        project = db.session.scalar(
            sa.select(BudgetProject).where(BudgetProject.budget_id == made.id)
        )
        assert project.title == "Des bancs au parc Salvator"
        assert project.author_id == person.id and project.status.value == "submitted"
        assert db.session.get(ProjectFollow, (project.id, person.id)) is not None

    in_tenant(staff_app, budget_tenant, check)

    closed = make_budget(staff_app, budget_tenant, phase="vote")
    refused = post(
        client,
        f"/budgets-participatifs/{closed.id}/projets/nouveau",
        {
            "title": "Trop tard",
            "description": "Un projet déposé hors délai.",
            "proposed_cost": "100",
        },
    )
    assert refused.status_code == 403
    assert "pas ouvert" in text(refused)


def test_split_budget_needs_the_projects_quartier(staff_app, budget_tenant, today):
    made = make_budget(
        staff_app, budget_tenant, phase="submission", envelopes={"Gare": 40_000, "Port": 20_000}
    )
    client, _person = citizen_client(staff_app, budget_tenant)
    answer = post(
        client,
        f"/budgets-participatifs/{made.id}/projets/nouveau",
        {
            "title": "Un abri vélo",
            "description": "Un abri vélo couvert et sécurisé.",
            "proposed_cost": "9000",
        },
    )
    assert answer.status_code == 200
    assert "Choisissez le quartier" in text(answer)


# --------------------------------------------------------------------------- analysis


def test_analysis_requires_a_public_reason_when_not_feasible(staff_app, budget_tenant, today):
    author = create_person(staff_app, budget_tenant, None)
    made = make_budget(
        staff_app,
        budget_tenant,
        phase="analysis",
        envelope=100_000,
        projects=[("Piscine", 90_000, None, "submitted")],
    )
    project_id = made.projects["Piscine"]
    in_tenant(
        staff_app,
        budget_tenant,
        lambda: db.session.execute(
            sa.text("UPDATE budget_projects SET author_id = :a WHERE id = :p"),
            {"a": author.id, "p": project_id},
        ),
    )
    agent, _ = logged_in(staff_app, budget_tenant, "agent")
    path = f"/gestion/budgets/projets/{project_id}/analyse"
    assert agent.get(path).status_code == 200
    missing = post(agent, path, {"feasible": "no", "estimated_cost": "", "reason": ""})
    assert missing.status_code == 200
    assert "Expliquez publiquement" in text(missing)
    too_dear = post(agent, path, {"feasible": "yes", "estimated_cost": "150000", "reason": ""})
    assert "dépasse l'enveloppe" in text(too_dear)
    done = post(
        agent,
        path,
        {"feasible": "no", "estimated_cost": "", "reason": "La baignade est interdite dans l'Ill."},
    )
    assert done.status_code == 303

    from participation.budgets.models import BudgetProject
    from participation.engagement.models import Notification

    def check():
        project = db.session.get(BudgetProject, project_id)
        assert project.status.value == "unfeasible"
        assert project.analysis_reason == "La baignade est interdite dans l'Ill."
        note = db.session.scalar(sa.select(Notification).where(Notification.user_id == author.id))
        assert note is not None and "Piscine" in note.title

    in_tenant(staff_app, budget_tenant, check)
    rows = [
        r
        for r in audit_rows(staff_app, budget_tenant, "budgets.project_analysed")
        if r["target_id"] == str(project_id)
    ]
    assert rows and rows[-1]["details"]["status"] == "unfeasible"
    public = client_on(staff_app, budget_tenant).get(f"/budgets-participatifs/projets/{project_id}")
    assert "La baignade est interdite" in text(public)


def test_analysis_is_frozen_once_the_vote_opens(staff_app, budget_tenant, today):
    made = make_budget(staff_app, budget_tenant, phase="vote", projects=[("Bancs", 1_000)])
    agent, _ = logged_in(staff_app, budget_tenant, "agent")
    answer = post(
        agent,
        f"/gestion/budgets/projets/{made.projects['Bancs']}/analyse",
        {"feasible": "no", "reason": "Changement d'avis."},
    )
    assert answer.status_code == 200
    assert "Le vote a commencé" in text(answer)


# --------------------------------------------------------------------------- eligibility


def declare(client, budget_id, **data):
    fields = {"full_name": "Camille Martin", "birth_date": "1990-02-01", "resident": "y"}
    fields.update(data)
    return post(
        client,
        f"/budgets-participatifs/{budget_id}/eligibilite",
        {k: v for k, v in fields.items() if v is not None},
    )


def test_minimum_age_and_residency(staff_app, budget_tenant, today):
    made = make_budget(staff_app, budget_tenant, minimum_age=16, require_residency=True)
    client, _person = citizen_client(staff_app, budget_tenant)
    # TODAY is 2027-03-15: born 2011-03-16, one is 15 until tomorrow.
    young = declare(client, made.id, birth_date="2011-03-16")
    assert young.status_code == 200
    assert "16 ans et plus" in text(young)
    not_resident = declare(client, made.id, birth_date="2011-03-15", resident=None)
    assert "cochez la déclaration de résidence" in text(not_resident)
    ok = declare(client, made.id, birth_date="2011-03-15")
    assert ok.status_code == 303
    assert ok.headers["Location"].endswith(f"/budgets-participatifs/{made.id}/vote")
    assert client.get(f"/budgets-participatifs/{made.id}/vote").status_code == 200


CENSUS_CSV = (
    "nom;prénom;date de naissance\n"
    "Martin;Camille;01/02/1990\n"
    "Chabert;Hélène;08/11/1969\n"
    "Dupont;Jean-Pierre;1980-05-05\n"
    "Illisible;Personne;pas une date\n"
).encode()


def test_census_upload_matching_and_review_queue(staff_app, budget_tenant, today):
    made = make_budget(staff_app, budget_tenant, require_census=True, projects=[("Bancs", 1_000)])
    admin, admin_person = logged_in(staff_app, budget_tenant, "admin")
    upload = post(
        admin,
        f"/gestion/budgets/{made.id}/recensement",
        {"file": (io.BytesIO(CENSUS_CSV), "habitants.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200
    page = text(upload)
    assert "3 personnes sont sur la liste" in page
    assert "ligne 5" in page
    audit = [
        r
        for r in audit_rows(staff_app, budget_tenant, "budgets.census_imported")
        if r["target_id"] == str(made.id)
    ]
    assert audit[-1]["details"] == {"people": 3, "skipped": 1}

    from participation.budgets.models import Budget, Eligibility

    assert (
        in_tenant(
            staff_app, budget_tenant, lambda: db.session.get(Budget, made.id).eligible_population
        )
        == 3
    )

    def status_of(person):
        return in_tenant(
            staff_app,
            budget_tenant,
            lambda: db.session.scalar(
                sa.select(Eligibility.status).where(
                    Eligibility.budget_id == made.id, Eligibility.user_id == person.id
                )
            ),
        )

    # Case and word order do not matter: an exact match.
    exact_client, exact = citizen_client(staff_app, budget_tenant)
    assert declare(exact_client, made.id, full_name="MARTIN camille").status_code == 303
    assert status_of(exact).value == "approved"
    # Someone else cannot claim the same person.
    thief_client, thief = citizen_client(staff_app, budget_tenant)
    stolen = declare(thief_client, made.id, full_name="Camille Martin")
    assert "déjà inscrite avec un autre compte" in text(stolen)
    assert status_of(thief) is None
    # Accents differ: a near match, reviewed by staff.
    accent_client, accent = citizen_client(staff_app, budget_tenant)
    assert (
        declare(
            accent_client, made.id, full_name="Helene Chabert", birth_date="1969-11-08"
        ).status_code
        == 303
    )
    assert status_of(accent).value == "pending"
    assert "en cours de vérification" in text(
        accent_client.get(f"/budgets-participatifs/{made.id}/vote")
    )
    # One letter differs: near match too.
    letter_client, letter = citizen_client(staff_app, budget_tenant)
    assert (
        declare(
            letter_client, made.id, full_name="Jean-Pierre Dupond", birth_date="1980-05-05"
        ).status_code
        == 303
    )
    assert status_of(letter).value == "pending"
    # Too different, or another date of birth: refused with an explanation, nothing stored.
    far_client, far = citizen_client(staff_app, budget_tenant)
    far_answer = declare(far_client, made.id, full_name="Jean Dupont", birth_date="1980-05-05")
    assert "Nous ne vous trouvons pas" in text(far_answer)
    wrong_date = declare(
        far_client, made.id, full_name="Jean-Pierre Dupont", birth_date="1980-05-06"
    )
    assert "Nous ne vous trouvons pas" in text(wrong_date)
    assert status_of(far) is None

    queue = admin.get(f"/gestion/budgets/{made.id}/verifications")
    assert "Helene Chabert" in text(queue) and "Hélène Chabert" in text(queue)
    ids = in_tenant(
        staff_app,
        budget_tenant,
        lambda: {
            e.user_id: e.id
            for e in db.session.scalars(
                sa.select(Eligibility).where(Eligibility.budget_id == made.id)
            )
        },
    )
    assert (
        post(
            admin, f"/gestion/budgets/verifications/{ids[accent.id]}", {"decision": "approve"}
        ).status_code
        == 303
    )
    assert (
        post(
            admin, f"/gestion/budgets/verifications/{ids[letter.id]}", {"decision": "reject"}
        ).status_code
        == 303
    )
    assert status_of(accent).value == "approved"
    assert status_of(letter).value == "rejected"
    approved = audit_rows(staff_app, budget_tenant, "budgets.eligibility_approved")
    assert approved[-1]["target_id"] == str(ids[accent.id])
    assert approved[-1]["actor_id"] == admin_person.id
    assert approved[-1]["details"]["census_name"] == "Hélène Chabert"
    assert audit_rows(staff_app, budget_tenant, "budgets.eligibility_rejected")[-1][
        "target_id"
    ] == str(ids[letter.id])
    # A second decision on the same request changes nothing.
    post(admin, f"/gestion/budgets/verifications/{ids[accent.id]}", {"decision": "reject"})
    assert status_of(accent).value == "approved"
    # The approved voter can now vote.
    assert accent_client.get(f"/budgets-participatifs/{made.id}/vote").status_code == 200


def test_normalisation_and_distance():
    from participation.budgets.services import _distance, normalise_name, strip_accents

    assert normalise_name("  Jean-Pierre  DUPONT ") == normalise_name("dupont jean pierre")
    assert normalise_name("Hélène") != normalise_name("Helene")
    assert strip_accents(normalise_name("Hélène")) == normalise_name("Helene")
    assert _distance("dupont", "dupond") == 1
    assert _distance("martin", "martine") == 1
    assert _distance("jean", "jean pierre") > 2


# --------------------------------------------------------------------------- paper ballots


def test_paper_ballots_are_audited_and_count_once(staff_app, budget_tenant, today):
    made = make_budget(
        staff_app,
        budget_tenant,
        require_census=True,
        envelope=50_000,
        projects=[("Bancs", 20_000), ("Arbres", 40_000)],
    )
    admin, _ = logged_in(staff_app, budget_tenant, "admin")
    post(
        admin,
        f"/gestion/budgets/{made.id}/recensement",
        {"file": (io.BytesIO(CENSUS_CSV), "habitants.csv")},
        content_type="multipart/form-data",
    )
    agent, agent_person = logged_in(staff_app, budget_tenant, "agent")
    path = f"/gestion/budgets/{made.id}/bulletins-papier"
    assert agent.get(path).status_code == 200
    over = post(
        agent,
        path,
        {
            "polling_point": "Mairie annexe",
            "voter_name": "Camille Martin",
            "birth_date": "1990-02-01",
            "project": [made.projects["Bancs"], made.projects["Arbres"]],
        },
    )
    assert over.status_code == 200 and "dépasse l'enveloppe" in text(over)
    unknown = post(
        agent,
        path,
        {
            "polling_point": "Mairie annexe",
            "voter_name": "Inconnu Total",
            "birth_date": "1990-02-01",
            "project": [made.projects["Bancs"]],
        },
    )
    assert "pas sur la liste des habitants" in text(unknown)
    ok = post(
        agent,
        path,
        {
            "polling_point": "Mairie annexe",
            "voter_name": "Camille Martin",
            "birth_date": "1990-02-01",
            "project": [made.projects["Bancs"]],
        },
    )
    assert ok.status_code == 303
    twice = post(
        agent,
        path,
        {
            "polling_point": "Mairie centrale",
            "voter_name": "Martin Camille",
            "birth_date": "1990-02-01",
            "project": [made.projects["Arbres"]],
        },
    )
    assert "déjà voté" in text(twice)
    assert count_rows(staff_app, budget_tenant, "budget_ballots", made.id) == 1

    entries = [
        r
        for r in audit_rows(staff_app, budget_tenant, "budgets.paper_ballot_recorded")
        if r["target_id"] == str(made.id)
    ]
    assert len(entries) == 1
    assert entries[0]["actor_id"] == agent_person.id
    assert entries[0]["details"]["polling_point"] == "Mairie annexe"
    # The audit entry names the voter's register row, never the choices.
    assert set(entries[0]["details"]) == {"polling_point", "register_id"}

    # The same person cannot vote online afterwards: the register holds their census entry.
    client, _person = citizen_client(staff_app, budget_tenant)
    assert declare(client, made.id, full_name="Camille Martin").status_code == 303
    again = post(
        client, f"/budgets-participatifs/{made.id}/vote", {"project": [made.projects["Bancs"]]}
    )
    assert again.status_code == 409
    assert count_rows(staff_app, budget_tenant, "budget_ballots", made.id) == 1

    register = admin.get(f"/gestion/budgets/{made.id}/registre")
    assert "Camille Martin" in text(register) and "Mairie annexe" in text(register)
    results = admin.get(f"/budgets-participatifs/{made.id}/resultats")  # staff preview
    assert results.status_code == 200
    assert "1 sur papier" in flat(text(results)) or "0 en ligne, 1 sur papier" in flat(
        text(results)
    )


# --------------------------------------------------------------------------- results and follow-up


def test_results_page_states_the_tie_rule_and_turnout(staff_app, budget_tenant, today):
    made = make_budget(
        staff_app,
        budget_tenant,
        phase="results",
        envelope=50_000,
        eligible_population=200,
        projects=[("Bancs", 20_000)],
    )
    from participation.budgets.models import Ballot, BallotChoice, Voter

    def vote():
        import uuid as _uuid
        from datetime import UTC, datetime

        for n in range(3):
            db.session.add(
                Voter(
                    budget_id=made.id, voter_label=f"V{n}", channel="paper", polling_point="Mairie"
                )
            )
            ballot_id = _uuid.uuid4()
            db.session.add(
                Ballot(
                    id=ballot_id,
                    budget_id=made.id,
                    channel="paper",
                    polling_point="Mairie",
                    cast_hour=datetime(2027, 3, 1, 10, tzinfo=UTC),
                )
            )
            db.session.flush()
            db.session.add(BallotChoice(ballot_id=ballot_id, project_id=made.projects["Bancs"]))

    in_tenant(staff_app, budget_tenant, vote)
    page = client_on(staff_app, budget_tenant).get(f"/budgets-participatifs/{made.id}/resultats")
    assert page.status_code == 200
    body = flat(text(page))
    assert "le moins cher passe devant" in body
    assert "1,5 %" in body  # 3 voters of 200
    assert "Retenu" in body
    assert "<caption>" in body and 'scope="col"' in body


def test_follow_up_notifies_followers_of_retained_projects(staff_app, budget_tenant, today):
    made = make_budget(
        staff_app,
        budget_tenant,
        phase="implementation",
        envelope=30_000,
        projects=[("Fontaine", 20_000), ("Kiosque", 25_000)],
    )
    from participation.budgets.models import Ballot, BallotChoice, BudgetProject, ProjectFollow
    from participation.engagement.models import Notification

    follower = create_person(staff_app, budget_tenant, None)

    def prepare():
        import uuid as _uuid
        from datetime import UTC, datetime

        ballot_id = _uuid.uuid4()
        db.session.add(
            Ballot(
                id=ballot_id,
                budget_id=made.id,
                channel="online",
                cast_hour=datetime(2027, 3, 1, 10, tzinfo=UTC),
            )
        )
        db.session.flush()
        db.session.add(BallotChoice(ballot_id=ballot_id, project_id=made.projects["Fontaine"]))
        db.session.add(ProjectFollow(project_id=made.projects["Fontaine"], user_id=follower.id))

    in_tenant(staff_app, budget_tenant, prepare)
    agent, _ = logged_in(staff_app, budget_tenant, "agent")
    fontaine = f"/gestion/budgets/projets/{made.projects['Fontaine']}/suivi"
    assert agent.get(fontaine).status_code == 200
    assert (
        post(agent, fontaine, {"action": "progress", "progress-progress": "40"}).status_code == 303
    )
    assert (
        post(
            agent,
            fontaine,
            {"action": "milestone", "milestone-title": "Travaux", "milestone-due_on": "2027-06-01"},
        ).status_code
        == 303
    )
    posted = post(
        agent,
        fontaine,
        {
            "action": "update",
            "update-body": "Les travaux de la fontaine commencent lundi.",
            "update-photo_alt": "",
        },
    )
    assert posted.status_code == 303

    def check():
        project = db.session.get(BudgetProject, made.projects["Fontaine"])
        assert project.progress == 40
        assert [m.title for m in project.milestones] == ["Travaux"]
        note = db.session.scalar(sa.select(Notification).where(Notification.user_id == follower.id))
        assert note is not None and "Fontaine" in note.title

    in_tenant(staff_app, budget_tenant, check)
    public = text(
        client_on(staff_app, budget_tenant).get(
            f"/budgets-participatifs/projets/{made.projects['Fontaine']}"
        )
    )
    assert "Les travaux de la fontaine commencent lundi." in public and "40 %" in public
    # Kiosque got no vote: no follow-up.
    refused = post(
        agent,
        f"/gestion/budgets/projets/{made.projects['Kiosque']}/suivi",
        {"action": "progress", "progress-progress": "10"},
    )
    assert "Seuls les projets retenus" in text(refused)
    assert (
        in_tenant(
            staff_app,
            budget_tenant,
            lambda: db.session.get(BudgetProject, made.projects["Kiosque"]).progress,
        )
        == 0
    )
    actions = {
        r["action"]
        for r in audit_rows(staff_app, budget_tenant)
        if r["target_id"] == str(made.projects["Fontaine"])
    }
    assert {
        "budgets.progress_updated",
        "budgets.milestone_added",
        "budgets.update_posted",
    } <= actions


def test_staff_creates_and_publishes_a_budget(staff_app, own_tenant, today):
    # A tenant of its own: the audit rows are picked by target id, which the module's other
    # budget projects may share.
    budget_tenant = own_tenant
    admin, _ = logged_in(staff_app, budget_tenant, "admin")
    assert admin.get("/gestion/budgets/nouveau").status_code == 200
    bad = post(
        admin,
        "/gestion/budgets/nouveau",
        {
            "title": "Budget 2028",
            "rule": "knapsack",
            "envelope": "200000",
            "submission_starts_on": "2027-04-01",
            "submission_ends_on": "2027-05-01",
            "vote_starts_on": "2027-04-20",
            "vote_ends_on": "2027-06-01",
            "implementation_starts_on": "2027-07-01",
        },
    )
    assert bad.status_code == 200 and "Le vote doit commencer après" in text(bad)
    done = post(
        admin,
        "/gestion/budgets/nouveau",
        {
            "title": "Budget 2028",
            "rule": "approval",
            "min_choices": "1",
            "max_choices": "3",
            "envelope": "200000",
            "minimum_age": "16",
            "submission_starts_on": "2027-04-01",
            "submission_ends_on": "2027-05-01",
            "vote_starts_on": "2027-05-10",
            "vote_ends_on": "2027-06-01",
            "implementation_starts_on": "2027-07-01",
        },
    )
    assert done.status_code == 303
    budget_path = done.headers["Location"]
    budget_id = int(budget_path.rstrip("/").rsplit("/", 1)[1])
    public = client_on(staff_app, budget_tenant)
    assert public.get(f"/budgets-participatifs/{budget_id}").status_code == 404
    assert post(admin, f"/gestion/budgets/{budget_id}/publier").status_code == 303
    assert public.get(f"/budgets-participatifs/{budget_id}").status_code == 200
    assert admin.get(f"/gestion/budgets/{budget_id}/modifier").status_code == 200
    actions = [
        r["action"]
        for r in audit_rows(staff_app, budget_tenant)
        if r["target_id"] == str(budget_id)
    ]
    assert actions[:2] == ["budgets.created", "budgets.published"]


def test_the_migration_matches_the_models(staff_app, budget_tenant):
    """t0006 ran on every test tenant: it creates what the models declare, names included."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from participation.budgets import models

    tables = [
        model.__table__
        for model in vars(models).values()
        if isinstance(model, type) and hasattr(model, "__table__")
    ]
    names = {table.name for table in tables}
    assert "budgets" in names and "budget_ballots" in names
    metadata = sa.MetaData()
    for table in tables:
        table.to_metadata(
            metadata,
            schema=budget_tenant.schema,
            referred_schema_fn=lambda table, to_schema, constraint, referred: to_schema,
        )
    for other in ("users", "processes", "neighbourhoods"):
        sa.Table(
            other,
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            schema=budget_tenant.schema,
        )

    def include_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in names

    with staff_app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, parent: (
                    type_ != "schema" or name == budget_tenant.schema
                ),
                "include_object": include_object,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_vote_per_quartier_over_http(staff_app, budget_tenant, today):
    made = make_budget(
        staff_app,
        budget_tenant,
        envelopes={"Haut-Poirier": 50_000, "Bas-Chêne": 30_000},
        vote_per_neighbourhood=True,
        projects=[
            ("Verger du Haut", 40_000, "Haut-Poirier"),
            ("Fresque du Bas", 20_000, "Bas-Chêne"),
        ],
    )
    client, _person = citizen_client(staff_app, budget_tenant)
    missing = declare(client, made.id)
    assert "Choisissez votre quartier" in text(missing)
    chosen = declare(client, made.id, neighbourhood_id=str(made.neighbourhoods["Haut-Poirier"]))
    assert chosen.status_code == 303
    page = text(client.get(f"/budgets-participatifs/{made.id}/vote"))
    assert "Verger du Haut" in page and "Fresque du Bas" not in page
    other = post(
        client,
        f"/budgets-participatifs/{made.id}/vote",
        {"project": [made.projects["Fresque du Bas"]]},
    )
    assert other.status_code == 422 and "ne fait pas partie" in text(other)
    done = post(
        client,
        f"/budgets-participatifs/{made.id}/vote",
        {"project": [made.projects["Verger du Haut"]]},
    )
    assert done.status_code == 303
    with staff_app.app_context(), db.engine.connect() as conn:
        area = conn.scalar(
            sa.text(
                f'SELECT neighbourhood_id FROM "{budget_tenant.schema}".budget_ballots '
                "WHERE budget_id = :b"
            ),
            {"b": made.id},
        )
    assert area == made.neighbourhoods["Haut-Poirier"]


def test_staff_splits_the_envelope_per_quartier(staff_app, budget_tenant, today):
    from tests.support.budgets import neighbourhood_ids

    places = neighbourhood_ids(staff_app, budget_tenant, ["Fonderie", "Vauban"])
    admin, _ = logged_in(staff_app, budget_tenant, "admin")
    fields = {
        "title": "Budget des quartiers 2028",
        "rule": "knapsack",
        "split_by_neighbourhood": "y",
        "vote_per_neighbourhood": "y",
        "submission_starts_on": "2027-04-01",
        "submission_ends_on": "2027-05-01",
        "vote_starts_on": "2027-05-10",
        "vote_ends_on": "2027-06-01",
        "implementation_starts_on": "2027-07-01",
    }
    empty = post(admin, "/gestion/budgets/nouveau", fields)
    assert "Répartissez l'enveloppe" in text(empty)
    done = post(
        admin,
        "/gestion/budgets/nouveau",
        {
            **fields,
            f"envelope_{places['Fonderie']}": "60 000",
            f"envelope_{places['Vauban']}": "40000",
        },
    )
    assert done.status_code == 303
    budget_id = int(done.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    from participation.budgets.models import Budget

    def check():
        budget = db.session.get(Budget, budget_id)
        assert budget.split_by_neighbourhood and budget.vote_per_neighbourhood
        assert budget.envelope == 100_000
        assert {e.neighbourhood_id: e.amount for e in budget.envelopes} == {
            places["Fonderie"]: 60_000,
            places["Vauban"]: 40_000,
        }

    in_tenant(staff_app, budget_tenant, check)
