"""The fixed cost of a tenant request stays small: a warm authenticated GET sends a bounded
number of statements, and a write does not read the billing subscription from the database
while its cached state says the space is writable — yet a subscription change is seen by
the very next request, per tenant, whoever writes it (ORM or raw SQL, this process or
another one through the Redis generation counter)."""

from __future__ import annotations

import contextlib
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.db import db
from tests.support import client_on, create_person, csrf_in, forge_session, text
from tests.support.billing import admin_client, subscribe

#: A warm authenticated tenant home: SET LOCAL search_path, the user, the page's own
#: query, the unread-notifications count. One spare for a feature that adds a query.
MAX_STATEMENTS_WARM_GET = 5
SUBSCRIPTIONS = re.compile(r"\bsubscriptions\b", re.IGNORECASE)


@contextlib.contextmanager
def statements():
    seen: list[str] = []

    def listener(_conn, _cursor, statement, _params, _context, _executemany):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", listener)


def _post_service(client, name: str):
    page = client.get("/gestion/services")
    assert page.status_code == 200, page.text
    token = csrf_in(page.text)
    with statements() as seen:
        response = client.post("/gestion/services", data={"csrf_token": token, "name": name})
    return response, seen


def _set_state(app, tenant, state: str, *, raw: bool = False) -> None:
    if raw:  # as a script or another service would: no ORM, no app hook
        with app.app_context():
            db.session.execute(
                sa.text("UPDATE public.subscriptions SET state = :s WHERE tenant_id = :t"),
                {"s": state, "t": tenant.id},
            )
            db.session.commit()
    else:
        subscribe(app, tenant, state=state)


def test_warm_authenticated_get_sends_a_bounded_number_of_statements(app, make_tenant):
    from tests.support import ensure_legal_documents

    tenant = make_tenant()
    ensure_legal_documents(app, tenant)
    person = create_person(app, tenant, None)
    client = client_on(app, tenant)
    forge_session(client, tenant, person)
    for _ in range(2):  # warm: caches of this process filled
        assert client.get("/").status_code == 200
    with statements() as seen:
        response = client.get("/")
    assert response.status_code == 200
    assert "Se déconnecter" in text(response)  # really authenticated
    assert 0 < len(seen) <= MAX_STATEMENTS_WARM_GET, seen
    assert not [s for s in seen if SUBSCRIPTIONS.search(s)]


def test_a_warm_write_does_not_read_the_subscription(billing_app, billing_tenant):
    subscribe(billing_app, billing_tenant, state="active")
    client, _admin = admin_client(billing_app, billing_tenant)
    first, _ = _post_service(client, "Voirie")
    assert first.status_code == 302
    second, seen = _post_service(client, "Culture")
    assert second.status_code == 302
    assert not [s for s in seen if SUBSCRIPTIONS.search(s)], seen


@pytest.mark.parametrize("raw", [False, True], ids=["orm", "raw-sql"])
def test_a_subscription_change_is_seen_by_the_next_write(
    billing_app,
    make_tenant,
    raw,
):
    from tests.support import ensure_legal_documents

    tenant, other = make_tenant(), make_tenant()
    for each in (tenant, other):
        ensure_legal_documents(billing_app, each)
        subscribe(billing_app, each, state="active")
    client, _ = admin_client(billing_app, tenant)
    other_client, _ = admin_client(billing_app, other)
    assert _post_service(client, "Voirie")[0].status_code == 302  # cached: writable
    assert _post_service(other_client, "Voirie")[0].status_code == 302

    _set_state(billing_app, tenant, "read_only", raw=raw)
    refused, _ = _post_service(client, "Culture")
    assert refused.status_code == 403
    assert "lecture seule" in text(refused)
    # The other collectivité is not affected.
    assert _post_service(other_client, "Culture")[0].status_code == 302

    _set_state(billing_app, tenant, "active", raw=raw)
    assert _post_service(client, "Sports")[0].status_code == 302


def test_another_process_bump_drops_this_process_values(billing_app, billing_tenant):
    """What a webhook or the sweep in another process does: only the Redis counter moves."""
    from core.jobs import redis_connection
    from tenants import cache as tenant_values
    from tenants.context import tenant_context

    calls = []

    def loader():
        calls.append(1)
        return len(calls)

    with billing_app.app_context(), tenant_context(billing_tenant.id):
        assert tenant_values.cached("request-cost-probe", loader) == 1
        assert tenant_values.cached("request-cost-probe", loader) == 1  # cached
        values = tenant_values._cache_for(billing_app)
        redis_connection(billing_app).incr(values._all_key())  # "another process"
        assert tenant_values.cached("request-cost-probe", loader) == 2
        db.session.rollback()
