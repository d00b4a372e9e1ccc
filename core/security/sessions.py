"""Session cookies signed per site.

Cookies are host-only already, but every site shares SECRET_KEY: without a per-site salt, a
user could copy their own cookie from lyon. to paris. and be taken for the user with the
same id there. The signature salt names the site (platform, or the tenant's id), so a
cookie from another site is simply invalid.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

PLATFORM_SALT = "pnyx-session:platform"


def tenant_salt(tenant_id: int) -> str:
    return f"pnyx-session:tenant:{tenant_id}"


def session_serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    """What signs the session cookie of the site named by ``salt`` (Flask's serializer and
    signer settings). Also used by the benchmarks to sign in their simulated users."""
    base = SecureCookieSessionInterface
    return URLSafeTimedSerializer(
        secret_key,
        salt=salt,
        serializer=base.serializer,
        signer_kwargs={"key_derivation": base.key_derivation, "digest_method": base.digest_method},
    )


class SiteSessionInterface(SecureCookieSessionInterface):
    #: (secret key, salt) -> serializer: built once, not twice per request (serializers are
    #: stateless, so threads may share them). Bounded: one entry per site and key.
    _serializers: dict[tuple, URLSafeTimedSerializer]
    MAX_SERIALIZERS = 10_000

    def __init__(self) -> None:
        self._serializers = {}

    def _site_salt(self) -> str:
        site = request.environ.get("pnyx.site") if request else None
        tenant = getattr(site, "tenant", None)
        return tenant_salt(tenant.id) if tenant else PLATFORM_SALT

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        salt = self._site_salt()
        key = (app.secret_key, salt)
        serializer = self._serializers.get(key)
        if serializer is not None:
            return serializer
        if len(self._serializers) >= self.MAX_SERIALIZERS:
            self._serializers.clear()
        serializer = self._serializers[key] = session_serializer(app.secret_key, salt)
        return serializer
