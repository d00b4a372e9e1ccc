"""No personal data in any API response: the seeded accounts' e-mails never appear."""

from __future__ import annotations


def every_response(api, seeded) -> dict[str, str]:
    paths = [
        "/api/v1/openapi.json",
        "/api/v1/tenant",
        "/api/v1/processes?limit=100",
        "/api/v1/proposals?limit=100",
        "/api/v1/proposals?limit=100&sort=supports",
        "/api/v1/debates?limit=100",
        "/api/v1/comments?limit=100",
        f"/api/v1/debates/{seeded.debate_id}",
        *(f"/api/v1/proposals/{pid}" for pid in seeded.proposal_ids.values()),
        *(f"/api/v1/processes/{pid}" for pid in seeded.process_ids.values()),
    ]
    return {path: api.get(path).get_data(as_text=True) for path in paths}


def test_no_email_no_account_id_anywhere(api, seeded):
    bodies = every_response(api, seeded)
    assert len(seeded.emails) >= 5
    for path, body in bodies.items():
        for email in seeded.emails:
            assert email not in body, (path, email)
            assert email.split("@")[0] not in body, (path, email)
        for forbidden in ("author_id", "user_id", 'email"', "assignee", "service_id", "due_on"):
            assert forbidden not in body, (path, forbidden)


def test_deleted_account_is_anonymous(api, seeded):
    data = api.get(f"/api/v1/proposals/{seeded.proposal_ids['by_deleted']}").json
    assert data["author"] == {"name": "Participant·e anonyme", "staff": False}
    assert "Parti " not in str(data)
