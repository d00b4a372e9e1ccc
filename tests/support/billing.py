"""Billing for the tests (fixtures loaded by tests/conftest.py): the app with the plans
seeded, Stripe absent or a fake Stripe behind the real library, tenants of a village's size
(every commune plan fits them) with a subscription and invoices, logged-in admins and
operators, signed webhook deliveries."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from core.db import db
from tests.support.clients import platform_client
from tests.support.constants import PASSWORD
from tests.support.fake_stripe import WEBHOOK_SECRET, FakeStripe, signed_headers
from tests.support.people import logged_in, password_hash


def price_id(code: str) -> str:
    return "price_" + code.replace("-", "_")


@pytest.fixture(scope="session")
def billing_app(app):
    """The session's app, the plans seeded with a Stripe price each."""
    from billing.catalogue import seed_plans
    from billing.models import Plan

    with app.app_context():
        seed_plans()
        for plan in db.session.scalars(sa.select(Plan)):
            plan.stripe_price_id = plan.stripe_price_id or price_id(plan.code)
        db.session.commit()
    return app


@pytest.fixture
def no_stripe(billing_app):
    """Stripe not configured (the demo): no key, no webhook secret."""
    from billing.stripe_client import use_http_client

    saved = {k: billing_app.config.get(k) for k in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")}
    billing_app.config.update(STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="")
    use_http_client(billing_app, None)
    yield
    billing_app.config.update(saved)


@pytest.fixture
def fake_stripe(billing_app):
    """The real stripe library, configured, talking to a :class:`FakeStripe`."""
    from billing.stripe_client import use_http_client

    saved = {k: billing_app.config.get(k) for k in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")}
    fake = FakeStripe()
    billing_app.config.update(
        STRIPE_SECRET_KEY="sk_test_pnyx", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    use_http_client(billing_app, fake)
    yield fake
    billing_app.config.update(saved)
    use_http_client(billing_app, None)


#: The population the billing tests give their tenants: every commune plan fits a village
#: (its own stratum or above), so a test may pick any of them (billing refuses a plan of a
#: stratum below the population, issue 13 §6).
VILLAGE = 2_000


def set_population(app, tenant, population: int):
    """Give ``tenant`` this population; returns the refreshed snapshot."""
    from tenants.context import load_tenant_ref

    with app.app_context():
        db.session.execute(
            sa.text("UPDATE public.tenants SET population = :population WHERE id = :id"),
            {"population": population, "id": tenant.id},
        )
        db.session.commit()
        return load_tenant_ref(tenant.id)


@pytest.fixture
def billing_tenant(billing_app, make_tenant):
    """A provisioned tenant of this test alone (legal texts in place, no subscription), a
    village: every commune plan is open to it."""
    return set_population(billing_app, make_tenant(), VILLAGE)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def subscribe(app, tenant, plan_code: str | None = None, **fields) -> int:
    """A subscription row for ``tenant`` (trial by default); returns its id."""
    from billing import services
    from billing.models import Subscription

    with app.app_context():
        plan_code = plan_code or services.plan_for_population("commune", tenant.population).code
        plan = services.get_plan(plan_code)
        if not services.plan_fits(plan, tenant.population):
            # The tests pick plans freely; the tenant becomes a village for them to fit.
            db.session.execute(
                sa.text("UPDATE public.tenants SET population = :population WHERE id = :id"),
                {"population": VILLAGE, "id": tenant.id},
            )
        sub = services.get_subscription(tenant.id)
        if sub is None:
            sub = Subscription(tenant_id=tenant.id, state="trialing", plan=plan)
            db.session.add(sub)
        sub.plan = plan
        for key, value in fields.items():
            setattr(sub, key, value)
        db.session.commit()
        return sub.id


def add_invoice(app, tenant, **fields) -> int:
    from billing import services
    from billing.models import Invoice

    with app.app_context():
        sub = services.get_subscription(tenant.id)
        values = {
            "status": "open",
            "number": f"PNYX-T-{uuid.uuid4().hex[:6]}",
            "total_cents": 58_800,
            "amount_due_cents": 58_800,
        }
        values.update(fields)
        invoice = Invoice(tenant_id=tenant.id, subscription_id=sub.id if sub else None, **values)
        db.session.add(invoice)
        db.session.commit()
        return invoice.id


def read_subscription(app, tenant) -> dict:
    from billing import services

    with app.app_context():
        sub = services.get_subscription(tenant.id)
        if sub is None:
            return {}
        data = {c.key: getattr(sub, c.key) for c in sa.inspect(sub).mapper.column_attrs}
        data["plan_code"] = sub.plan.code
        return data


def refresh(app, tenant, now: datetime) -> str:
    from billing import services

    with app.app_context():
        sub = services.get_subscription(tenant.id, lock=True)
        state = services.refresh_state(sub, now)
        db.session.commit()
        return state


def admin_client(app, tenant):
    """A client signed in as a new admin of ``tenant`` (second factor given)."""
    return logged_in(app, tenant, "admin")


def operator_client(app):
    """A client signed in as a new operator (TOTP enrolled and given) on the platform site."""
    from tenants.platform.services import create_platform_user, enable_totp_with_secret

    with app.app_context():
        user = create_platform_user(
            f"ops-{uuid.uuid4().hex[:8]}@exemple.fr", "Camille Opératrice", "operator"
        )
        user.password_hash = password_hash(PASSWORD)
        enable_totp_with_secret(user, pyotp.random_base32())
        db.session.commit()
        user_id = user.id
    return platform_client(app, user_id), user_id


def deliver(client, event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """POST ``event`` to the webhook, signed like Stripe does."""
    payload = json.dumps(event)
    return client.post(
        "/billing/stripe/webhook",
        data=payload,
        headers={"Content-Type": "application/json", **signed_headers(payload, secret, timestamp)},
    )


def siret_for(app, tenant) -> str:
    """A valid SIRET of ``tenant`` (a few overseas collectivités have no SIREN in the
    official data: any valid SIRET is then accepted)."""
    from billing.siret import complete_siret
    from tenants.models import Tenant

    with app.app_context():
        siren = db.session.get(Tenant, tenant.id).siren
    return complete_siret(siren or "216802249")


def days(n: float) -> timedelta:
    return timedelta(days=n)
