"""A password-reset request takes as long for an unknown address as for a real account:
both render the mail and enqueue a job (participation.accounts.services, core.security.decoy).
Measured before: 79 ms against 47 ms."""

from __future__ import annotations

import statistics
import time

import pytest

from core.security.limits import storage_uri
from tests.support import base_config, create_user, ensure_legal_documents, unique_email
from tests.support import client_on as make_client
from tests.support import csrf_in as csrf_token
from tests.support.redis_server import RedisServer

ROUNDS = 21


@pytest.fixture
def queued_app(app, database_url, redis_url):
    """Jobs queued in a Redis of the test's own, not run: what production does."""
    from core import create_app

    server = RedisServer()
    server.start()
    try:
        yield create_app(
            base_config(
                database_url,
                server.url,
                RQ_ASYNC=True,
                RATELIMIT_STORAGE_URI=storage_uri(redis_url),
            )
        )
    finally:
        server.close()


def test_reset_takes_as_long_for_an_unknown_address(app, queued_app, make_tenant):
    from core.jobs import get_queue

    tenant = make_tenant()
    ensure_legal_documents(queued_app, tenant)
    # Each account three times (the per-account limit), each request from an address of its own.
    accounts = [create_user(app, tenant).email for _ in range(ROUNDS // 3)]
    known = [accounts[n % len(accounts)] for n in range(ROUNDS)]
    unknown = [unique_email("inconnu") for _ in range(ROUNDS)]

    def timed(email: str) -> float:
        client = make_client(queued_app, tenant)
        token = csrf_token(client.get("/mot-de-passe-oublie").get_data(as_text=True))
        started = time.perf_counter()
        answer = client.post("/mot-de-passe-oublie", data={"csrf_token": token, "email": email})
        took = time.perf_counter() - started
        assert answer.status_code == 302
        return took

    timed(unique_email())  # warm-up: templates compiled, connections opened
    known_times, unknown_times = [], []
    for known_email, unknown_email in zip(known, unknown, strict=True):  # interleaved: same noise
        known_times.append(timed(known_email))
        unknown_times.append(timed(unknown_email))
    known_median = statistics.median(known_times)
    unknown_median = statistics.median(unknown_times)
    assert abs(known_median - unknown_median) <= 0.15 * max(known_median, unknown_median), (
        f"known {known_median * 1000:.1f} ms, unknown {unknown_median * 1000:.1f} ms"
    )
    with queued_app.app_context():
        assert get_queue("default").count == 2 * ROUNDS + 1  # a job for each request
