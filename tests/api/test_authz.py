"""Authorisation matrix of the new routes: every API route and /open-data is public and
read-only, answers the same to everyone (anonymous, citizen, staff), and never shows staff
what the public does not see (drafts, hidden content)."""

from __future__ import annotations

import pytest

from tests.support import client_on, ensure_legal_documents, logged_in

ROLES = (None, "citizen", "moderator", "admin")


def routes(seeded, tools) -> list[str]:
    return [
        "/api/v1/openapi.json",
        "/api/v1/processes",
        f"/api/v1/processes/{seeded.process_ids['open']}",
        "/api/v1/proposals",
        f"/api/v1/proposals/{seeded.proposal_ids['answered']}",
        "/api/v1/debates",
        f"/api/v1/debates/{seeded.debate_id}",
        "/api/v1/comments",
        "/api/v1/surveys",
        f"/api/v1/surveys/{tools.survey_id}",
        "/api/v1/budgets",
        f"/api/v1/budgets/{tools.budget_ids['closed']}",
        "/api/v1/meetings",
        f"/api/v1/meetings/{tools.meeting_id}",
        "/api/v1/problems",
        f"/api/v1/problems/{tools.problem_ids['resolved']}",
        "/open-data",
    ]


def private(seeded, tools) -> list[str]:
    """What staff see on their pages but the API never serves."""
    return [
        f"/api/v1/processes/{seeded.process_ids['draft']}",
        f"/api/v1/proposals/{seeded.proposal_ids['hidden']}",
        f"/api/v1/proposals/{seeded.proposal_ids['draft']}",
        f"/api/v1/surveys/{tools.draft_survey_id}",
        f"/api/v1/budgets/{tools.budget_ids['draft']}",
        f"/api/v1/meetings/{tools.hidden_meeting_id}",
        f"/api/v1/problems/{tools.problem_ids['hidden']}",
    ]


def client_as(app, tenant, role):
    if role is None:
        return client_on(app, tenant)
    ensure_legal_documents(app, tenant)
    client, _person = logged_in(app, tenant, None if role == "citizen" else role)
    return client


@pytest.fixture
def no_rate_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")


@pytest.mark.parametrize("role", ROLES)
def test_public_read_only_same_for_everyone(app, seeded, tools, no_rate_limit, role):
    client = client_as(app, seeded.tenant, role)
    anonymous = client_on(app, seeded.tenant)
    for path in routes(seeded, tools):
        response = client.get(path)
        assert response.status_code == 200, (role, path)
        if path.startswith("/api/"):
            assert response.json == anonymous.get(path).json, (role, path)
        for method in ("post", "put", "patch", "delete"):
            assert getattr(client, method)(path).status_code == 405, (role, method, path)
    for path in private(seeded, tools):
        assert client.get(path).status_code == 404, (role, path)
