from __future__ import annotations

from core import create_app
from tests.support import PLATFORM, base_config, host_client


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


def test_security_headers_on_both_sites(platform_client, client_for, tenant_a):
    for client in (platform_client, client_for(tenant_a.primary_host)):
        response = client.get("/")
        csp = _csp(response)
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert csp["script-src"] == "script-src 'self'"
        assert csp["frame-ancestors"] == "frame-ancestors 'none'"
        assert csp["object-src"] == "object-src 'none'"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in response.headers  # not in development


def test_production_adds_hsts_and_secure_cookies(database_url, redis_url):
    app = create_app(
        base_config(
            database_url,
            redis_url,
            PNYX_ENV="production",
            SECRET_KEY="x" * 48,
            SESSION_COOKIE_SECURE=False,
        )
    )
    response = host_client(app, PLATFORM, scheme="https").get("/langue/en?next=/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "domain" not in cookie.lower()
