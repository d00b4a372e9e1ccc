"""Consultations: one response per account (database-enforced), anonymous storage with no
link to the account, editing while open and refusal when closed, conditional questions,
maximum choices, required questions, results computed by hand, CSV without personal data,
the staff builder (audited), results and outcome publication, and the SVG charts."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    csrf_for,
    ensure_legal_documents,
    signed_in,
    text,
)
from tests.support.participation import TODAY, citizen, make_process, read, staff
from tests.support.staff import audit_rows

# --------------------------------------------------------------------------- fixtures


@dataclass
class Spec:
    kind: str
    text: str
    options: tuple[str, ...] = ()
    required: bool = False
    max_choices: int | None = None
    condition: tuple[int, str] | None = None  # (index of an earlier question, option label)


@dataclass
class Made:
    id: int
    questions: list[int] = field(default_factory=list)
    options: dict[tuple[int, str], int] = field(default_factory=dict)  # (q index, label) -> id

    def q(self, index: int) -> int:
        return self.questions[index]

    def o(self, index: int, label: str) -> int:
        return self.options[(index, label)]


def make_survey(
    app,
    tenant,
    specs: list[Spec],
    *,
    anonymous: bool = False,
    opens: int = -5,
    closes: int = 10,
    state: str = "published",
    results_published: bool = False,
    process_id: int | None = None,
    title: str = "Consultation de test",
) -> Made:
    from participation.surveys.models import Survey, SurveyOption, SurveyQuestion, SurveyState

    def build():
        survey = Survey(
            title=title,
            summary="Résumé",
            is_anonymous=anonymous,
            opens_on=TODAY + timedelta(days=opens),
            closes_on=TODAY + timedelta(days=closes),
            state=SurveyState(state),
            process_id=process_id,
        )
        if results_published:
            survey.results_published_at = sa.func.now()
        db.session.add(survey)
        questions = []
        for position, spec in enumerate(specs, start=1):
            question = SurveyQuestion(
                kind=spec.kind,
                text=spec.text,
                is_required=spec.required,
                max_choices=spec.max_choices,
                position=position,
            )
            question.options = [
                SurveyOption(label=label, position=n) for n, label in enumerate(spec.options, 1)
            ]
            survey.questions.append(question)
            questions.append(question)
        db.session.flush()
        made = Made(survey.id, [q.id for q in questions])
        for index, question in enumerate(questions):
            for option in question.options:
                made.options[(index, option.label)] = option.id
        for spec, question in zip(specs, questions, strict=True):
            if spec.condition:
                index, label = spec.condition
                question.condition_option_id = made.options[(index, label)]
        db.session.commit()
        return made

    return read(app, tenant, build)


def answer(client, made: Made, data: dict):
    return client.post(
        f"/consultations/{made.id}/repondre", data={"csrf_token": csrf_for(client), **data}
    )


def table(app, tenant, sql: str, **params) -> list[tuple]:
    with app.app_context(), db.engine.connect() as conn:
        conn.exec_driver_sql(f'SET search_path TO "{tenant.schema}"')
        return [tuple(row) for row in conn.execute(sa.text(sql), params)]


CHOICES = Spec("single", "Votre mode de transport ?", ("Vélo", "Voiture", "Bus"), required=True)


# --------------------------------------------------------------------------- one response


def test_identified_response_is_stored_with_the_account_and_unique(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES])
    person = citizen(app, tenant)
    client = signed_in(app, tenant, person)
    response = answer(client, made, {f"q{made.q(0)}": made.o(0, "Vélo")})
    assert response.status_code == 303
    rows = table(
        app, tenant, "SELECT user_id FROM survey_responses WHERE survey_id = :s", s=made.id
    )
    assert rows == [(person.id,)]
    # The database refuses a second response row for the same account, whatever the code.
    with pytest.raises(sa.exc.IntegrityError):
        table(
            app,
            tenant,
            "INSERT INTO survey_responses (survey_id, user_id) VALUES (:s, :u)",
            s=made.id,
            u=person.id,
        )
    with pytest.raises(sa.exc.IntegrityError):
        table(
            app,
            tenant,
            "INSERT INTO survey_participations (survey_id, user_id) VALUES (:s, :u)",
            s=made.id,
            u=person.id,
        )


def test_identified_response_can_be_edited_while_open(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES])
    client = signed_in(app, tenant, citizen(app, tenant))
    answer(client, made, {f"q{made.q(0)}": made.o(0, "Vélo")})
    page = client.get(f"/consultations/{made.id}/repondre")
    assert page.status_code == 200
    assert re.search(rf'value="{made.o(0, "Vélo")}" checked', page.get_data(as_text=True))
    response = answer(client, made, {f"q{made.q(0)}": made.o(0, "Bus")})
    assert response.status_code == 303
    answers = table(
        app,
        tenant,
        "SELECT a.option_id FROM survey_answers a JOIN survey_responses r "
        "ON r.id = a.response_id WHERE r.survey_id = :s",
        s=made.id,
    )
    assert answers == [(made.o(0, "Bus"),)]
    counts = table(
        app,
        tenant,
        "SELECT count(*), count(edited_at) FROM survey_responses WHERE survey_id = :s",
        s=made.id,
    )
    assert counts == [(1, 1)]


def test_a_closed_survey_refuses_answers_and_edits(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES], opens=-10, closes=-1)
    client = signed_in(app, tenant, citizen(app, tenant))
    assert client.get(f"/consultations/{made.id}/repondre").status_code == 403
    response = answer(client, made, {f"q{made.q(0)}": made.o(0, "Vélo")})
    assert response.status_code == 403
    assert "close" in text(response)
    assert table(app, tenant, "SELECT 1 FROM survey_responses WHERE survey_id=:s", s=made.id) == []
    upcoming = make_survey(app, tenant, [CHOICES], opens=2, closes=9)
    response = answer(client, upcoming, {f"q{upcoming.q(0)}": upcoming.o(0, "Vélo")})
    assert response.status_code == 403 and "pas encore ouverte" in text(response)


def test_an_identified_edit_after_closing_is_refused(surveys_app, tenant, monkeypatch):
    app = surveys_app
    monkeypatch.setattr("core.clock.paris_today", lambda: TODAY)
    made = make_survey(app, tenant, [CHOICES], opens=-5, closes=0)
    client = signed_in(app, tenant, citizen(app, tenant))
    assert answer(client, made, {f"q{made.q(0)}": made.o(0, "Vélo")}).status_code == 303
    monkeypatch.setattr("core.clock.paris_today", lambda: TODAY + timedelta(days=1))
    response = answer(client, made, {f"q{made.q(0)}": made.o(0, "Bus")})
    assert response.status_code == 403
    option = table(
        app,
        tenant,
        "SELECT a.option_id FROM survey_answers a JOIN survey_responses r "
        "ON r.id = a.response_id WHERE r.survey_id = :s",
        s=made.id,
    )
    assert option == [(made.o(0, "Vélo"),)]


# --------------------------------------------------------------------------- anonymity


def test_anonymous_response_has_no_link_to_the_account(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(
        app,
        tenant,
        [CHOICES, Spec("long_text", "Une remarque ?")],
        anonymous=True,
    )
    person = citizen(app, tenant)
    client = signed_in(app, tenant, person)
    response = answer(
        client, made, {f"q{made.q(0)}": made.o(0, "Vélo"), f"q{made.q(1)}": "Plus de pistes"}
    )
    assert response.status_code == 303
    responses = table(
        app,
        tenant,
        "SELECT user_id, submitted_at, date_trunc('hour', submitted_at) FROM survey_responses "
        "WHERE survey_id = :s",
        s=made.id,
    )
    assert len(responses) == 1
    user_id, submitted, truncated = responses[0]
    assert user_id is None
    assert submitted == truncated  # only the hour is kept
    # The participation row says who answered, and nothing else.
    assert table(
        app, tenant, "SELECT * FROM survey_participations WHERE survey_id = :s", s=made.id
    ) == [(made.id, person.id)]
    columns = table(
        app,
        tenant,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = 'survey_participations'",
        schema=tenant.schema,
    )
    assert sorted(c for (c,) in columns) == ["survey_id", "user_id"]
    # No answer row names the account either.
    rows = table(
        app,
        tenant,
        "SELECT a.* FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id "
        "WHERE r.survey_id = :s",
        s=made.id,
    )
    assert rows
    # (Structural, not by value: an option id may equal the account's id.)
    answer_columns = table(
        app,
        tenant,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = 'survey_answers'",
        schema=tenant.schema,
    )
    assert not {c for (c,) in answer_columns} & {"user_id", "author_id", "participant_id"}
    assert all(len(row) == len(answer_columns) for row in rows)
    # The database itself refuses to name the author of an anonymous response.
    with pytest.raises(sa.exc.IntegrityError):
        table(
            app,
            tenant,
            "INSERT INTO survey_responses (survey_id, user_id) VALUES (:s, :u)",
            s=made.id,
            u=person.id,
        )


def test_anonymous_response_cannot_be_edited_and_says_so(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES], anonymous=True)
    client = signed_in(app, tenant, citizen(app, tenant))
    assert answer(client, made, {f"q{made.q(0)}": made.o(0, "Vélo")}).status_code == 303
    page = client.get(f"/consultations/{made.id}")
    assert "impossible de retrouver la vôtre pour la modifier" in text(page)
    assert f"/consultations/{made.id}/repondre" not in text(page)
    again = client.get(f"/consultations/{made.id}/repondre")
    assert again.status_code == 403 and "anonymes" in text(again)
    second = answer(client, made, {f"q{made.q(0)}": made.o(0, "Bus")})
    assert second.status_code == 403
    assert table(
        app, tenant, "SELECT count(*) FROM survey_responses WHERE survey_id = :s", s=made.id
    ) == [(1,)]


def test_the_service_refuses_a_second_anonymous_response(surveys_app, tenant, today):
    """Two tabs: both loaded the form before either answered; the second is refused."""
    from participation.accounts.models import User
    from participation.surveys import services

    app = surveys_app
    made = make_survey(app, tenant, [CHOICES], anonymous=True)
    person = citizen(app, tenant)

    def submit():
        survey = services.get_survey(made.id)
        sheet = services.parse_sheet(survey, {f"q{made.q(0)}": [str(made.o(0, "Vélo"))]})
        services.submit_response(survey, db.session.get(User, person.id), sheet, TODAY)
        db.session.commit()

    read(app, tenant, submit)
    with pytest.raises(services.SurveyError, match="anonymes"):
        read(app, tenant, submit)


# --------------------------------------------------------------------------- rules


def test_required_question_must_be_answered(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES, Spec("short_text", "Votre quartier ?")])
    client = signed_in(app, tenant, citizen(app, tenant))
    response = answer(client, made, {f"q{made.q(1)}": "Dornach"})
    assert response.status_code == 200
    assert "Cette question est obligatoire." in text(response)
    assert 'value="Dornach"' in text(response)  # what was typed is kept
    assert table(app, tenant, "SELECT 1 FROM survey_responses WHERE survey_id=:s", s=made.id) == []


def test_maximum_number_of_choices(surveys_app, tenant, today):
    app = surveys_app
    multiple = Spec("multiple", "Vos freins ?", ("Vol", "Pluie", "Pentes", "Distance"), True, 2)
    made = make_survey(app, tenant, [multiple])
    client = signed_in(app, tenant, citizen(app, tenant))
    name = f"q{made.q(0)}"
    three = [made.o(0, "Vol"), made.o(0, "Pluie"), made.o(0, "Pentes")]
    response = answer(client, made, {name: three})
    assert response.status_code == 200 and "Choisissez 2 réponses au plus." in text(response)
    assert table(app, tenant, "SELECT 1 FROM survey_responses WHERE survey_id=:s", s=made.id) == []
    assert answer(client, made, {name: three[:2]}).status_code == 303
    chosen = table(
        app,
        tenant,
        "SELECT option_id FROM survey_answers WHERE question_id = :q ORDER BY option_id",
        q=made.q(0),
    )
    assert chosen == sorted((o,) for o in three[:2])


def test_conditional_question_is_ignored_when_its_condition_is_false(surveys_app, tenant, today):
    app = surveys_app
    specs = [
        Spec("single", "Utilisez-vous le vélo ?", ("Oui", "Non"), required=True),
        Spec("short_text", "Pourquoi pas ?", required=True, condition=(0, "Non")),
    ]
    made = make_survey(app, tenant, specs)
    page = signed_in(app, tenant, citizen(app, tenant)).get(f"/consultations/{made.id}/repondre")
    # Without JavaScript, the hint says when to answer.
    assert "Si vous avez répondu « Non » à la question 1." in text(page)
    assert f'data-condition-option="{made.o(0, "Non")}"' in text(page)

    yes = signed_in(app, tenant, citizen(app, tenant))
    response = answer(yes, made, {f"q{made.q(0)}": made.o(0, "Oui"), f"q{made.q(1)}": "Ignoré"})
    assert response.status_code == 303  # not required either, since not asked
    stored = table(app, tenant, "SELECT 1 FROM survey_answers WHERE question_id=:q", q=made.q(1))
    assert stored == []

    no = signed_in(app, tenant, citizen(app, tenant))
    missing = answer(no, made, {f"q{made.q(0)}": made.o(0, "Non")})
    assert missing.status_code == 200 and "Cette question est obligatoire." in text(missing)
    done = answer(no, made, {f"q{made.q(0)}": made.o(0, "Non"), f"q{made.q(1)}": "Trop de pentes"})
    assert done.status_code == 303
    assert table(
        app, tenant, "SELECT text_value FROM survey_answers WHERE question_id=:q", q=made.q(1)
    ) == [("Trop de pentes",)]


def test_other_kinds_are_validated(surveys_app, tenant, today):
    app = surveys_app
    specs = [
        Spec("scale", "Sécurité ?", required=True),
        Spec("number", "Kilomètres ?"),
        Spec("date", "Disponible le ?"),
        Spec("ranking", "Priorités", ("A", "B", "C"), required=True),
    ]
    made = make_survey(app, tenant, specs)
    client = signed_in(app, tenant, citizen(app, tenant))
    rank = {f"q{made.q(3)}_o{made.o(3, label)}": str(n) for n, label in enumerate("ABC", 1)}
    bad = answer(
        client,
        made,
        {
            f"q{made.q(0)}": "7",
            f"q{made.q(1)}": "douze",
            f"q{made.q(2)}": "32/13/2027",
            f"q{made.q(3)}_o{made.o(3, 'A')}": "1",
            f"q{made.q(3)}_o{made.o(3, 'B')}": "1",
            f"q{made.q(3)}_o{made.o(3, 'C')}": "2",
        },
    )
    body = text(bad)
    assert bad.status_code == 200
    for message in (
        "Choisissez une valeur de 1 à 5.",
        "Indiquez un nombre",
        "Indiquez une date",
        "Chaque rang ne peut être donné qu'une fois.",
    ):
        assert message in body
    good = answer(
        client,
        made,
        {f"q{made.q(0)}": "4", f"q{made.q(1)}": "12,5", f"q{made.q(2)}": "14/07/2027", **rank},
    )
    assert good.status_code == 303
    values = table(
        app,
        tenant,
        "SELECT question_id, option_id, rank, number_value, date_value FROM survey_answers a "
        "JOIN survey_responses r ON r.id = a.response_id WHERE r.survey_id = :s "
        "ORDER BY question_id, rank",
        s=made.id,
    )
    assert [(v[3], v[4]) for v in values[:3]] == [
        (4, None),
        (pytest.approx(12.5), None),
        (None, TODAY.replace(month=7, day=14)),
    ]
    assert [(v[1], v[2]) for v in values[3:]] == [
        (made.o(3, "A"), 1),
        (made.o(3, "B"), 2),
        (made.o(3, "C"), 3),
    ]


# --------------------------------------------------------------------------- results


def submit_as_new_citizen(app, tenant, made: Made, data: dict) -> None:
    client = signed_in(app, tenant, citizen(app, tenant))
    response = answer(client, made, data)
    assert response.status_code == 303, text(response)


def test_results_are_computed_exactly(surveys_app, tenant, today):
    app = surveys_app
    specs = [
        Spec("single", "Mode ?", ("Vélo", "Voiture", "Bus"), required=True),
        Spec("multiple", "Freins ?", ("Vol", "Pluie", "Pentes")),
        Spec("scale", "Sécurité ?"),
        Spec("ranking", "Priorités", ("Pistes", "Parkings", "Zones 30")),
        Spec("number", "Km ?"),
        Spec("long_text", "Remarque ?"),
    ]
    made = make_survey(app, tenant, specs, results_published=True)
    q, o = made.q, made.o

    def rank(*labels):
        return {f"q{q(3)}_o{o(3, label)}": str(n) for n, label in enumerate(labels, 1)}

    answers = [
        # mode, freins, sécurité, classement, km, texte
        ("Vélo", ["Vol", "Pluie"], "5", ("Pistes", "Parkings", "Zones 30"), "10", "Bravo"),
        ("Vélo", ["Vol"], "4", ("Pistes", "Zones 30", "Parkings"), "4", ""),
        ("Voiture", ["Pentes"], "2", ("Parkings", "Pistes", "Zones 30"), "", "<b>Non</b>"),
        ("Bus", [], "", ("Zones 30", "Parkings", "Pistes"), "1", ""),
    ]
    for mode, brakes, safety, ranking, km, remark in answers:
        data = {f"q{q(0)}": o(0, mode), f"q{q(1)}": [o(1, b) for b in brakes]}
        data.update({f"q{q(2)}": safety, f"q{q(4)}": km, f"q{q(5)}": remark, **rank(*ranking)})
        submit_as_new_citizen(app, tenant, made, data)

    from participation.surveys import services

    def compute():
        results = services.compute_results(services.get_survey(made.id), with_texts=True)
        for question in results.questions:  # load what the assertions read, then detach
            for choice in question.choices:
                _ = choice.option.label
        db.session.expunge_all()
        return results

    results = read(app, tenant, compute)
    assert results.total == 4
    mode, brakes, safety, ranking, km, remark = results.questions
    assert [(c.option.label, c.count, c.percent) for c in mode.choices] == [
        ("Vélo", 2, 50.0),
        ("Voiture", 1, 25.0),
        ("Bus", 1, 25.0),
    ]
    # Three people answered the multiple choice: percentages of those three.
    assert brakes.respondents == 3
    assert [(c.count, c.percent) for c in brakes.choices] == [(2, 66.7), (1, 33.3), (1, 33.3)]
    assert safety.respondents == 3 and safety.average == pytest.approx(11 / 3)
    assert safety.distribution == [
        (1, 0, 0.0),
        (2, 1, 33.3),
        (3, 0, 0.0),
        (4, 1, 33.3),
        (5, 1, 33.3),
    ]
    # Borda with 3 choices: rank 1 = 2 points, rank 2 = 1, rank 3 = 0.
    # Pistes: 2+2+1+0 = 5; Parkings: 1+0+2+1 = 4; Zones 30: 0+1+0+2 = 3.
    assert [(c.option.label, c.score) for c in ranking.choices] == [
        ("Pistes", 5),
        ("Parkings", 4),
        ("Zones 30", 3),
    ]
    assert ranking.choices[0].average_rank == pytest.approx((1 + 1 + 2 + 3) / 4)
    assert km.respondents == 3 and km.average == pytest.approx(5.0) and km.median == 4.0
    assert (km.minimum, km.maximum) == (1.0, 10.0)
    assert remark.text_count == 2 and set(remark.texts) == {"Bravo", "<b>Non</b>"}

    public = signed_in(app, tenant, citizen(app, tenant)).get(f"/consultations/{made.id}/resultats")
    body = public.get_data(as_text=True)
    assert public.status_code == 200
    assert body.count('role="img"') == 4  # single, multiple, scale, ranking
    assert "<title id=" in body and "<caption>" in body and "Borda" in body
    assert "Bravo" not in body  # free texts are for the staff only
    client, _admin = staff(app, tenant, "admin")
    staff_page = client.get(f"/gestion/consultations/{made.id}/resultats")
    assert staff_page.status_code == 200
    assert "Bravo" in text(staff_page)
    assert "<b>Non</b>" not in staff_page.get_data(as_text=True)  # escaped
    assert "&lt;b&gt;Non&lt;/b&gt;" in staff_page.get_data(as_text=True)


def test_results_are_public_only_once_published(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES])
    visitor = signed_in(app, tenant, citizen(app, tenant))
    assert visitor.get(f"/consultations/{made.id}/resultats").status_code == 404
    client, admin = staff(app, tenant, "admin")
    assert client.get(f"/consultations/{made.id}/resultats").status_code == 200
    response = client.post(
        f"/gestion/consultations/{made.id}/resultats/publication",
        data={"csrf_token": csrf_for(client), "publish": "1"},
    )
    assert response.status_code == 303
    assert visitor.get(f"/consultations/{made.id}/resultats").status_code == 200
    assert [r["actor_id"] for r in audit_rows(app, tenant, "surveys.results_published")][-1] == (
        admin.id
    )


def test_outcome_page_is_published_by_staff_and_linked_from_results(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES], results_published=True)
    visitor = signed_in(app, tenant, citizen(app, tenant))
    outcome_path = f"/consultations/{made.id}/vous-avez-dit-nous-avons-fait"
    assert visitor.get(outcome_path).status_code == 404
    client, _admin = staff(app, tenant, "moderator")
    page = f"/gestion/consultations/{made.id}/bilan"
    empty = client.post(page, data={"csrf_token": csrf_for(client), "outcome": "", "publish": "y"})
    assert empty.status_code == 200 and "avant de publier" in text(empty)
    saved = client.post(
        page,
        data={
            "csrf_token": csrf_for(client),
            "outcome": "## Décision\n\nNous créons **trois pistes**.<script>alert(1)</script>",
            "publish": "y",
        },
    )
    assert saved.status_code == 303
    shown = visitor.get(outcome_path)
    assert shown.status_code == 200
    body = shown.get_data(as_text=True)
    assert "<strong>trois pistes</strong>" in body and "<script>alert" not in body
    assert outcome_path in visitor.get(f"/consultations/{made.id}/resultats").get_data(as_text=True)
    assert audit_rows(app, tenant, "surveys.outcome_saved")


# --------------------------------------------------------------------------- export


def test_csv_export_of_an_anonymous_survey_has_no_account_data(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES, Spec("short_text", "Remarque ?")], anonymous=True)
    people = [citizen(app, tenant, display_name=f"Habitant Unique{n}") for n in range(2)]
    for person, remark in zip(people, ("=HYPERLINK(1)", "Rien"), strict=True):
        client = signed_in(app, tenant, person)
        data = {f"q{made.q(0)}": made.o(0, "Vélo"), f"q{made.q(1)}": remark}
        assert answer(client, made, data).status_code == 303
    client, admin = staff(app, tenant, "admin")
    response = client.get(f"/gestion/consultations/{made.id}/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    # The first column is a running number (it may equal an account's id by chance), the
    # next two the date and the channel: none of them names an account.
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    for person in people:
        assert person.display_name not in body and person.email not in body
        assert str(person.id) not in {cell for row in rows[1:] for cell in row[1:3]}
    assert "Participant·e" not in rows[0]
    assert len(rows) == 3 and {r[3] for r in rows[1:]} == {"Vélo"}
    assert "'=HYPERLINK(1)" in body  # CSV injection neutralised
    assert audit_rows(app, tenant, "surveys.exported")[-1]["actor_id"] == admin.id


def test_csv_export_of_an_identified_survey_has_names_but_no_email(surveys_app, tenant, today):
    app = surveys_app
    made = make_survey(app, tenant, [CHOICES])
    person = citizen(app, tenant, display_name="Jeanne Nominative")
    answer(signed_in(app, tenant, person), made, {f"q{made.q(0)}": made.o(0, "Bus")})
    client, _admin = staff(app, tenant, "moderator")
    body = client.get(f"/gestion/consultations/{made.id}/export.csv").get_data(as_text=True)
    assert "Jeanne Nominative" in body and person.email not in body and "@" not in body


# --------------------------------------------------------------------------- builder


def test_staff_build_a_survey_with_a_conditional_question(surveys_app, tenant, today):
    app = surveys_app
    client, admin = staff(app, tenant, "moderator")
    created = client.post(
        "/gestion/consultations/nouvelle",
        data={
            "csrf_token": csrf_for(client),
            "title": "Éclairage nocturne",
            "summary": "Votre avis",
            "description": "",
            "opens_on": TODAY.isoformat(),
            "closes_on": (TODAY + timedelta(days=20)).isoformat(),
            "is_anonymous": "y",
            "phase_id": "",
        },
    )
    assert created.status_code == 303, text(created)
    survey_id = int(created.location.rstrip("/").rsplit("/", 1)[1])
    base = f"/gestion/consultations/{survey_id}"
    first = client.post(
        f"{base}/questions/nouvelle",
        data={
            "csrf_token": csrf_for(client),
            "kind": "single",
            "text": "Faut-il éteindre la nuit ?",
            "options": "Oui\nNon\nOui",
            "is_required": "y",
            "section_id": "",
            "condition_option_id": "",
        },
    )
    assert first.status_code == 303, text(first)

    def options():
        from participation.surveys.models import SurveyOption

        return {o.label: o.id for o in db.session.scalars(sa.select(SurveyOption))}

    labels = read(app, tenant, options)
    section = client.post(
        f"{base}/sections/nouvelle",
        data={"csrf_token": csrf_for(client), "title": "Pour aller plus loin"},
    )
    assert section.status_code == 303
    section_id = table(
        app, tenant, "SELECT id FROM survey_sections WHERE survey_id=:s", s=survey_id
    )[0][0]
    too_many = client.post(
        f"{base}/questions/nouvelle",
        data={
            "csrf_token": csrf_for(client),
            "kind": "multiple",
            "text": "Quelles heures ?",
            "options": "22 h\n23 h",
            "max_choices": "5",
            "section_id": str(section_id),
            "condition_option_id": str(labels["Non"]),
        },
    )
    assert too_many.status_code == 200 and "compris entre 1 et 2" in text(too_many)
    second = client.post(
        f"{base}/questions/nouvelle",
        data={
            "csrf_token": csrf_for(client),
            "kind": "multiple",
            "text": "Quelles heures ?",
            "options": "22 h\n23 h\nMinuit",
            "max_choices": "2",
            "section_id": str(section_id),
            "condition_option_id": str(labels["Non"]),
        },
    )
    assert second.status_code == 303, text(second)
    page = text(client.get(base))
    assert "Question 2. Quelles heures ?" in page
    assert "Si vous avez répondu « Non » à la question 1." in page
    # The conditional question cannot move above the question it depends on.
    second_id = table(
        app,
        tenant,
        "SELECT id FROM survey_questions WHERE survey_id=:s AND kind='multiple'",
        s=survey_id,
    )[0][0]
    first_id = table(
        app,
        tenant,
        "SELECT id FROM survey_questions WHERE survey_id=:s AND kind='single'",
        s=survey_id,
    )[0][0]
    client.post(
        f"{base}/questions/{first_id}",
        data={
            "csrf_token": csrf_for(client),
            "kind": "single",
            "text": "Faut-il éteindre la nuit ?",
            "options": "Oui\nNon",
            "section_id": str(section_id),
            "condition_option_id": "",
        },
    )  # moved into the section after the question depending on it: refused
    assert table(
        app, tenant, "SELECT section_id FROM survey_questions WHERE id=:q", q=first_id
    ) == [(None,)]
    published = client.post(f"{base}/publier", data={"csrf_token": csrf_for(client)})
    assert published.status_code == 303
    actions = [r["action"] for r in audit_rows(app, tenant) if r["actor_id"] == admin.id]
    assert actions.count("surveys.question_saved") == 2
    assert {"surveys.created", "surveys.section_saved", "surveys.published"} <= set(actions)
    # Once someone answered, the questions are frozen.
    visitor = signed_in(app, tenant, citizen(app, tenant))
    made = Made(survey_id, [first_id, second_id])
    assert answer(visitor, made, {f"q{first_id}": labels["Oui"]}).status_code == 303
    frozen = client.post(
        f"{base}/questions/{second_id}/supprimer", data={"csrf_token": csrf_for(client)}
    )
    assert frozen.status_code == 303
    assert table(
        app, tenant, "SELECT count(*) FROM survey_questions WHERE survey_id=:s", s=survey_id
    ) == [(2,)]


def test_survey_listed_on_its_process_page_and_in_the_index(surveys_app, tenant, today):
    app = surveys_app
    process_id = make_process(app, tenant)
    made = make_survey(app, tenant, [CHOICES], process_id=process_id, title="Sondage du parc")
    draft = make_survey(app, tenant, [CHOICES], state="draft", title="Brouillon secret")
    visitor = signed_in(app, tenant, citizen(app, tenant))
    page = text(visitor.get(f"/demarches/{process_id}"))
    assert "Sondage du parc" in page and f"/consultations/{made.id}" in page
    listing = text(visitor.get("/consultations"))
    assert "Sondage du parc" in listing and "Brouillon secret" not in listing
    assert visitor.get(f"/consultations/{draft.id}").status_code == 404


# --------------------------------------------------------------------------- charts


def test_bar_chart_is_accessible_and_escapes_labels(surveys_app):
    from core.charts import bar_chart, data_table

    with surveys_app.test_request_context():
        svg = str(
            bar_chart(
                "Modes <de> transport",
                [("Vélo & co", 42.5), ("<i>Bus</i>", 10)],
                unit="%",
                max_value=100,
            )
        )
        assert svg.startswith("<svg") and 'role="img"' in svg
        title_id, desc_id = re.search(r'aria-labelledby="([^ ]+) ([^"]+)"', svg).groups()
        assert f'<title id="{title_id}">Modes &lt;de&gt; transport</title>' in svg
        assert f'<desc id="{desc_id}">' in svg and "42,5" in svg
        assert "<i>" not in svg and "&lt;i&gt;Bus&lt;/i&gt;" in svg
        assert 'width="216.8"' in svg  # 42.5 % of the 510-pixel track (640 − 130)
        table_html = str(data_table("Modes", ["Mode", "Part"], [("Vélo", 42.5)]))
        assert (
            "<caption>Modes</caption>" in table_html and '<th scope="row">Vélo</th>' in table_html
        )
        assert '<th scope="col">Mode</th>' in table_html
        empty = str(bar_chart("Rien", []))
        assert "Aucune donnée." in empty


# --------------------------------------------------------------------------- demo


def test_demo_seeder_builds_a_closed_anonymous_survey_with_results(surveys_app, make_tenant):
    """The demo's « Mobilités douces » (idempotent): 40 anonymous responses, results and
    outcome published, every participation without a link to a response."""
    from participation.accounts.models import User
    from participation.surveys import demo, services
    from participation.surveys.models import Survey

    app = surveys_app
    ref = make_tenant()
    ensure_legal_documents(app, ref)
    people = [citizen(app, ref) for _ in range(3)]

    def seed():
        users = [db.session.get(User, p.id) for p in people]
        first = demo._seed_mobility("angers", users, None)
        market = demo._seed_market(None)
        db.session.commit()
        again = demo._seed_mobility("angers", users, None)
        survey_id = db.session.scalar(
            sa.select(Survey.id).where(Survey.title == demo.MOBILITY_TITLE)
        )
        results = services.compute_results(services.get_survey(survey_id), with_texts=True)
        return (
            first,
            market,
            again,
            survey_id,
            results.total,
            [r.respondents for r in results.questions],
        )

    first, market, again, survey_id, total, respondents = read(app, ref, seed)
    assert (first, market, again) == ("40 réponses", "ouverte", "déjà là")
    assert total == 40 and respondents[0] == 40 and respondents[4] == 40  # required ones
    assert respondents[6] <= respondents[5]  # the conditional one: only « Jamais »
    rows = table(
        app,
        ref,
        "SELECT count(*), count(user_id) FROM survey_responses WHERE survey_id=:s",
        s=survey_id,
    )
    assert rows == [(40, 0)]
    assert table(
        app, ref, "SELECT count(*) FROM survey_participations WHERE survey_id=:s", s=survey_id
    ) == [(3,)]
    page = signed_in(app, ref, people[0]).get(f"/consultations/{survey_id}/resultats")
    assert page.status_code == 200 and "40 réponses au total" in text(page)


def test_rgpd_export_lists_identified_answers_and_only_the_fact_for_anonymous(
    surveys_app, tenant, today
):
    from participation.accounts import tasks
    from participation.accounts.models import User
    from participation.surveys import services

    app = surveys_app
    assert services.rgpd_section in tasks.all_sections()
    named = make_survey(app, tenant, [CHOICES], title="Nominative")
    secret = make_survey(app, tenant, [CHOICES], anonymous=True, title="Anonyme")
    person = citizen(app, tenant)
    client = signed_in(app, tenant, person)
    answer(client, named, {f"q{named.q(0)}": named.o(0, "Bus")})
    answer(client, secret, {f"q{secret.q(0)}": secret.o(0, "Vélo")})
    filename, data = read(
        app, tenant, lambda: services.rgpd_section(db.session.get(User, person.id))
    )
    assert filename == "consultations.json"
    by_title = {item["consultation"]: item for item in data}
    assert by_title["Nominative"]["réponses"] == [{"question": CHOICES.text, "réponse": "Bus"}]
    assert "Vélo" not in str(by_title["Anonyme"])


def test_cached_results_follow_new_and_edited_responses(surveys_app, tenant, today):
    from participation.surveys import services

    app = surveys_app
    made = make_survey(app, tenant, [CHOICES])

    def counts():
        results = services.compute_results(services.get_survey(made.id))
        return results.total, [(c.option.label, c.count) for c in results.questions[0].choices]

    first = signed_in(app, tenant, citizen(app, tenant))
    answer(first, made, {f"q{made.q(0)}": made.o(0, "Vélo")})
    assert read(app, tenant, counts) == (1, [("Vélo", 1), ("Voiture", 0), ("Bus", 0)])
    assert read(app, tenant, counts) == (1, [("Vélo", 1), ("Voiture", 0), ("Bus", 0)])  # cached
    answer(signed_in(app, tenant, citizen(app, tenant)), made, {f"q{made.q(0)}": made.o(0, "Bus")})
    assert read(app, tenant, counts) == (2, [("Vélo", 1), ("Voiture", 0), ("Bus", 1)])
    answer(first, made, {f"q{made.q(0)}": made.o(0, "Voiture")})  # an edit
    assert read(app, tenant, counts) == (2, [("Vélo", 0), ("Voiture", 1), ("Bus", 1)])
