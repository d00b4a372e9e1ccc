"""The page cache for visitors without a session (tenants.pagecache): what is served from it,
what never is, and that a change of content is seen at once, from this process or another.

The suite runs with the cache off (tests/conftest.py); the apps here turn it on."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from markupsafe import escape

from core.db import db
from core.security.limits import storage_uri
from tests.support import (
    base_config,
    client_on,
    create_person,
    ensure_legal_documents,
    forge_session,
)
from tests.support.participation import make_process

HIT = "X-Pnyx-Cache"


def _cached_app(database_url, redis_url, smtp, **overrides):
    from core import create_app

    app = create_app(base_config(database_url, redis_url, PAGE_CACHE=True, **overrides))
    app.config.update(SMTP_HOST=smtp.host, SMTP_PORT=smtp.port)
    return app


@pytest.fixture(scope="module")
def cached_app(proposals_app, database_url, redis_url, staff_smtp):
    return _cached_app(database_url, redis_url, staff_smtp)


@pytest.fixture(scope="module")
def other_worker(proposals_app, database_url, redis_url, staff_smtp):
    """A second app on the same database and Redis: another gunicorn worker."""
    return _cached_app(database_url, redis_url, staff_smtp)


@pytest.fixture(scope="module")
def tenant(cached_app, make_tenant):
    ref = make_tenant()
    ensure_legal_documents(cached_app, ref)
    return ref


def _get(app, tenant, path="/demarches", **headers):
    return client_on(app, tenant).get(path, headers=headers)


def _rename(app, tenant, process_id: int, title: str) -> None:
    from participation.processes.models import Process
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        db.session.get(Process, process_id).title = title
        db.session.commit()


def _generation(app, tenant) -> bytes | None:
    from core.jobs import redis_connection
    from tenants.pagecache import GENERATION_KEY

    database = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    key = GENERATION_KEY.format(database=database, tenant_id=tenant.id)
    return redis_connection(app).get(key)


def test_a_page_is_served_again_until_its_content_changes(cached_app, tenant):
    process_id = make_process(cached_app, tenant, title="Rénover la halle du marché")
    first = _get(cached_app, tenant)
    assert first.status_code == 200
    assert first.headers[HIT] == "miss"
    assert "Rénover la halle du marché" in first.get_data(as_text=True)
    second = _get(cached_app, tenant)
    assert second.headers[HIT] == "hit"
    assert second.get_data() == first.get_data()
    # Security headers are added to a served page as to any other answer.
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in second.headers

    _rename(cached_app, tenant, process_id, "Rénover la halle et ses abords")
    third = _get(cached_app, tenant)
    assert third.headers[HIT] == "miss"
    assert "Rénover la halle et ses abords" in third.get_data(as_text=True)
    assert _get(cached_app, tenant).headers[HIT] == "hit"


def test_a_change_made_by_another_worker_is_seen(cached_app, other_worker, tenant):
    process_id = make_process(cached_app, tenant, title="Un parc pour le quartier nord")
    assert _get(cached_app, tenant).status_code == 200
    assert _get(cached_app, tenant).headers[HIT] == "hit"
    _rename(other_worker, tenant, process_id, "Un grand parc pour le quartier nord")
    page = _get(cached_app, tenant)
    assert page.headers[HIT] == "miss"
    assert "Un grand parc pour le quartier nord" in page.get_data(as_text=True)


def test_raw_sql_on_a_connection_of_its_own_invalidates_too(cached_app, tenant):
    process_id = make_process(cached_app, tenant, title="Piétonniser la rue haute")
    _get(cached_app, tenant)
    assert _get(cached_app, tenant).headers[HIT] == "hit"
    with cached_app.app_context(), db.engine.begin() as conn:
        conn.execute(
            sa.text(f'UPDATE "{tenant.schema}".processes SET title = :t WHERE id = :id'),
            {"t": "Piétonniser la rue haute le dimanche", "id": process_id},
        )
    page = _get(cached_app, tenant)
    assert page.headers[HIT] == "miss"
    assert "Piétonniser la rue haute le dimanche" in page.get_data(as_text=True)


def test_a_rolled_back_change_leaves_the_pages_alone(cached_app, tenant):
    process_id = make_process(cached_app, tenant, title="Une halle couverte")
    _get(cached_app, tenant)
    before = _generation(cached_app, tenant)
    from participation.processes.models import Process
    from tenants.context import tenant_context

    with cached_app.app_context(), tenant_context(tenant):
        db.session.get(Process, process_id).title = "Jamais enregistré"
        db.session.flush()
        db.session.rollback()
    assert _generation(cached_app, tenant) == before
    assert _get(cached_app, tenant).headers[HIT] == "hit"


def test_signed_in_visitors_are_never_served_nor_stored(cached_app, tenant):
    make_process(cached_app, tenant, title="Végétaliser les cours d'école")
    person = create_person(cached_app, tenant, None)
    client = client_on(cached_app, tenant)
    forge_session(client, tenant, person)
    for _ in range(2):
        page = client.get("/demarches")
        assert page.status_code == 200
        assert HIT not in page.headers
        assert "/deconnexion" in page.get_data(as_text=True)
    anonymous = _get(cached_app, tenant)
    assert "/deconnexion" not in anonymous.get_data(as_text=True)


def test_a_page_that_sets_a_cookie_is_not_stored(cached_app, tenant):
    """The log-in form carries a CSRF token kept in the visitor's new session."""
    for _ in range(2):
        page = _get(cached_app, tenant, "/connexion")
        assert page.status_code == 200
        assert page.headers[HIT] == "miss"
        assert "Set-Cookie" in page.headers


def test_each_language_has_its_own_copy(cached_app, tenant):
    make_process(cached_app, tenant, title="Budget des jeunes")
    english = _get(cached_app, tenant, **{"Accept-Language": "en"})
    french = _get(cached_app, tenant, **{"Accept-Language": "fr"})
    assert english.get_data() != french.get_data()
    assert 'lang="en"' in english.get_data(as_text=True)
    again = _get(cached_app, tenant, **{"Accept-Language": "en-GB,en;q=0.8"})
    assert again.headers[HIT] == "hit"
    assert again.get_data() == english.get_data()


def test_tenants_never_share_a_page(cached_app, make_tenant):
    first, second = make_tenant(), make_tenant()
    for ref in (first, second):
        ensure_legal_documents(cached_app, ref)
    _get(cached_app, first)
    assert _get(cached_app, first).headers[HIT] == "hit"
    page = _get(cached_app, second)
    assert page.headers[HIT] == "miss"
    # Names as the page escapes them (Saint-Jean-d'Angély).
    assert str(escape(second.name)) in page.get_data(as_text=True)
    assert str(escape(first.name)) not in page.get_data(as_text=True)


def test_the_api_rate_limit_still_counts_cached_answers(
    proposals_app, database_url, redis_url, staff_smtp, tenant
):
    app = _cached_app(database_url, redis_url, staff_smtp, API_RATE_LIMIT="3 per minute")
    client = client_on(app, tenant)
    answers = [client.get("/api/v1/processes") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].headers[HIT] == "hit"
    assert answers[3].is_json


def test_ballots_do_not_make_pages_stale(cached_app, tenant):
    """The register and the ballots are on no cached page: a vote keeps the pages."""
    from participation.budgets import services
    from tenants.context import tenant_context
    from tests.support.budgets import approve_voter, make_budget
    from tests.support.participation import TODAY

    made = make_budget(cached_app, tenant, projects=[("Bancs", 10_000)])
    person = create_person(cached_app, tenant, None)
    approve_voter(cached_app, tenant, made.id, person.id)
    before = _generation(cached_app, tenant)
    with cached_app.app_context(), tenant_context(tenant):
        assert services.quick_cast(made.id, person.id, [made.projects["Bancs"]], TODAY)
        db.session.commit()
    assert _generation(cached_app, tenant) == before


def test_without_redis_pages_are_rendered_as_usual(
    proposals_app, database_url, redis_url, staff_smtp, tenant
):
    # Only the page cache loses Redis: Flask-Limiter's storage is one per process (the
    # extension is a module global), so pointing it at a dead server here would leave every
    # later test of this worker without rate limits.
    app = _cached_app(
        database_url,
        "redis://127.0.0.1:1/0",
        staff_smtp,
        RATELIMIT_STORAGE_URI=storage_uri(redis_url),
    )
    page = _get(app, tenant)
    assert page.status_code == 200
    assert HIT not in page.headers


def test_the_health_check_is_never_answered_from_the_cache(cached_app, tenant):
    """A cached ``ok`` would hide a database that went down since."""
    for _ in range(2):
        answer = _get(cached_app, tenant, "/healthz")
        assert answer.status_code == 200 and answer.headers.get(HIT) != "hit"
        assert answer.headers["Cache-Control"] == "no-store"


def test_no_page_outlives_the_day_it_was_rendered_on():
    from datetime import datetime

    from tenants.pagecache import PARIS, seconds_to_keep

    assert seconds_to_keep(300, datetime(2027, 3, 15, 12, 0, tzinfo=PARIS)) == 300
    assert seconds_to_keep(300, datetime(2027, 3, 15, 23, 58, 30, tzinfo=PARIS)) == 90
    assert seconds_to_keep(300, datetime(2027, 3, 15, 23, 59, 59, 900_000, tzinfo=PARIS)) == 1


def test_public_pages_open_no_session_for_anonymous_readers(cached_app, tenant):
    """A form's CSRF token would open a session, set a cookie and make the page
    unstorable: the public pages build their forms for signed-in readers only."""
    from tests.participation.test_meetings import make_meeting
    from tests.support.budgets import make_budget
    from tests.support.participation import citizen, make_proposal

    process_id = make_process(cached_app, tenant)
    proposal_id = make_proposal(cached_app, tenant, process_id, citizen(cached_app, tenant))
    budget = make_budget(cached_app, tenant, projects=[("Des bancs", 10_000)])
    meeting_id = make_meeting(cached_app, tenant)
    paths = [
        "/",
        "/demarches",
        f"/demarches/{process_id}",
        f"/demarches/{process_id}/propositions",
        f"/propositions/{proposal_id}",
        f"/budgets-participatifs/{budget.id}",
        f"/budgets-participatifs/projets/{budget.projects['Des bancs']}",
        f"/reunions/{meeting_id}",
        "/api/v1/proposals",
    ]
    for path in paths:
        first = _get(cached_app, tenant, path)
        assert first.status_code == 200, path
        assert "Set-Cookie" not in first.headers, path
        assert _get(cached_app, tenant, path).headers[HIT] == "hit", path
    project = _get(cached_app, tenant, paths[6]).get_data(as_text=True)
    assert "Connectez-vous pour suivre ce projet" in project
    assert "budget-follow" in project and 'method="post"' not in project.split("budget-follow")[1]


# -- key normalisation, caps, outages (issue 13) ---------------------------------------------
def _stored_pages(app, tenant) -> int:
    from core.jobs import redis_connection
    from tenants.pagecache import INDEX_KEY

    database = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    return redis_connection(app).zcard(INDEX_KEY.format(database=database, tenant_id=tenant.id))


def test_query_parameters_the_page_does_not_read_share_one_entry(
    proposals_app, database_url, redis_url, staff_smtp, make_tenant
):
    app = _cached_app(database_url, redis_url, staff_smtp)
    ref = make_tenant()
    ensure_legal_documents(app, ref)
    make_process(app, ref, title="Des arbres rue Pasteur")
    client = client_on(app, ref)
    client.get("/demarches")
    before = _stored_pages(app, ref)
    answers = [client.get(f"/demarches?utm_source=lettre&utm_id={n}") for n in range(30)]
    assert all(a.status_code == 200 for a in answers)
    assert [a.headers[HIT] for a in answers[1:]] == ["hit"] * 29
    assert _stored_pages(app, ref) == before
    # Order and repeats do not matter for what the page reads; what it reads does.
    client.get("/demarches?etat=en-cours&page=1")
    assert client.get("/demarches?page=1&etat=en-cours&page=1&x=2").headers[HIT] == "hit"
    assert client.get("/demarches?etat=terminees").headers[HIT] == "miss"


def test_the_language_link_never_carries_another_visitors_query(
    proposals_app, database_url, redis_url, staff_smtp, tenant
):
    app = _cached_app(database_url, redis_url, staff_smtp)
    client = client_on(app, tenant)
    client.get("/demarches?jeton=secret-de-quelqu-un")
    page = client.get("/demarches?jeton=secret-de-quelqu-un").get_data(as_text=True)
    assert "secret-de-quelqu-un" not in page


def test_pages_per_tenant_are_capped(
    proposals_app, database_url, redis_url, staff_smtp, make_tenant
):
    app = _cached_app(database_url, redis_url, staff_smtp, PAGE_CACHE_MAX_ENTRIES=3)
    ref = make_tenant()
    ensure_legal_documents(app, ref)
    process_id = make_process(app, ref, title="Un jardin partagé")
    client = client_on(app, ref)
    paths = ["/", "/demarches", "/confidentialite", f"/demarches/{process_id}", "/conditions"]
    for path in paths * 2:
        assert client.get(path).status_code == 200, path
    assert _stored_pages(app, ref) == 3


def test_a_change_of_content_deletes_the_tenants_pages(cached_app, tenant):
    process_id = make_process(cached_app, tenant, title="Une fontaine place du marché")
    _get(cached_app, tenant)
    _get(cached_app, tenant)
    assert _stored_pages(cached_app, tenant) >= 1
    _rename(cached_app, tenant, process_id, "Deux fontaines place du marché")
    assert _stored_pages(cached_app, tenant) == 0


def test_endpoints_that_never_store_are_not_looked_up(cached_app, tenant):
    """``/healthz`` and static files: no Redis round trip for a page that cannot be there."""
    from flask import request

    from tenants.pagecache import NEVER_STORED_ENDPOINTS

    assert {"health.healthz", "tenant_health.healthz", "static"} <= NEVER_STORED_ENDPOINTS
    cache = cached_app.extensions["pnyx_page_cache"]
    with cached_app.test_request_context("/healthz", base_url=f"http://{tenant.primary_host}"):
        request.url_rule = None
        assert not cache.eligible()
    answer = _get(cached_app, tenant, "/healthz")
    assert HIT not in answer.headers
