"""Settings, read from environment variables with development defaults.

Every setting is listed in README.md. In production the app refuses to start with the
development secret key or without a platform domain.
"""

from __future__ import annotations

import os
from datetime import timedelta

DEV_SECRET_KEY = "dev-secret-key-not-for-production"  # noqa: S105 - a marker, refused in production


# The packages the product is made of, as the factory (core.app.create_app) installs them:
# each has an ``init_app(app)``. The core names them here, as strings, and imports none of
# them: the features sit above the tenancy, the tenancy above the core (docs/architecture.md).
#: Installed first, before CSRF and every other hook of the core: its before_request resolves
#: the site and the tenant (and refuses a suspended tenant's writes) before anything else.
TENANCY_PACKAGE = "tenants"
#: Then, in this order, once the core's own hooks, error pages and commands are in place.
FEATURE_PACKAGES = ("tenants.platform", "participation", "billing", "network")
#: Installed last: its lookup runs after every other before_request hook, and its store first
#: of the after_request hooks, so that what it stores is the view's answer alone.
PAGE_CACHE_MODULE = "tenants.pagecache"


class ConfigError(RuntimeError):
    """Raised when the configuration is not safe to run with."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def load_from_environment() -> dict:
    env = os.environ.get("PNYX_ENV", "development")
    production = env == "production"
    return {
        "PNYX_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pnyx"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_size": _int("DATABASE_POOL_SIZE", 5),
            "max_overflow": _int("DATABASE_MAX_OVERFLOW", 5),
        },
        # Seconds a pooled connection may sit unused before it is tested again (core.db).
        "DATABASE_POOL_PING_IDLE_SECONDS": _float("DATABASE_POOL_PING_IDLE_SECONDS", 10.0),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "PLATFORM_DOMAIN": os.environ.get(
            "PLATFORM_DOMAIN", "" if production else "pnyx.localhost:5000"
        ),
        "PREFERRED_URL_SCHEME": os.environ.get("URL_SCHEME", "https" if production else "http"),
        # Number of trusted reverse proxies in front of the app. 0 means X-Forwarded-* headers
        # are ignored: a client could otherwise pick another tenant's host.
        "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0),
        # Pages kept for visitors without a session (tenants.pagecache).
        "PAGE_CACHE": _bool(os.environ.get("PAGE_CACHE"), True),
        "PAGE_CACHE_TTL": _int("PAGE_CACHE_TTL", 300),
        "PAGE_CACHE_CHECK_INTERVAL": _float("PAGE_CACHE_CHECK_INTERVAL", 1.0),
        "PAGE_CACHE_MAX_ENTRIES": _int("PAGE_CACHE_MAX_ENTRIES", 2000),
        "PAGE_CACHE_RETRY_SECONDS": _float("PAGE_CACHE_RETRY_SECONDS", 2.0),
        # Redis on the request path (core.redis_client): short timeouts, then the circuit
        # breaker skips Redis for a while, so a frozen Redis costs a page at most one timeout.
        "REDIS_SOCKET_TIMEOUT": _float("REDIS_SOCKET_TIMEOUT", 0.25),
        "REDIS_CONNECT_TIMEOUT": _float("REDIS_CONNECT_TIMEOUT", 0.25),
        "REDIS_BREAKER_SECONDS": _float("REDIS_BREAKER_SECONDS", 5.0),
        "RATELIMIT_REDIS_TIMEOUT": _float("RATELIMIT_REDIS_TIMEOUT", 0.25),
        # Verification of self-service sign-ups (docs/features/verification.md).
        "OPERATOR_EMAIL": os.environ.get("OPERATOR_EMAIL") or None,
        "VERIFICATION_RETENTION_DAYS": _int("VERIFICATION_RETENTION_DAYS", 365),
        "TENANT_CACHE_TTL": _float("TENANT_CACHE_TTL", 30.0),
        "TENANT_CACHE_CHECK_INTERVAL": _float("TENANT_CACHE_CHECK_INTERVAL", 1.0),
        "TENANT_MIGRATION_LOCK_TIMEOUT": os.environ.get("TENANT_MIGRATION_LOCK_TIMEOUT", "5s"),
        "TENANT_EXPORT_DIR": os.environ.get("TENANT_EXPORT_DIR", "instance/exports"),
        "PG_DUMP": os.environ.get("PG_DUMP", "pg_dump"),
        "RQ_ASYNC": _bool(os.environ.get("RQ_ASYNC"), True),
        "RQ_QUEUES": ["high", "default", "low"],
        # Jobs (docs/features/jobs.md): the queues' Redis database (never evicted), the
        # outbox relay, the workers' registry maintenance and the sweeps.
        "RQ_REDIS_URL": os.environ.get("RQ_REDIS_URL") or None,
        "RQ_MAINTENANCE_INTERVAL": _int("RQ_MAINTENANCE_INTERVAL", 60),
        "OUTBOX_RELAY_POLL_SECONDS": _float("OUTBOX_RELAY_POLL_SECONDS", 1.0),
        "OUTBOX_RELAY_MAX_BACKOFF_SECONDS": _float("OUTBOX_RELAY_MAX_BACKOFF_SECONDS", 30.0),
        "OUTBOX_RELAY_REDIS_TIMEOUT": _float("OUTBOX_RELAY_REDIS_TIMEOUT", 5.0),
        "OUTBOX_RETENTION_DAYS": _int("OUTBOX_RETENTION_DAYS", 7),
        "SENT_MAIL_RETENTION_DAYS": _int("SENT_MAIL_RETENTION_DAYS", 30),
        "SWEEP_PROVISIONING_AFTER_MINUTES": _int("SWEEP_PROVISIONING_AFTER_MINUTES", 15),
        "SWEEP_EXPORT_AFTER_MINUTES": _int("SWEEP_EXPORT_AFTER_MINUTES", 60),
        # Retention of personal data (docs/features/privacy.md; shown on /confidentialite).
        "RETENTION_BUDGET_CENSUS_MONTHS": _int("RETENTION_BUDGET_CENSUS_MONTHS", 6),
        "RETENTION_UNCONFIRMED_DAYS": _int("RETENTION_UNCONFIRMED_DAYS", 30),
        "RETENTION_EXPORT_DAYS": _int("RETENTION_EXPORT_DAYS", 7),
        "RETENTION_INACTIVE_MONTHS": _int("RETENTION_INACTIVE_MONTHS", 36),
        "RETENTION_INACTIVE_WARNING_DAYS": _int("RETENTION_INACTIVE_WARNING_DAYS", 30),
        "SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": _int("SMTP_PORT", 1025),
        "SMTP_STARTTLS": _bool(os.environ.get("SMTP_STARTTLS"), False),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Pnyx <ne-pas-repondre@pnyx.localhost>"),
        "RATELIMIT_ENABLED": _bool(os.environ.get("RATELIMIT_ENABLED"), True),
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Host-only cookies (docs/architecture.md, tenancy rule 8): never a Domain attribute.
        "SESSION_COOKIE_DOMAIN": False,
        # How long a log-in lasts (cookie Expires and server-side session record), in days.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=_int("SESSION_LIFETIME_DAYS", 14)),
        # Largest request body, in bytes, outside the upload views (core.security.body_limits
        # raises it there to what their files need). Bigger bodies answer 413 unread.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        # core.uploads: largest photo (an 8–12 MB phone photo passes and is re-encoded),
        # largest document (verification proof) and most pages of a PDF document.
        "MAX_IMAGE_BYTES": _int("MAX_IMAGE_BYTES", 15 * 1024 * 1024),
        "MAX_DOCUMENT_BYTES": _int("MAX_DOCUMENT_BYTES", 10 * 1024 * 1024),
        "MAX_DOCUMENT_PAGES": _int("MAX_DOCUMENT_PAGES", 50),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    }


def check_production_safety(config: dict) -> None:
    if config.get("PNYX_ENV") != "production":
        return
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise ConfigError("SECRET_KEY must be set to a private random value in production.")
    if len(config["SECRET_KEY"]) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters long in production.")
    if not config.get("PLATFORM_DOMAIN"):
        raise ConfigError("PLATFORM_DOMAIN must be set in production (for example pnyx.fr).")
