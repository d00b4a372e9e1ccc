"""The other participation tools in the API: surveys with published results, meetings,
reports of local problems."""

from __future__ import annotations

import json

from tests.api.seed import DRAFT_TITLE, FREE_TEXT, HIDDEN_TEXT


def ids(items) -> set[int]:
    return {item["id"] for item in items}


def test_surveys(api, tools):
    listed = ids(api.get("/api/v1/surveys?limit=100").json["items"])
    assert {tools.survey_id, tools.unpublished_results_id} <= listed
    assert tools.draft_survey_id not in listed
    data = api.get(f"/api/v1/surveys/{tools.survey_id}").json
    assert data["results_published"] is True
    assert data["outcome"] == "Nous avons créé deux pistes."
    assert data["results"]["responses"] == 2
    choice, scale, text = data["results"]["questions"]
    assert [(c["label"], c["count"]) for c in choice["choices"]] == [("Vélo", 1), ("Bus", 1)]
    assert scale["average"] == 4.5
    assert [d["count"] for d in scale["distribution"]] == [0, 0, 0, 1, 1]
    assert text["kind"] == "long_text" and text["choices"] == []
    assert FREE_TEXT not in json.dumps(data)
    pending = api.get(f"/api/v1/surveys/{tools.unpublished_results_id}").json
    assert pending["results"] is None and pending["outcome"] is None
    assert api.get(f"/api/v1/surveys/{tools.draft_survey_id}").status_code == 404


def test_meetings(api, tools):
    items = api.get("/api/v1/meetings?when=upcoming").json["items"]
    assert tools.meeting_id in ids(items)
    assert tools.hidden_meeting_id not in ids(items)
    meeting = api.get(f"/api/v1/meetings/{tools.meeting_id}").json
    assert (meeting["registered"], meeting["waiting"], meeting["capacity"]) == (2, 1, 2)
    assert meeting["minutes"] is None  # not published yet
    assert api.get(f"/api/v1/meetings/{tools.hidden_meeting_id}").status_code == 404
    assert tools.meeting_id not in ids(api.get("/api/v1/meetings?when=past").json["items"])


def test_problems(api, tools):
    p = tools.problem_ids
    items = {i["id"]: i for i in api.get("/api/v1/problems?limit=100").json["items"]}
    assert {p["resolved"], p["anonymous"]} <= set(items)
    assert p["hidden"] not in items and p["blocked"] not in items
    assert items[p["anonymous"]]["reporter"] == {"name": "Participant·e anonyme", "staff": False}
    assert items[p["resolved"]]["status"] == "resolved"
    resolved = ids(api.get("/api/v1/problems?status=resolved").json["items"])
    assert p["resolved"] in resolved and p["anonymous"] not in resolved
    detail = api.get(f"/api/v1/problems/{p['resolved']}").json
    assert [e["kind"] for e in detail["timeline"]] == ["created", "status"]
    assert "Note interne" not in json.dumps(detail)
    assert api.get(f"/api/v1/problems/{p['hidden']}").status_code == 404


def test_tools_never_serve_hidden_or_personal_data(api, seeded, tools):
    paths = [
        "/api/v1/surveys?limit=100",
        "/api/v1/meetings?limit=100",
        "/api/v1/problems?limit=100",
        f"/api/v1/surveys/{tools.survey_id}",
        f"/api/v1/meetings/{tools.meeting_id}",
        *(f"/api/v1/problems/{pid}" for pid in tools.problem_ids.values()),
    ]
    for path in paths:
        body = api.get(path).get_data(as_text=True)
        for secret in (HIDDEN_TEXT, DRAFT_TITLE, FREE_TEXT, *seeded.emails):
            assert secret not in body, (path, secret)


def test_budgets(api, tools):
    b, p = tools.budget_ids, tools.project_ids
    listed = ids(api.get("/api/v1/budgets?limit=100").json["items"])
    assert {b["closed"], b["voting"]} <= listed and b["draft"] not in listed
    closed = api.get(f"/api/v1/budgets/{b['closed']}").json
    assert closed["phase"] == "results"
    projects = {project["id"]: project for project in closed["projects"]}
    assert (projects[p["big"]]["votes"], projects[p["big"]]["retained"]) == (3, True)
    # 80,000 + 30,000 exceed the 100,000 envelope: the second one does not fit.
    assert (projects[p["small"]]["votes"], projects[p["small"]]["retained"]) == (1, False)
    assert projects[p["rejected"]]["analysis_reason"] == "Hors champ."
    assert closed["results"]["ballots"] == 3 and closed["results"]["voters"] == 3
    assert closed["results"]["pools"][0]["spent"] == 80_000
    voting = api.get(f"/api/v1/budgets/{b['voting']}").json
    assert voting["phase"] == "vote" and voting["results"] is None
    assert voting["projects"][0]["votes"] is None  # no count before the results
    assert api.get(f"/api/v1/budgets/{b['draft']}").status_code == 404
