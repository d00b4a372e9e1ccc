"""Rate limits (Flask-Limiter, counters in Redis), answered with 429 and a French message.

Keys name the *site* the request was resolved to (``t<id>-<slug>`` for a tenant, ``platform``
for the platform and every host that routes like it), never the raw Host header: a port, a
trailing dot or upper case (``mulhouse.pnyx.fr:20000``) is the same site and the same budget.

Per-account limits (log-in, password reset) are keyed on the normalised e-mail typed in the
form, whatever the client address: guessing one account's password, or mailing one person
reset links, from many addresses counts against the same budget.

Redis unavailable (down, frozen): every limit keeps counting in this process's memory (the
same limits, Flask-Limiter's in-memory fallback) and Redis is probed again with a growing
pause; calls to it time out after RATELIMIT_REDIS_TIMEOUT seconds. Per limit, that is:

- log-in, 2FA codes, sign-up, e-mail resend, posting, API: *fail open to a per-process
  budget* — a citizen can still sign in and take part; an attacker gets at most the budget
  times the number of processes (gunicorn workers) for the length of the outage;
- password reset per account: the same per-process budget; refusing every reset during an
  outage would lock out exactly the people who need one, and the budget (3 an hour) times
  two workers still stops a mail bomb.

No limit fails closed: none protects anything that a few more attempts during an outage
would expose (passwords are argon2 with a policy, 2FA codes are limited per account too).
See docs/features/resilience.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

SITE_ENVIRON_KEY = "pnyx.site"  # tenants.web.SITE_ENVIRON_KEY (no import: core knows no tenants)


def site_key() -> str:
    """The site the request was resolved to: ``t<id>-<slug>`` or ``platform``."""
    site = request.environ.get(SITE_ENVIRON_KEY)
    tenant = getattr(site, "tenant", None)
    if tenant is not None:
        # The slug too: test databases are recreated with the same ids, never the same slugs.
        return f"t{tenant.id}-{tenant.slug}"
    # The platform, and every unknown host (they route like the platform): one budget, so
    # inventing Host headers buys nothing.
    return "platform"


def client_key() -> str:
    """Per client address and per site: a flood on one city must not lock out another."""
    return f"{site_key()}|{get_remote_address()}"


def posting_key() -> str:
    """The logged-in account on this site; else the client address on this site.

    The site names a tenant by its slug as well as its id, so a recreated tenant (same id in
    a new database) never inherits old counters; tenant and platform accounts never share a
    budget either."""
    if current_user.is_authenticated:
        return f"{site_key()}|u{current_user.id}"
    return client_key()


def normalised_email(raw: str | None) -> str:
    return (raw or "").strip().casefold()


def account_key(field: str = "email") -> str:
    """Per account typed in the form (the normalised e-mail, hashed: keys stay short and no
    address sits in Redis), on this site, whatever the client address."""
    email = normalised_email(request.form.get(field))
    digest = hashlib.sha256(email.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return f"{site_key()}|account|{digest}"


def failed_login(response) -> bool:
    """A log-in attempt counts against the account only when it fails (the form comes back):
    the owner signing in is never slowed by their own successes."""
    return response.status_code < 300 or response.status_code >= 400


limiter = Limiter(key_func=client_key, key_prefix="pnyx-limits", in_memory_fallback_enabled=True)


def storage_uri(redis_url: str) -> str:
    """The limits library spells a unix socket ``redis+unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def init_app(app: Flask) -> None:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config["REDIS_URL"]))
    timeout = float(app.config.setdefault("RATELIMIT_REDIS_TIMEOUT", 0.25))
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis", "rediss")):
        # A frozen Redis must not hold a log-in for seconds: short timeouts, no retries
        # (redis-py retries three times with back-off by default), then the fallback.
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "retry": Retry(NoBackoff(), 0),
            },
        )
    # No X-RateLimit-* headers: Flask-Limiter reads them back from Redis with two more round
    # trips per limited request (the public API doubled its cost). A refusal still says when
    # to come back: Retry-After is set on every 429 (core.errors).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # Redis down must not stop log-ins
    limiter.init_app(app)


# Shared limit strings, so every form of the same kind has the same budget.
LOGIN_LIMIT = "10 per minute;50 per hour"
# Failed log-ins per account, from any address: password spraying over many addresses.
LOGIN_ACCOUNT_LIMIT = "10 per 10 minutes;30 per hour"
SIGNUP_LIMIT = "5 per minute;20 per hour"
RESET_LIMIT = "5 per minute;20 per hour"
# Reset e-mails per account, from any address: no mail bomb of one person's mailbox.
RESET_ACCOUNT_LIMIT = "3 per hour;6 per day"
EMAIL_RESEND_LIMIT = "3 per minute;10 per hour"
TWO_FACTOR_LIMIT = "10 per minute;50 per hour"
# Publishing, per account and site: one budget shared by every form that publishes on a
# tenant (comments, arguments, reports, proposals…).
POSTING_LIMIT = "10 per minute;60 per hour"
POSTING_SCOPE = "pnyx-posting"


def posting_limit(
    view: Callable | None = None,
    *,
    limit: str = POSTING_LIMIT,
    scope: str | None = POSTING_SCOPE,
) -> Callable:
    """Decorate a view that publishes something: a limit on its POSTs per account and site
    (:func:`posting_key`), answered with 429 and a French page (core.errors).

    ``@posting_limit`` or ``@posting_limit(limit=..., scope=...)``: every view decorated with
    the same ``scope`` draws on one budget (by default, a person's comments, arguments,
    reports and proposals on a tenant share one); with ``scope=None``, each view has a
    budget of its own."""
    if scope is None:
        decorator = limiter.limit(limit, key_func=posting_key, methods=["POST"])
    else:
        decorator = limiter.shared_limit(limit, scope=scope, key_func=posting_key, methods=["POST"])
    return decorator(view) if view is not None else decorator
