"""Cursor pagination: every item once, in order, whatever arrives meanwhile."""

from __future__ import annotations

from tests.api.seed import seed_tenant


def walk(api, path: str, cursor: str | None = None) -> list[dict]:
    items, pages = [], 0
    while True:
        url = path + (f"&cursor={cursor}" if cursor else "")
        response = api.get(url)
        assert response.status_code == 200, response.json
        items += response.json["items"]
        cursor = response.json["next_cursor"]
        pages += 1
        assert pages < 50
        if cursor is None:
            return items


def test_pages_cover_everything_once_in_order(api, seeded):
    path = f"/api/v1/proposals?process={seeded.bulk_process_id}&limit=10"
    items = walk(api, path)
    ids = [item["id"] for item in items]
    assert len(ids) == seeded.bulk_count == len(set(ids))
    assert ids == sorted(ids, reverse=True)
    one_page = api.get(f"/api/v1/proposals?process={seeded.bulk_process_id}&limit=100").json
    assert [item["id"] for item in one_page["items"]] == ids
    assert one_page["next_cursor"] is None


def test_pages_are_stable_when_proposals_arrive(app, api, seeded):
    from core.db import db
    from participation.proposals.models import Proposal
    from tenants.context import tenant_context

    path = f"/api/v1/proposals?process={seeded.bulk_process_id}&limit=10"
    first = api.get(path).json
    with app.app_context(), tenant_context(seeded.tenant):
        newcomer = Proposal(
            process_id=seeded.bulk_process_id, title="Arrivée entre deux pages", body="…"
        )
        db.session.add(newcomer)
        db.session.commit()
        newcomer_id = newcomer.id
    try:
        rest = walk(api, path, first["next_cursor"])
        seen = [item["id"] for item in first["items"] + rest]
        assert newcomer_id not in seen  # arrived above the cursor: not mixed into later pages
        assert len(seen) == len(set(seen)) == seeded.bulk_count
    finally:
        with app.app_context(), tenant_context(seeded.tenant):
            db.session.delete(db.session.get(Proposal, newcomer_id))
            db.session.commit()


def test_sort_by_supports_pages(api, seeded):
    items = walk(api, "/api/v1/proposals?sort=supports&limit=7")
    keys = [(item["supports_count"], item["id"]) for item in items]
    assert keys == sorted(keys, reverse=True)
    assert len(keys) == len(set(keys))


def test_comments_pages_are_chronological(api, seeded):
    items = walk(api, "/api/v1/comments?limit=2")
    ids = [item["id"] for item in items]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) >= 6


def test_cursor_of_another_list_or_tenant_is_refused(app, api, seeded, make_tenant):
    from tests.support import host_client

    cursor = api.get("/api/v1/proposals?limit=1").json["next_cursor"]
    assert cursor
    assert api.get(f"/api/v1/debates?cursor={cursor}").status_code == 400
    assert api.get(f"/api/v1/proposals?sort=supports&cursor={cursor}").status_code == 400
    other = make_tenant()
    seed_tenant(app, other, bulk=3)
    response = host_client(app, other.primary_host).get(f"/api/v1/proposals?cursor={cursor}")
    assert response.status_code == 400
