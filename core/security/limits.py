"""Rate limits (Flask-Limiter, counters in Redis), answered with 429 and a French message."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _key() -> str:
    # Per client address and per host: a flood on one city must not lock out another.
    return f"{request.host.lower()}|{get_remote_address()}"


limiter = Limiter(key_func=_key, key_prefix="pnyx-limits")


def storage_uri(redis_url: str) -> str:
    """The limits library spells a unix socket ``redis+unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config["REDIS_URL"]))
    # No X-RateLimit-* headers: Flask-Limiter reads them back from Redis with two more round
    # trips per limited request (the public API doubled its cost). A refusal still says when
    # to come back: Retry-After is set on every 429 (core.errors).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # Redis down must not stop log-ins
    limiter.init_app(app)


# Shared limit strings, so every form of the same kind has the same budget.
LOGIN_LIMIT = "10 per minute;50 per hour"
SIGNUP_LIMIT = "5 per minute;20 per hour"
RESET_LIMIT = "5 per minute;20 per hour"
EMAIL_RESEND_LIMIT = "3 per minute;10 per hour"
TWO_FACTOR_LIMIT = "10 per minute;50 per hour"
