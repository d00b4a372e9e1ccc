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


class SiteSessionInterface(SecureCookieSessionInterface):
    def _site_salt(self) -> str:
        site = request.environ.get("pnyx.site") if request else None
        tenant = getattr(site, "tenant", None)
        return f"pnyx-session:tenant:{tenant.id}" if tenant else "pnyx-session:platform"

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        return URLSafeTimedSerializer(
            app.secret_key,
            salt=self._site_salt(),
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
