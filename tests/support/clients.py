"""Test clients: one host per client, an address of its own (rate-limit counters never leak
between tests), CSRF tokens, and sessions forged as a finished log-in leaves them."""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from tests.support.constants import PASSWORD, PLATFORM


class HostClient(FlaskClient):
    """A test client whose requests all go to one host (``Host`` header and URL)."""

    def __init__(self, *args, host: str = "localhost", scheme: str = "http", **kwargs):
        super().__init__(*args, **kwargs)
        self.base_url = f"{scheme}://{host}"

    def open(self, *args, **kwargs):
        if not kwargs.get("base_url") and not (args and not isinstance(args[0], str)):
            kwargs["base_url"] = self.base_url
        return super().open(*args, **kwargs)


def host_client(app, host: str, scheme: str = "http") -> HostClient:
    return HostClient(app, app.response_class, use_cookies=True, host=host, scheme=scheme)


def random_address() -> str:
    return "10.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))


def client_on(app, tenant_or_host, address: str | None = None) -> HostClient:
    """A client on a tenant's host (or any host) with an address of its own."""
    host = getattr(tenant_or_host, "primary_host", tenant_or_host)
    client = host_client(app, host)
    client.environ_base["REMOTE_ADDR"] = address or random_address()
    return client


# --------------------------------------------------------------------------- CSRF and forms


def csrf_in(page: str) -> str:
    """The CSRF token of a form page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def csrf_for(client) -> str:
    """A valid CSRF token for ``client``'s session (what a form page would contain)."""
    app = client.application
    with client.session_transaction(base_url=client.base_url) as sess:
        raw = sess.get("csrf_token") or secrets.token_hex(20)
        sess["csrf_token"] = raw
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST ``data`` with a valid CSRF token, without opening the form page."""
    return client.post(path, data={"csrf_token": csrf_for(client), **(data or {})}, **kwargs)


def post_form(client, path: str, data: dict, page: str | None = None, **kwargs):
    """Open ``page`` (default: ``path``), take its CSRF token, then post ``data``."""
    response = client.get(page or path)
    token = csrf_in(response.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def login(client, email: str, password: str = PASSWORD, **kwargs):
    """Log in through the tenant's log-in form."""
    return post_form(client, "/connexion", {"email": email, "password": password}, **kwargs)


def text(response) -> str:
    """The page's HTML with entities decoded (Jinja escapes ' as &#39;)."""
    return html.unescape(response.get_data(as_text=True))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --------------------------------------------------------------------------- sessions


def forge_session(client, tenant, user, verified: bool = True) -> None:
    """Log ``user`` (anything with ``id`` and ``session_version``) in on ``client`` as a
    finished log-in would: a session record (core.security.auth) and a cookie naming it."""
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


def platform_client(app, user_id: int | None = None, verified: bool = True) -> HostClient:
    """A client on the platform host, logged in as the platform account ``user_id`` (second
    factor given unless ``verified`` is false); anonymous when ``user_id`` is None."""
    client = client_on(app, PLATFORM)
    if user_id is not None:
        from core.db import db
        from core.security.auth import SESSION_RECORD_KEY, issue_session_token
        from tenants.platform.models import PlatformUser

        with app.app_context():
            version = db.session.get(PlatformUser, user_id).session_version
            token = issue_session_token("platform", user_id)
        with client.session_transaction(base_url=client.base_url) as sess:
            sess["_user_id"] = f"p:{user_id}:{version}"
            sess[SESSION_RECORD_KEY] = token
            sess["_fresh"] = True
            sess["pnyx_2fa"] = verified
    return client


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session", domain=client.base_url.split("://", 1)[1])
    return cookie.value if cookie is not None else None


def login_path(app, tenant) -> str:
    with app.test_request_context("/", base_url=f"http://{tenant.primary_host}"):
        from flask import url_for

        return url_for("accounts.login")
