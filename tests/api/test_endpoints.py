"""Each endpoint of /api/v1: what it returns, what it hides, its errors."""

from __future__ import annotations

import json

from tests.api.seed import DELETED_TEXT, DRAFT_TITLE, HIDDEN_TEXT


def ids(items) -> set[int]:
    return {item["id"] for item in items}


def test_processes_list_public_ones_with_phases(api, seeded):
    response = api.get("/api/v1/processes?limit=100")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    items = response.json["items"]
    got = ids(items)
    assert {seeded.process_ids["open"], seeded.process_ids["archived"]} <= got
    assert seeded.process_ids["draft"] not in got
    first = next(p for p in items if p["id"] == seeded.process_ids["open"])
    assert first["status"] == "open"
    assert first["phases"][0]["state"] == "current"
    assert first["phases"][0]["actions"] == ["propose", "support", "comment", "debate"]
    assert first["theme"] == {"id": seeded.theme_ids["velo"], "name": first["theme"]["name"]}
    assert first["url"].endswith(f"/demarches/{first['id']}")
    assert "T" in first["created_at"] and first["starts_on"].count("-") == 2


def test_processes_filters(api, seeded):
    finished = ids(api.get("/api/v1/processes?status=finished").json["items"])
    assert seeded.process_ids["archived"] in finished
    assert seeded.process_ids["open"] not in finished
    upcoming = ids(api.get("/api/v1/processes?status=upcoming").json["items"])
    assert seeded.process_ids["upcoming"] in upcoming
    nature = ids(api.get(f"/api/v1/processes?theme={seeded.theme_ids['nature']}").json["items"])
    assert nature == {seeded.process_ids["archived"], seeded.process_ids["upcoming"]}


def test_process_detail_and_draft_is_404(api, seeded):
    assert api.get(f"/api/v1/processes/{seeded.process_ids['open']}").json["title"] == "Plan vélo"
    response = api.get(f"/api/v1/processes/{seeded.process_ids['draft']}")
    assert response.status_code == 404
    assert response.json["error"]["message"] == "Cette démarche n'existe pas."


def test_proposals_list_hides_what_pages_hide(api, seeded):
    items = api.get(f"/api/v1/proposals?process={seeded.process_ids['open']}").json["items"]
    got = ids(items)
    p = seeded.proposal_ids
    assert {p["answered"], p["rejected"], p["by_deleted"]} == got
    answered = next(i for i in items if i["id"] == p["answered"])
    assert answered["status"] == "accepted"
    assert answered["status_label"] == "Retenue"
    assert answered["answer"].startswith("La ville retient")
    assert answered["supports_count"] == 3
    assert answered["comments_count"] == 2  # the hidden and the deleted ones do not count
    assert answered["author"]["name"].startswith("Camille")
    rejected = next(i for i in items if i["id"] == p["rejected"])
    assert rejected["status_reason"] == "Hors des compétences de la commune."
    anonymous = next(i for i in items if i["id"] == p["by_deleted"])
    assert anonymous["author"] == {"name": "Participant·e anonyme", "staff": False}


def test_proposals_filters(api, seeded):
    p = seeded.proposal_ids
    base = f"/api/v1/proposals?process={seeded.process_ids['open']}"
    assert ids(api.get(base + "&status=rejected").json["items"]) == {p["rejected"]}
    theme = seeded.theme_ids["nature"]
    assert ids(api.get(base + f"&theme={theme}").json["items"]) == {p["rejected"]}
    place = seeded.neighbourhood_ids["centre"]
    assert ids(api.get(base + f"&neighbourhood={place}").json["items"]) == {p["answered"]}
    assert ids(api.get(base + "&q=cyclable").json["items"]) == {p["answered"]}
    assert api.get(base + "&q=").status_code == 200
    everywhere = ids(api.get("/api/v1/proposals?limit=100").json["items"])
    assert p["archived"] in everywhere and p["draft"] not in everywhere
    by_supports = api.get(base + "&sort=supports").json["items"]
    assert by_supports[0]["id"] == p["answered"]


def test_proposal_detail_timeline_is_public_only(api, seeded):
    data = api.get(f"/api/v1/proposals/{seeded.proposal_ids['answered']}").json
    kinds = [event["kind"] for event in data["timeline"]]
    assert kinds == ["created", "status", "answer"]
    assert "Note interne" not in json.dumps(data)
    withdrawn = api.get(f"/api/v1/proposals/{seeded.proposal_ids['withdrawn']}").json
    assert withdrawn["withdrawn_at"] is not None
    for key in ("hidden", "blocked", "draft"):
        response = api.get(f"/api/v1/proposals/{seeded.proposal_ids[key]}")
        assert response.status_code == 404, key
    assert api.get("/api/v1/proposals/2147483647").status_code == 404
    assert api.get("/api/v1/proposals/2147483648").status_code == 404


def test_debates(api, seeded):
    items = api.get("/api/v1/debates").json["items"]
    assert ids(items) == {seeded.debate_id}
    assert (items[0]["arguments_pour"], items[0]["arguments_contre"]) == (1, 1)
    data = api.get(f"/api/v1/debates/{seeded.debate_id}").json
    states = sorted(a["state"] for a in data["arguments"])
    assert states == ["deleted", "hidden", "visible", "visible", "visible"]
    for argument in data["arguments"]:
        if argument["state"] != "visible":
            assert argument["author"] is None and argument["body"] is None
    assert any(a["parent_id"] for a in data["arguments"])
    assert api.get("/api/v1/debates?state=closed").json["items"] == []


def test_comments(api, seeded):
    c = seeded.comment_ids
    all_items = api.get("/api/v1/comments?limit=100").json["items"]
    got = ids(all_items)
    assert {
        c["visible"],
        c["reply"],
        c["hidden"],
        c["deleted"],
        c["on_debate"],
        c["on_process"],
    } == got
    by_id = {item["id"]: item for item in all_items}
    assert by_id[c["hidden"]]["state"] == "hidden" and by_id[c["hidden"]]["body"] is None
    assert by_id[c["deleted"]]["state"] == "deleted" and by_id[c["deleted"]]["author"] is None
    assert by_id[c["reply"]]["parent_id"] == c["visible"]
    assert by_id[c["reply"]]["author"]["staff"] is True
    assert by_id[c["on_debate"]]["author"]["name"] == "Participant·e anonyme"
    assert by_id[c["on_debate"]]["target_type"] == "debate"
    on_proposal = api.get(f"/api/v1/comments?proposal={seeded.proposal_ids['answered']}").json
    assert ids(on_proposal["items"]) == {c["visible"], c["reply"], c["hidden"], c["deleted"]}
    on_process = api.get(f"/api/v1/comments?process={seeded.process_ids['open']}").json
    assert ids(on_process["items"]) == {c["on_process"]}
    # Filters combine (a comment has one target: two targets give nothing).
    both = api.get(
        f"/api/v1/comments?process={seeded.process_ids['open']}&debate={seeded.debate_id}"
    )
    assert both.status_code == 200 and both.json["items"] == []


def test_hidden_and_draft_text_never_served(api, seeded):
    paths = [
        "/api/v1/processes?limit=100",
        "/api/v1/proposals?limit=100",
        "/api/v1/debates?limit=100",
        "/api/v1/comments?limit=100",
        f"/api/v1/debates/{seeded.debate_id}",
        f"/api/v1/proposals/{seeded.proposal_ids['answered']}",
    ]
    for path in paths:
        body = api.get(path).get_data(as_text=True)
        for secret in (HIDDEN_TEXT, DELETED_TEXT, DRAFT_TITLE):
            assert secret not in body, (path, secret)


def test_unknown_and_invalid_parameters_are_400(api):
    cases = {
        "/api/v1/proposals?colour=red": "Paramètre inconnu : colour",
        "/api/v1/proposals?limit=0": "« limit »",
        "/api/v1/proposals?limit=101": "« limit »",
        "/api/v1/proposals?limit=abc": "nombre entier",
        "/api/v1/proposals?status=lost": "Valeur inconnue",
        "/api/v1/proposals?q=%00": "caractères",
        "/api/v1/proposals?cursor=forged": "curseur",
        "/api/v1/proposals?theme=1&theme=2": "répété",
        "/api/v1/openapi.json?x=1": "Paramètre inconnu",
    }
    for path, fragment in cases.items():
        response = api.get(path)
        assert response.status_code == 400, path
        assert response.is_json
        assert response.headers["Cache-Control"] == "no-store"
        assert fragment in response.json["error"]["message"], path


def test_404_405_are_json(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["error"]["status"] == 404
    response = api.post("/api/v1/proposals")
    assert response.status_code == 405
    assert response.json["error"]["message"] == "Cette action n'est pas possible ici."


def test_api_does_not_exist_on_platform_host(app, platform_client):
    assert platform_client.get("/api/v1/proposals").status_code == 404


def test_rate_limited_per_client_address(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    statuses = [api.get("/api/v1/debates").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/debates")
    assert response.json["error"]["status"] == 429
    assert "patienter" in response.json["error"]["message"]
    assert response.headers["Retry-After"] == "60"  # the window of "3 per minute"
    api.environ_base["REMOTE_ADDR"] = "10.255.255.254"
    assert api.get("/api/v1/debates").status_code == 200


def test_unexpected_error_answers_json(app, api, monkeypatch):
    from participation.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "debate_json", broken)
    response = api.get("/api/v1/debates")
    assert response.status_code == 500
    assert response.is_json
    assert "inattendue" in response.json["error"]["message"]
    assert "boom" not in response.get_data(as_text=True)


def test_suspended_tenant_stays_readable(app, make_tenant):
    from tenants.context import load_tenant_ref
    from tests.support import host_client

    tenant = make_tenant()
    seeded = __import__("tests.api.seed", fromlist=["seed_tenant"]).seed_tenant(app, tenant, bulk=0)
    with app.app_context():
        from core.db import db
        from tenants import invalidate_host_cache

        db.session.execute(
            __import__("sqlalchemy").text(
                "UPDATE public.tenants SET status='suspended' WHERE id=:id"
            ),
            {"id": tenant.id},
        )
        db.session.commit()
        invalidate_host_cache()
        assert load_tenant_ref(tenant.id).status == "suspended"
    client = host_client(app, tenant.primary_host)
    response = client.get("/api/v1/proposals")
    assert response.status_code == 200
    assert seeded.proposal_ids["answered"] in ids(response.json["items"])
