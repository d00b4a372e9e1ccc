"""Test fixtures: one real PostgreSQL database and real Redis per test run (per xdist worker).

The database is created at the start of the session and dropped at its end. Two tenants,
A and B, are provisioned once for the whole session; tests that need a tenant of their own
(lifecycle, migrations) create it with ``make_tenant``.
"""

from __future__ import annotations

import itertools
import os
import secrets
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.devtools.embedded import database_url_for_tests, redis_url_for_tests
from tests.helpers import host_client

PLATFORM = "pnyx.test"
_codes = itertools.count()


def _admin_engine(server_url: str) -> sa.Engine:
    return sa.create_engine(
        make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def database_url():
    server_url = database_url_for_tests()
    name = f"pnyx_test_{secrets.token_hex(4)}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


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


def base_config(database_url: str, redis_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "PNYX_ENV": "testing",
        "SECRET_KEY": "test-" + secrets.token_hex(16),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "PLATFORM_DOMAIN": PLATFORM,
        "RQ_ASYNC": False,
        "TENANT_CACHE_CHECK_INTERVAL": 0.0,
        # The page cache serves a page again for minutes whatever a test patches meanwhile (the
        # clock, a view): off here, on in tests/participation/test_page_cache.py's own apps.
        "PAGE_CACHE": False,
        "PAGE_CACHE_CHECK_INTERVAL": 0.0,
        "TENANT_EXPORT_DIR": os.path.join(os.environ.get("TMPDIR", "/tmp"), "pnyx-test-exports"),
        **_smtp_settings,
    }
    config.update(overrides)
    return config


# Filled by the smtp_server fixture: every app built by base_config() then mails to it.
_smtp_settings: dict = {}


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (tests/smtp.py) on a free port, for the whole session."""
    from tests.smtp import SMTPServer

    with SMTPServer() as server:
        _smtp_settings.update(SMTP_HOST=server.host, SMTP_PORT=server.port)
        yield server
        _smtp_settings.clear()


@pytest.fixture
def mailbox(smtp_server):
    """The SMTP server, emptied of the messages of earlier tests."""
    smtp_server.clear()
    return smtp_server


@pytest.fixture(scope="session")
def app(database_url, redis_url, smtp_server):
    from core import create_app
    from tenants.migrate import upgrade_public

    app = create_app(base_config(database_url, redis_url))
    with app.app_context():
        from core.db import db

        upgrade_public(db.engine)
    return app


@pytest.fixture(scope="session")
def make_tenant(app):
    """Create and provision a tenant from a real commune; returns its ORM-free snapshot."""
    from core.db import db
    from tenants import official
    from tenants.context import load_tenant_ref
    from tenants.models import Tenant
    from tenants.provisioning import provision_now
    from tenants.services import create_tenant

    communes = [c for c in official.search("saint", limit=500) if c.kind == "commune"]

    def make(provision: bool = True, **kwargs):
        with app.app_context():
            # A commune some test already gave a space (a demo commune, one a test picked by
            # its code) is skipped: a second space for it would be refused.
            taken = set(db.session.scalars(sa.select(Tenant.code).where(Tenant.kind == "commune")))
            commune = communes[next(_codes)]
            while commune.code in taken:
                commune = communes[next(_codes)]
            slug = kwargs.pop("slug", None) or f"t-{uuid.uuid4().hex[:10]}"
            tenant = create_tenant(commune.code, PLATFORM, slug=slug, **kwargs)
            db.session.commit()
            tenant_id = tenant.id
            if provision:
                provision_now(db.engine, tenant_id)
            return load_tenant_ref(tenant_id)

    return make


@pytest.fixture(scope="session")
def tenant_a(make_tenant):
    return make_tenant()


@pytest.fixture(scope="session")
def tenant_b(make_tenant):
    return make_tenant()


@pytest.fixture
def client_for(app):
    def make(host: str):
        return host_client(app, host)

    return make


@pytest.fixture
def platform_client(app):
    return host_client(app, PLATFORM)
