from __future__ import annotations

import pytest

from core import create_app
from core.config import DEV_SECRET_KEY, ConfigError, load_from_environment


def test_development_defaults(monkeypatch):
    for name in ("PNYX_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PLATFORM_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    config = load_from_environment()
    assert config["PLATFORM_DOMAIN"] == "pnyx.localhost:5000"
    assert config["SECRET_KEY"] == DEV_SECRET_KEY
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert config["SESSION_COOKIE_DOMAIN"] is False


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("PLATFORM_DOMAIN", "pnyx.fr")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/3")
    monkeypatch.setenv("TENANT_CACHE_TTL", "12.5")
    config = load_from_environment()
    assert config["PLATFORM_DOMAIN"] == "pnyx.fr"
    assert config["REDIS_URL"] == "redis://cache:6379/3"
    assert config["TENANT_CACHE_TTL"] == 12.5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": DEV_SECRET_KEY, "PLATFORM_DOMAIN": "pnyx.fr"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short", "PLATFORM_DOMAIN": "pnyx.fr"}, "32 characters"),
        ({"SECRET_KEY": "x" * 40}, "PLATFORM_DOMAIN"),
    ],
)
def test_production_refuses_unsafe_settings(monkeypatch, env, message):
    for name in ("SECRET_KEY", "PLATFORM_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PNYX_ENV", "production")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_production_starts_with_safe_settings(monkeypatch):
    monkeypatch.setenv("PNYX_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("PLATFORM_DOMAIN", "pnyx.fr")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
