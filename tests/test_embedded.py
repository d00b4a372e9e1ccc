"""The embedded PostgreSQL and Redis of ``make run`` (core/devtools/embedded.py).

Imports nothing of the app but core.devtools.embedded: no Flask, no database fixtures.
"""

from __future__ import annotations

import pytest
import redis
import sqlalchemy as sa

from core.devtools import embedded


@pytest.mark.slow
def test_embedded_postgres_starts_answers_and_stops(tmp_path):
    pg = embedded.start_postgres(tmp_path / "pgdata")
    try:
        assert pg.started and pg.owned
        assert pg.url.startswith("postgresql+psycopg://")
        engine = sa.create_engine(pg.url)
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT 1")).scalar() == 1
                assert conn.execute(sa.text("SELECT current_database()")).scalar() == "pnyx"
        finally:
            engine.dispose()
    finally:
        pg.stop()
    assert not pg.is_running()
    assert (tmp_path / "pgdata" / "PG_VERSION").exists()  # the data stays


@pytest.mark.slow
def test_embedded_redis_starts_answers_and_stops(tmp_path):
    server = embedded.start_redis(tmp_path / "redis")
    try:
        assert server.started and server.owned
        client = redis.Redis.from_url(server.url)
        try:
            assert client.ping() is True
            client.set("pnyx:test", "kept")
        finally:
            client.close()
    finally:
        server.stop()
    assert not server.is_running()

    again = embedded.start_redis(tmp_path / "redis")  # the data survives a restart
    try:
        client = redis.Redis.from_url(again.url_for(0))
        try:
            assert client.get("pnyx:test") == b"kept"
        finally:
            client.close()
    finally:
        again.stop()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/13"),
        ("redis://:secret@cache:6380", "redis://:secret@cache:6380/13"),
        ("rediss://cache:6380/2?ssl_cert_reqs=none", "rediss://cache:6380/13?ssl_cert_reqs=none"),
        ("unix:///run/redis/redis.sock?db=0", "unix:///run/redis/redis.sock?db=13"),
        ("unix:///run/redis/redis.sock", "unix:///run/redis/redis.sock?db=13"),
    ],
)
def test_redis_url_for_tests_uses_db_13(url, expected):
    assert embedded._with_redis_db(url, 13) == expected


def test_postgres_url_gets_the_psycopg_driver():
    assert embedded._normalize_postgres_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert embedded._normalize_postgres_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    url = "postgresql+psycopg://u@h/db"
    assert embedded._normalize_postgres_url(url) == url


def test_test_urls_come_from_the_environment(monkeypatch):
    monkeypatch.setattr(embedded, "_test_urls", {})
    monkeypatch.setenv("DATABASE_URL", "postgresql://ci@db:5432/postgres")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    assert embedded.database_url_for_tests() == "postgresql+psycopg://ci@db:5432/postgres"
    assert embedded.redis_url_for_tests() == "redis://cache:6379/13"
