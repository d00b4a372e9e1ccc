"""The fixtures every test may ask for (loaded by tests/conftest.py).

One real PostgreSQL database and one Redis database per test session (per xdist worker);
one app for the whole session, built by ``core.create_app`` with every package wired
(tests that need another configuration build their own from ``base_config``); a real
SMTP server; tenants from the pool of tests/support/tenants.py.

The names the test folders knew their app and SMTP server by (``staff_app``,
``proposals_app``, ``processes_app``, ``surveys_app``, ``eng_app``, ``net_app``; ``smtp``,
``staff_smtp``) are the same objects as ``app`` and ``smtp_server``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from core.devtools.embedded import database_url_for_tests, redis_url_for_tests
from tests.support.clients import client_on, host_client
from tests.support.config import base_config, smtp_settings
from tests.support.constants import PLATFORM
from tests.support.database import session_database
from tests.support.participation import TODAY
from tests.support.people import create_user
from tests.support.tenants import TenantFactory, TenantPool

# --------------------------------------------------------------------------- leases
# A pooled tenant goes back to the pool when the fixture or the test that asked for it is
# over: a module-scoped fixture keeps it for its module, a test for itself. The test
# running (pytest_runtest_protocol) and, above it, the fixture being set up
# (pytest_fixture_setup) are kept on a stack.

_owners: list[pytest.Item | pytest.FixtureRequest] = []


@contextmanager
def _owning(owner):
    _owners.append(owner)
    try:
        yield
    finally:
        _owners.pop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    with _owning(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    with _owning(request):
        return (yield)


def lease_owner():
    """The fixture being set up, else the test running: whoever ``addfinalizer`` binds to."""
    if not _owners:
        raise RuntimeError("make_tenant() called outside a fixture and a test")
    return _owners[-1]


# --------------------------------------------------------------------------- pool summary
# One line at the end of the run: how many tenants were provisioned, how many handed out
# again (xdist workers send their counts to the controller).


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["tenant_pool"] = dict(TenantPool.totals)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    for key, count in getattr(node, "workeroutput", {}).get("tenant_pool", {}).items():
        TenantPool.totals[key] += count


def pytest_terminal_summary(terminalreporter):
    totals = TenantPool.totals
    if totals["provisioned"] or totals["reused"]:
        terminalreporter.write_line(
            f"tenant pool: {totals['provisioned']} tenants provisioned,"
            f" {totals['reused']} handed out again after a reset"
        )


# --------------------------------------------------------------------------- services


@pytest.fixture(scope="session")
def database_url():
    with session_database(database_url_for_tests()) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    # One Redis database per xdist worker, so queues and keys never cross test processes.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    url = redis_url_for_tests()
    url = url.replace("/13", f"/{13 + index % 3}") if url.endswith("/13") else url
    _forget_rate_limit_counters(url)
    return url


def _forget_rate_limit_counters(url: str) -> None:
    """Rate-limit counters outlive a run (per-account ones are keyed on the e-mail, the same
    in every run, for up to a day): a run started minutes after another would find the
    budgets of its fixed test addresses already spent."""
    from redis import Redis

    conn = Redis.from_url(url)
    try:
        keys = list(conn.scan_iter("LIMITS:LIMITER/pnyx-limits/*", count=1000))
        if keys:
            conn.delete(*keys)
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def _rate_limits_stay_on_a_live_redis():
    """Flask-Limiter keeps its storage in a module global, replaced by every app created (one
    app per process in production). A test that builds an app on a dead Redis must keep the
    limiter on the live one (``RATELIMIT_STORAGE_URI``), or the rate-limit tests that happen to
    run after it in this worker fail: this names the test that moved it."""
    yield
    from core.security.limits import limiter

    storage = getattr(limiter, "_storage", None)
    assert storage is None or storage.check(), "this test left the rate limits on a dead Redis"


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (tests/support/smtp.py) on a free port, for the whole session;
    every app built by ``base_config`` mails to it."""
    from tests.support.smtp import SMTPServer

    with SMTPServer() as server:
        smtp_settings.update(SMTP_HOST=server.host, SMTP_PORT=server.port)
        yield server
        smtp_settings.clear()


@pytest.fixture(scope="session")
def smtp(smtp_server):
    """The session's SMTP server; tests pick their messages by recipient, every address
    being unique to its test."""
    return smtp_server


@pytest.fixture(scope="session")
def staff_smtp(smtp_server):
    return smtp_server


@pytest.fixture
def mailbox(smtp_server):
    """The SMTP server, emptied of the messages of earlier tests."""
    smtp_server.clear()
    return smtp_server


# --------------------------------------------------------------------------- the app


@pytest.fixture(scope="session")
def app(database_url, redis_url, smtp_server):
    """The session's app, every package wired, the public schema migrated."""
    from core import create_app
    from core.db import db
    from tenants.migrate import upgrade_public

    app = create_app(base_config(database_url, redis_url))
    with app.app_context():
        upgrade_public(db.engine)
    return app


def _same_app(name: str):
    @pytest.fixture(scope="session", name=name)
    def same_app(app):
        return app

    return same_app


# The names the feature folders knew their app by, when each wired its own packages: the
# same app now (core.create_app wires every package).
staff_app, proposals_app, processes_app, surveys_app, eng_app, net_app = (
    _same_app(name)
    for name in ("staff_app", "proposals_app", "processes_app", "surveys_app", "eng_app", "net_app")
)


@pytest.fixture
def client_for(app):
    def make(host: str):
        return host_client(app, host)

    return make


@pytest.fixture
def platform_client(app):
    return host_client(app, PLATFORM)


# --------------------------------------------------------------------------- tenants


@pytest.fixture(scope="session")
def tenant_pool(app) -> TenantPool:
    return TenantPool(app)


@pytest.fixture(scope="session")
def make_tenant(tenant_pool):
    """``make_tenant()``: a fresh, empty, active tenant (pooled, kept until the end of the
    fixture or test that asked for it); ``make_tenant(fresh=True)`` or any option: a really
    new tenant (tests/support/tenants.py)."""

    def lease(tenant_id: int) -> None:
        lease_owner().addfinalizer(lambda: tenant_pool.release(tenant_id))

    return TenantFactory(tenant_pool, lease)


def _new_tenant(name: str, scope: str, doc: str):
    def new_tenant(make_tenant):
        return make_tenant()

    new_tenant.__doc__ = doc
    return pytest.fixture(scope=scope, name=name)(new_tenant)


SHARED_BY_THE_WORKER = "A tenant of the whole session, shared by every test of the worker."
SHARED_BY_THE_MODULE = "A tenant shared by the tests of a module (each makes its own data)."
OF_THIS_TEST = "A tenant of this test alone (for changes that would disturb other tests)."
tenant_a, tenant_b = (
    _new_tenant(n, "session", SHARED_BY_THE_WORKER) for n in ("tenant_a", "tenant_b")
)
tenant, budget_tenant = (
    _new_tenant(n, "module", SHARED_BY_THE_MODULE) for n in ("tenant", "budget_tenant")
)
own_tenant, new_tenant, member_tenant = (
    _new_tenant(n, "function", OF_THIS_TEST) for n in ("own_tenant", "new_tenant", "member_tenant")
)


# --------------------------------------------------------------------------- people, clients


@pytest.fixture
def client_a(app, tenant_a):
    return client_on(app, tenant_a)


@pytest.fixture
def client_b(app, tenant_b):
    return client_on(app, tenant_b)


@pytest.fixture
def user_factory(app, tenant_a):
    def make(tenant=None, **kwargs):
        return create_user(app, tenant or tenant_a, **kwargs)

    return make


@pytest.fixture
def today(monkeypatch):
    """Freeze the collectivité's day (core.clock, which processes, proposals, budgets and
    surveys read) on TODAY."""
    monkeypatch.setattr("core.clock.paris_today", lambda: TODAY)
    return TODAY
