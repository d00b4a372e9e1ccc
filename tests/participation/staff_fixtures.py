"""Fixtures and helpers of the staff tests (imported explicitly by test_staff.py,
test_two_factor.py and test_authz_matrix.py).

``staff_app`` is the shared app when it has both the account pages and the staff pages;
until participation/__init__.py registers them, it is a fresh app wired here (Flask refuses
new blueprints on an app that has already served requests).
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from core.db import db
from tests.conftest import base_config
from tests.helpers import host_client
from tests.smtp import SMTPServer

PASSWORD = "Ornithorynque-Cardamome-1847"
STAFF_PREFIX = "/gestion"


# --------------------------------------------------------------------------- app and mail


@pytest.fixture(scope="session")
def staff_smtp(request):
    """The shared test SMTP server when one is provided, else one of our own."""
    for name in ("smtp_server", "smtp"):
        try:
            return request.getfixturevalue(name)
        except pytest.FixtureLookupError:
            continue
    server = SMTPServer().start()
    request.addfinalizer(server.stop)
    return server


@pytest.fixture(scope="session")
def staff_app(app, database_url, redis_url, staff_smtp):
    wired = app
    if "staff.home" not in app.view_functions or "accounts.login" not in app.view_functions:
        from core import create_app
        from participation import accounts, staff

        wired = create_app(base_config(database_url, redis_url))
        accounts.init_app(wired)
        staff.init_app(wired)
    wired.config.update(SMTP_HOST=staff_smtp.host, SMTP_PORT=staff_smtp.port)
    return wired


def ensure_legal_documents(app, tenant) -> None:
    from participation.accounts.legal import insert_default_legal_documents
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        insert_default_legal_documents(db.session.connection(), tenant.name)
        db.session.commit()


@pytest.fixture
def new_tenant(staff_app, make_tenant):
    """A tenant of this test alone (settings, first admin…)."""
    tenant = make_tenant()
    ensure_legal_documents(staff_app, tenant)
    return tenant


# --------------------------------------------------------------------------- clients


def random_address() -> str:
    return "10.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))


def client_on(app, tenant_or_host):
    """A client on a tenant's host with an address of its own (rate limits never leak)."""
    host = getattr(tenant_or_host, "primary_host", tenant_or_host)
    client = host_client(app, host)
    client.environ_base["REMOTE_ADDR"] = random_address()
    return client


def csrf_for(client) -> str:
    """A valid CSRF token for ``client``'s session (what a form page would contain)."""
    app = client.application
    with client.session_transaction(base_url=client.base_url) as sess:
        raw = sess.get("csrf_token") or secrets.token_hex(20)
        sess["csrf_token"] = raw
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def csrf_in(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def post(client, path: str, data: dict | None = None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_for(client), **(data or {})}, **kwargs)


def forge_session(client, tenant, user, verified: bool = True) -> None:
    """Log ``user`` in on ``client`` as a finished log-in would (fast path for the matrix):
    a session record (core.security.auth) and a cookie naming it."""
    from core.security.auth import SESSION_RECORD_KEY, issue_session_token
    from tenants.context import tenant_context

    with client.application.app_context(), tenant_context(tenant.id):
        token = issue_session_token("tenant", user.id)
    with client.session_transaction(base_url=client.base_url) as sess:
        sess.clear()
        sess["_user_id"] = f"t{tenant.id}:{user.id}:{user.session_version}"
        sess[SESSION_RECORD_KEY] = token
        sess["_fresh"] = True
        sess["pnyx_2fa"] = verified
        sess.permanent = True


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session", domain=client.base_url.split("://", 1)[1])
    return cookie.value if cookie is not None else None


def login_path(app, tenant) -> str:
    with app.test_request_context("/", base_url=f"http://{tenant.primary_host}"):
        from flask import url_for

        return url_for("accounts.login")


# --------------------------------------------------------------------------- codes


def totp_now(secret: str, step_offset: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(int(time.time()) + step_offset * totp.interval)


def fresh_code(secret: str, last_step: int | None) -> str:
    """A code the anti-replay check accepts after ``last_step`` (the next step if need be)."""
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // totp.interval
    step = now_step if last_step is None or last_step < now_step else now_step + 1
    return totp.at(step * totp.interval)


# --------------------------------------------------------------------------- data


def unique_email(prefix: str = "agent") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@exemple.fr"


@dataclass
class Person:
    id: int
    email: str
    display_name: str
    session_version: int
    secret: str | None
    role: str | None


def create_person(
    app,
    tenant,
    role: str | None = None,
    *,
    email: str | None = None,
    display_name: str | None = None,
    totp: bool = True,
    services: tuple[str, ...] = (),
    password: str = PASSWORD,
) -> Person:
    """A confirmed account (staff when ``role`` is given), terms accepted, TOTP enrolled."""
    from core.security.passwords import hash_password
    from participation.accounts.models import Service, StaffRole, User
    from participation.accounts.services import accept_current_legal_documents
    from tenants.context import tenant_context

    email = email or unique_email(role or "citoyen")
    secret = pyotp.random_base32() if role and totp else None
    with app.app_context(), tenant_context(tenant):
        user = User(
            email=email,
            display_name=display_name or f"{(role or 'citoyen').title()} {email[:12]}",
            password_hash=hash_password(password),
            email_confirmed_at=datetime.now(UTC),
            staff_role=StaffRole(role) if role else None,
            totp_secret=secret,
            totp_enabled=bool(secret),
        )
        db.session.add(user)
        db.session.flush()
        accept_current_legal_documents(user)
        for name in services:
            service = db.session.scalar(sa.select(Service).where(Service.name == name))
            if service is None:
                service = Service(name=name)
                db.session.add(service)
            user.services.append(service)
        db.session.commit()
        return Person(user.id, email, user.display_name, user.session_version, secret, role)


def read_user(app, tenant, user_id: int):
    from participation.accounts.models import User
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        user = db.session.get(User, user_id)
        if user is None:
            return None
        return {
            "staff_role": user.staff_role.value if user.staff_role else None,
            "services": sorted(s.name for s in user.services),
            "session_version": user.session_version,
            "totp_enabled": user.totp_enabled,
            "totp_last_step": user.totp_last_step,
            "recovery_codes": list(user.recovery_codes or []),
            "email_confirmed": user.email_confirmed_at is not None,
            "display_name": user.display_name,
        }


def audit_rows(app, tenant, action: str | None = None) -> list[dict]:
    from core.audit import AuditEntry
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        query = sa.select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return [
            {
                "action": e.action,
                "actor_id": e.actor_id,
                "actor_label": e.actor_label,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "details": e.details,
                "occurred_at": e.occurred_at,
            }
            for e in db.session.scalars(query)
        ]


def setting(app, tenant, key: str):
    from tenants.context import tenant_context
    from tenants.models import TenantSetting

    with app.app_context(), tenant_context(tenant):
        row = db.session.get(TenantSetting, key)
        return row.value if row is not None else None


FINGERPRINT_TABLES = (
    "audit_log",
    "invitations",
    "services",
    "neighbourhoods",
    "users",
    "user_services",
    "settings",
)


#: A row as the fingerprints see it: every column but the visit dates that any signed-in
#: request may write once a day (participation.accounts.retention.touch_last_seen).
ROW_WITHOUT_VISIT_DATES = "to_jsonb(t) - 'last_seen_at' - 'inactivity_warned_at'"


def fingerprint(app, tenant) -> dict[str, str]:
    """A digest of every row of the tables the staff pages write: equal means untouched."""
    out = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in FINGERPRINT_TABLES:
            out[table] = conn.scalar(
                sa.text(
                    f"SELECT md5(coalesce(string_agg(row_digest, '|' ORDER BY row_digest), '')) "
                    f"FROM (SELECT ({ROW_WITHOUT_VISIT_DATES})::text AS row_digest "
                    f'FROM "{tenant.schema}"."{table}" t) rows'
                )
            )
    return out


def logged_in(app, tenant, role: str | None, **kwargs):
    """A new person with ``role`` and a client whose session is theirs (second factor given)."""
    person = create_person(app, tenant, role, **kwargs)
    client = client_on(app, tenant)
    forge_session(client, tenant, person, verified=True)
    return client, person


def path_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def text(response) -> str:
    """The page's HTML with entities decoded (Jinja escapes ' as &#39;)."""
    import html

    return html.unescape(response.get_data(as_text=True))
