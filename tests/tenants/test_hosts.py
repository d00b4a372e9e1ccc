"""Host matrix: which host opens which site, and what each tenant state allows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Blueprint, jsonify, session
from markupsafe import escape

from core.db import db
from core.routing import TENANT_SITE
from tenants.models import Tenant
from tenants.resolver import normalise_host
from tests.support import PLATFORM, base_config, host_client


@pytest.fixture(scope="module")
def write_app(database_url, redis_url):
    """An app with a tiny write route, and one that puts something in the session."""
    from core import create_app

    app = create_app(base_config(database_url, redis_url, WTF_CSRF_ENABLED=False))
    bp = Blueprint("hosts_test", __name__)

    @bp.post("/_t/write")
    def write():
        return jsonify({"written": True})

    @bp.get("/_t/session")
    def set_session():
        session["seen"] = True
        return "ok"

    app.register_blueprint(bp, subdomain=TENANT_SITE)
    return app


def _set_status(app, tenant_id: int, status: str) -> None:
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        tenant.status = status
        db.session.commit()  # the commit invalidates the host cache


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mulhouse.Pnyx.FR", "mulhouse.pnyx.fr"),
        ("mulhouse.pnyx.fr.", "mulhouse.pnyx.fr"),
        ("MULHOUSE.PNYX.FR.:443", "mulhouse.pnyx.fr"),
        ("mulhouse.pnyx.localhost:5000", "mulhouse.pnyx.localhost"),
        ("[::1]:5000", "[::1]"),
        ("", ""),
    ],
)
def test_host_normalisation(raw, expected):
    assert normalise_host(raw) == expected


def test_platform_host_serves_the_platform_site(platform_client):
    response = platform_client.get("/")
    assert response.status_code == 200
    assert "la participation citoyenne des territoires" in response.text
    # Tenant routes do not exist on the platform host.
    assert platform_client.get("/api/v1/tenant").status_code == 404


def test_tenant_subdomain_serves_its_space(client_for, tenant_a):
    response = client_for(tenant_a.primary_host).get("/api/v1/tenant")
    assert response.status_code == 200
    assert response.json == {
        "slug": tenant_a.slug,
        "name": tenant_a.name,
        "kind": "commune",
        "code": tenant_a.code,
        "population": tenant_a.population,
        "status": "active",
    }
    home = client_for(tenant_a.primary_host).get("/")
    # As the page writes it: « Saint-Cyr-l'École » is escaped (&#39;).
    assert home.status_code == 200 and str(escape(tenant_a.name)) in home.text


def test_unknown_host_is_404_in_french(client_for):
    for host in ("inconnue.pnyx.test", "pnyx.test.evil.example", "example.org"):
        response = client_for(host).get("/")
        assert response.status_code == 404
        assert "Aucun espace de participation" in response.text
        assert client_for(host).get("/api/v1/tenant").status_code == 404


def test_upper_case_host_and_trailing_dot_resolve(client_for, tenant_a):
    for host in (tenant_a.primary_host.upper(), tenant_a.primary_host + "."):
        response = client_for(host).get("/api/v1/tenant")
        assert response.status_code == 200 and response.json["slug"] == tenant_a.slug


def test_forged_x_forwarded_host_is_ignored(platform_client, client_for, tenant_a, tenant_b):
    forged = {"X-Forwarded-Host": tenant_a.primary_host}
    assert platform_client.get("/api/v1/tenant", headers=forged).status_code == 404
    response = client_for(tenant_b.primary_host).get("/api/v1/tenant", headers=forged)
    assert response.json["slug"] == tenant_b.slug


def test_x_forwarded_host_is_honoured_behind_a_trusted_proxy(database_url, redis_url, tenant_a):
    from core import create_app

    app = create_app(base_config(database_url, redis_url, TRUSTED_PROXY_COUNT=1))
    client = host_client(app, "10.0.0.5")
    response = client.get("/api/v1/tenant", headers={"X-Forwarded-Host": tenant_a.primary_host})
    assert response.status_code == 200 and response.json["slug"] == tenant_a.slug


def test_custom_domain(make_tenant, client_for):
    ref = make_tenant(custom_domain="Participez.Exemple-Ville.FR")
    assert ref.primary_host == "participez.exemple-ville.fr"
    for host in ("participez.exemple-ville.fr", f"{ref.slug}.{PLATFORM}"):
        response = client_for(host).get("/api/v1/tenant")
        assert response.status_code == 200 and response.json["slug"] == ref.slug


def test_provisioning_tenant_is_503(make_tenant, client_for):
    ref = make_tenant(provision=False)
    response = client_for(ref.primary_host).get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "en cours de création" in response.text


def test_suspended_tenant_reads_but_refuses_writes(write_app, make_tenant):
    ref = make_tenant()
    client = host_client(write_app, ref.primary_host)
    assert client.post("/_t/write").status_code == 200
    _set_status(write_app, ref.id, "suspended")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/tenant").json["status"] == "suspended"
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/_t/write")
        assert response.status_code == 403
        assert "suspendu" in response.text
    _set_status(write_app, ref.id, "active")
    assert client.post("/_t/write").status_code == 200


def test_archived_tenant_is_404(write_app, make_tenant):
    ref = make_tenant()
    client = host_client(write_app, ref.primary_host)
    assert client.get("/").status_code == 200
    _set_status(write_app, ref.id, "archived")
    assert client.get("/").status_code == 404


def test_healthz_answers_on_every_host(client_for, platform_client, tenant_a):
    for client in (platform_client, client_for(tenant_a.primary_host), client_for("x.example")):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_session_cookie_is_host_only(write_app, tenant_a):
    client = host_client(write_app, tenant_a.primary_host)
    response = client.get("/_t/session")
    cookie = response.headers["Set-Cookie"]
    assert "session=" in cookie
    assert "domain" not in cookie.lower()
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # And the browser-side view: the cookie is not sent to another tenant's host.
    assert client.get_cookie("session", domain=tenant_a.primary_host) is not None


def test_cache_invalidation_reaches_another_process(database_url, redis_url, make_tenant):
    """Two apps (as two gunicorn workers): a change committed by one is seen by the other."""
    from core import create_app

    ref = make_tenant()
    config = base_config(
        database_url, redis_url, TENANT_CACHE_TTL=3600, TENANT_CACHE_CHECK_INTERVAL=0.0
    )
    worker_1, worker_2 = create_app(config), create_app(config)
    assert host_client(worker_2, ref.primary_host).get("/").status_code == 200  # cached
    _set_status(worker_1, ref.id, "archived")
    assert host_client(worker_2, ref.primary_host).get("/").status_code == 404


def test_ttl_expiry_without_invalidation(database_url, redis_url, make_tenant):
    from core import create_app

    ref = make_tenant()
    app = create_app(
        base_config(database_url, redis_url, TENANT_CACHE_TTL=0.0, TENANT_CACHE_CHECK_INTERVAL=3600)
    )
    client = host_client(app, ref.primary_host)
    assert client.get("/").status_code == 200
    with app.app_context():  # a raw change that no hook sees: only the TTL helps
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE public.tenants SET status='archived' WHERE id=:i"), {"i": ref.id}
            )
    assert client.get("/").status_code == 404
