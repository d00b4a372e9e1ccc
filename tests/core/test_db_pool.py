"""Pooled connections are tested before use only after sitting idle (core.db)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import core.db
from core import create_app
from core.db import db
from tests.support import PLATFORM, base_config, host_client

IDLE_SECONDS = 10.0


@pytest.fixture
def app(database_url, redis_url):
    app = create_app(
        base_config(database_url, redis_url, DATABASE_POOL_PING_IDLE_SECONDS=IDLE_SECONDS)
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def _kill_the_pooled_connection(app) -> None:
    """Ends, from outside, the backend of the one connection in the app's pool: what a
    PostgreSQL restart or a firewall does to an idle connection."""
    with app.app_context():
        with db.engine.connect() as conn:
            pid = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        assert db.engine.pool.checkedin() == 1
        killer = sa.create_engine(str(db.engine.url.render_as_string(hide_password=False)))
        with killer.connect() as conn:
            assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()


def _health(app):
    return host_client(app, PLATFORM).get("/healthz")


def test_a_connection_that_died_while_idle_is_replaced_before_use(app, monkeypatch):
    assert _health(app).status_code == 200
    _kill_the_pooled_connection(app)
    now = core.db._clock()
    monkeypatch.setattr(core.db, "_clock", lambda: now + IDLE_SECONDS + 1)
    answer = _health(app)
    assert answer.status_code == 200 and answer.json["database"] == "ok"


def test_a_connection_used_a_moment_ago_is_lent_without_a_ping(app):
    """No round trip for a connection in steady use. If it died meanwhile, the failure is
    seen once and the pool is renewed at once."""
    assert _health(app).status_code == 200
    _kill_the_pooled_connection(app)
    assert _health(app).json["database"] == "unavailable"
    assert _health(app).json["database"] == "ok"
