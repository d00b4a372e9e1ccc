"""Billing: plans, subscriptions, Stripe, invoices (public schema only).

``init_app`` registers the Stripe webhook, the operator console and the verification of
sign-ups (``billing.verification``) on the platform site, the admins' billing pages on
tenant sites (/gestion/abonnement), the read-only write guard, the plan-limit safety net
(and the answer to ``tenants.plan_limits``) and the ``flask billing`` commands. Idempotent.

Settings (read from the app config, else the environment): STRIPE_SECRET_KEY,
STRIPE_WEBHOOK_SECRET, STRIPE_TAX_RATE_ID, BILLING_GRACE_DAYS (45), BILLING_RETENTION_DAYS
(90), BILLING_TRIAL_DAYS (30).
"""

from __future__ import annotations

import os

from flask import Flask

SETTINGS = {
    "STRIPE_SECRET_KEY": "",
    "STRIPE_WEBHOOK_SECRET": "",
    "STRIPE_TAX_RATE_ID": "",
    "BILLING_GRACE_DAYS": 45,
    "BILLING_RETENTION_DAYS": 90,
    "BILLING_TRIAL_DAYS": 30,
}


def _load_settings(app: Flask) -> None:
    for key, default in SETTINGS.items():
        raw = app.config.get(key, os.environ.get(key, default))
        if isinstance(default, int):
            app.config[key] = int(raw) if raw not in (None, "") else default
        else:
            app.config[key] = raw or ""


def fast_write_guard(tenant) -> str | None:
    """``tenants.web.write_guards`` entry, cheap on the hot path: the billing state comes
    from the per-process cache (no query on a warm write); only when it says read-only is
    the full guard (billing.notices.write_guard) consulted, which reads the subscription
    from the database and builds the French message."""
    from billing.models import READ_ONLY_STATES
    from billing.notices import write_guard
    from billing.services import cached_effective_state

    if cached_effective_state(tenant.id) not in READ_ONLY_STATES:
        return None
    return write_guard(tenant)


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from billing import demo, limits, verification  # noqa: F401 - demo registers its seeder
    from billing.cli import billing_cli
    from billing.labels import cents_eur
    from billing.limits import PlanLimitExceeded, install_process_guard
    from billing.models import Subscription
    from billing.notices import flash_admin_notice, write_guard
    from billing.operator_views import bp as operator_bp
    from billing.views import admin_bp, webhook_bp
    from core import navigation
    from core.routing import TENANT_SITE
    from tenants import plan_limits, web

    _load_settings(app)
    from tenants import cache as tenant_values

    # A subscription written by anyone (webhook, sweep, operator, raw SQL) drops the cached
    # billing state of every tenant, in every process (fast_write_guard reads it).
    tenant_values.watch_all_tenants(Subscription)
    if write_guard in web.write_guards:  # an older registration: the fast guard replaces it
        web.write_guards.remove(write_guard)
    if fast_write_guard not in web.write_guards:
        web.write_guards.append(fast_write_guard)
    install_process_guard()
    # The features below billing ask tenants.plan_limits what the plan allows: billing answers.
    plan_limits.install(app, limits)
    app.jinja_env.filters.setdefault("cents_eur", cents_eur)
    if "billing_admin" in app.blueprints:
        return
    # Platform site: no subdomain marker. Tenant site: the "tenant" marker.
    app.register_blueprint(webhook_bp)
    app.register_blueprint(operator_bp)
    verification.init_app(app)
    app.register_blueprint(admin_bp, subdomain=TENANT_SITE)
    app.cli.add_command(billing_cli)
    navigation.register_nav_entry(
        app,
        "staff",
        "billing_admin.index",
        _l("Abonnement"),
        100,
        visible=lambda user: getattr(user, "staff_role", None) == "admin",
        current=["billing_admin."],
    )

    @app.before_request
    def _billing_banner():
        from flask import g, request

        from billing.models import BillingState
        from billing.services import cached_effective_state

        site = g.get("site")
        if site is None or site.kind != "tenant" or site.tenant is None:
            return
        # Only staff pages carry the banner; an active (or absent) subscription has nothing
        # to say, and the cached state tells so without a query.
        if request.method != "GET" or not (request.endpoint or "").startswith("staff."):
            return
        if cached_effective_state(site.tenant.id) in (None, BillingState.ACTIVE):
            return
        flash_admin_notice(site.tenant)

    @app.errorhandler(PlanLimitExceeded)
    def _plan_limit(exc: PlanLimitExceeded):
        from core.db import db
        from core.errors import render_error

        db.session.rollback()
        return render_error(403, str(exc))

    from billing.signup_views import init_signup

    init_signup(app)  # the self-service sign-up pages, on the platform site
