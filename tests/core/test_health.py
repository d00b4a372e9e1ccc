from __future__ import annotations

from core import create_app
from tests.conftest import PLATFORM, base_config
from tests.helpers import host_client


def test_healthz_names_redis_when_it_is_down(database_url):
    app = create_app(base_config(database_url, "redis://127.0.0.1:1/0"))
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
