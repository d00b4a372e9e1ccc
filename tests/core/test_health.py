from __future__ import annotations

from core import create_app
from core.security.limits import storage_uri
from tests.support import PLATFORM, base_config, host_client


def test_healthz_names_redis_when_it_is_down(database_url, redis_url):
    # The rate limiter keeps its storage in a module global (one app per process in
    # production): it stays on the live Redis, or later tests of this worker lose their limits.
    app = create_app(
        base_config(
            database_url, "redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI=storage_uri(redis_url)
        )
    )
    response = host_client(app, PLATFORM).get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": "ok", "redis": "unavailable"}


def test_healthz_names_the_database_when_it_is_down(redis_url):
    app = create_app(base_config("postgresql+psycopg://postgres@127.0.0.1:1/none", redis_url))
    response = host_client(app, "anything.example").get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable" and response.json["redis"] == "ok"


def test_pages_are_503_in_french_when_the_database_is_down(redis_url):
    app = create_app(base_config("postgresql+psycopg://postgres@127.0.0.1:1/none", redis_url))
    response = host_client(app, "mulhouse.pnyx.test").get("/")
    assert response.status_code == 503
    assert "momentanément indisponible" in response.text
