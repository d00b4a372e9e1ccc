"""Fixtures of the participation tests: an app with the accounts wired, clients with an
address of their own, a real SMTP server, user factories and a log-in helper."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime

import pytest

from core.db import db
from tests.conftest import base_config
from tests.helpers import host_client

PASSWORD = "Ornithorynque-Cardamome-1847"


@pytest.fixture(scope="session")
def smtp(smtp_server):
    """The session's real SMTP server (tests/conftest.py); tests pick their messages by
    recipient, every address being unique to its test."""
    return smtp_server


@pytest.fixture(scope="session")
def app(app, database_url, redis_url, smtp):
    """The app with the account pages (``app`` above has migrated the database).

    Until participation/__init__.py calls ``participation.accounts.init_app``, a fresh app
    is wired here (the shared one may already have served requests, after which Flask
    refuses new blueprints); once it does, the shared app is used as it is.
    """
    wired = app
    if "accounts.login" not in app.view_functions:
        from core import create_app
        from participation.accounts import init_app

        wired = create_app(base_config(database_url, redis_url))
        init_app(wired)
    wired.config.update(SMTP_HOST=smtp.host, SMTP_PORT=smtp.port)
    return wired


def ensure_legal_documents(app, tenant) -> None:
    """Tenants provisioned before the accounts hook was registered get the texts too."""
    from participation.accounts.legal import insert_default_legal_documents
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        insert_default_legal_documents(db.session.connection(), tenant.name)
        db.session.commit()


@pytest.fixture(scope="session", autouse=True)
def _legal_documents(app, tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)


@pytest.fixture
def own_tenant(app, make_tenant):
    """A tenant of this test alone (for changes that would disturb other tests)."""
    tenant = make_tenant()
    ensure_legal_documents(app, tenant)
    return tenant


def random_address() -> str:
    return "10.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))


def make_client(app, tenant, address: str | None = None):
    """A client on ``tenant``'s host with an address of its own, so that rate-limit
    counters never leak between tests."""
    client = host_client(app, tenant.primary_host)
    client.environ_base["REMOTE_ADDR"] = address or random_address()
    return client


@pytest.fixture
def client_a(app, tenant_a):
    return make_client(app, tenant_a)


@pytest.fixture
def client_b(app, tenant_b):
    return make_client(app, tenant_b)


def unique_email(prefix: str = "camille") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@exemple.fr"


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def post_form(client, path: str, data: dict, page: str | None = None, **kwargs):
    """Open ``page`` (default: ``path``), take its CSRF token, then post ``data``."""
    response = client.get(page or path)
    token = csrf_token(response.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def login(client, email: str, password: str = PASSWORD, **kwargs):
    return post_form(client, "/connexion", {"email": email, "password": password}, **kwargs)


def create_user(
    app,
    tenant,
    email: str | None = None,
    *,
    password: str = PASSWORD,
    display_name: str = "Camille Martin",
    confirmed: bool = True,
    **attributes,
):
    """A user made through the services inside the tenant; returns a detached copy."""
    from participation.accounts import services
    from tenants.context import tenant_context

    email = email or unique_email()
    with app.app_context(), tenant_context(tenant):
        user = services.register_user(
            display_name, email, password, accepted_terms=True, accepted_charter=True
        )
        assert user is not None, f"{email} already has an account"
        if confirmed:
            user.email_confirmed_at = datetime.now(UTC)
        for name, value in attributes.items():
            setattr(user, name, value)
        db.session.flush()
        user_id = user.id
        db.session.commit()
    return load_user(app, tenant, user_id)


def load_user(app, tenant, user_id: int):
    from participation.accounts.models import User
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        user = db.session.get(User, user_id)
        if user is not None:
            db.session.refresh(user)
            db.session.expunge(user)
        return user


def find_user(app, tenant, email: str):
    from participation.accounts import services
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        user = services.get_user_by_email(email)
        if user is not None:
            db.session.expunge(user)
        return user


@pytest.fixture
def user_factory(app, tenant_a):
    def make(tenant=None, **kwargs):
        return create_user(app, tenant or tenant_a, **kwargs)

    return make
