"""Browser tests: the real app behind a live HTTP server, driven by headless Chromium.

- ``live_server`` (session): its own app instance on the test database, served by Werkzeug
  on 127.0.0.1 in a daemon thread. The platform domain is ``pnyx.localhost:PORT``; Chromium
  resolves every ``*.localhost`` name to the loopback address, so tenant sites are
  ``http://<slug>.pnyx.localhost:PORT/``. Under xdist each worker has its own server (and
  its own database, from ``database_url``).
- ``live_tenant`` (session): one provisioned tenant on that server; ``make_live_tenant()``
  gives a module or a test one of its own.
- ``browser`` (session): one Chromium (Debian's ``/usr/bin/chromium``; Playwright's own
  browsers cannot be downloaded here); ``page`` gets a fresh context per test (fr-FR), so
  tests share no cookies or storage; ``open_page()`` gives another one (a second person).
- The live app mails to the session's test SMTP server (``smtp_server``); ``mail_link``
  waits for a message and returns the link it contains. ``follow`` clicks (or presses)
  something that loads a new page and checks that page like ``visit`` does.

Every test in this folder is marked ``browser`` (``pytest -m "not browser"`` skips them).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.support import base_config

pytest.register_assert_rewrite("tests.browser.axe")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCALE = "fr-FR"
TIMEOUT_MS = 10_000
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    marker = pytest.mark.browser
    for item in items:
        if item.path.is_relative_to(HERE) and item.get_closest_marker("browser") is None:
            item.add_marker(marker)


# --------------------------------------------------------------------------- live server


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code="-", size="-") -> None:
        pass


class _LateBoundApp:
    """The server binds its port before the app exists: the app's platform domain needs
    the port, and letting the OS pick it (port 0) leaves no window for another process
    to take it between choosing and binding."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass(frozen=True)
class LiveServer:
    app: object
    port: int

    @property
    def platform_host(self) -> str:
        return f"pnyx.localhost:{self.port}"

    @property
    def url(self) -> str:
        """The platform site's base URL, without a trailing slash."""
        return f"http://{self.platform_host}"

    def url_for_host(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


@dataclass(frozen=True)
class LiveTenant:
    ref: object  # tenants.context.TenantRef
    url: str  # base URL, without a trailing slash

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def slug(self) -> str:
        return self.ref.slug

    def page_url(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(database_url, redis_url, smtp_server) -> Iterator[LiveServer]:
    # smtp_server first: base_config() copies its address into the app's SMTP settings, so
    # the live app's mail (confirmations, invitations) reaches the test SMTP server.
    from core import create_app
    from core.db import db
    from tenants.migrate import upgrade_public

    late_app = _LateBoundApp()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, late_app, threaded=True, request_handler=_QuietHandler
    )
    port = server.server_port
    app = create_app(base_config(database_url, redis_url, PLATFORM_DOMAIN=f"pnyx.localhost:{port}"))
    with app.app_context():
        upgrade_public(db.engine)
    late_app.app = app
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="live-server", daemon=True
    )
    thread.start()
    try:
        yield LiveServer(app=app, port=port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def make_live_tenant(live_server):
    """``make_live_tenant()``: a provisioned tenant on the live server's platform domain, from
    a pool of its own (tests/support/tenants.py), kept until the end of the fixture or test
    that asked for it."""
    from tests.support.plugin import lease_owner
    from tests.support.tenants import TenantFactory, TenantPool

    pool = TenantPool(live_server.app, platform=live_server.platform_host)

    def lease(tenant_id: int) -> None:
        lease_owner().addfinalizer(lambda: pool.release(tenant_id))

    factory = TenantFactory(pool, lease)

    def make() -> LiveTenant:
        ref = factory()
        return LiveTenant(ref=ref, url=live_server.url_for_host(ref.primary_host, ""))

    return make


@pytest.fixture(scope="session")
def live_tenant(make_live_tenant) -> LiveTenant:
    return make_live_tenant()


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        reason = (
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`make browser-deps`, or `apt-get install chromium`)."
        )
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)

    from playwright.sync_api import sync_playwright

    # Playwright logs every protocol message at DEBUG under pytest's log capture otherwise.
    logging.getLogger("playwright").setLevel(logging.WARNING)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


def _new_context(browser):
    context = browser.new_context(locale=LOCALE, timezone_id="Europe/Paris")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser):
    context = _new_context(browser)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def open_page(browser):
    """``open_page()``: a page in a context of its own (another person, other cookies)."""
    contexts = []

    def open_():
        context = _new_context(browser)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


# --------------------------------------------------------------------------- helpers


def _follow(page, action, status: int | None = None, accessible: bool = True):
    """Click ``action`` (a locator) or call it (e.g. a key press) and wait for the page it
    loads; check the final status (< 400 unless ``status`` is given) and, as ``visit``
    does, the new page with axe. Returns the response."""
    from tests.browser.axe import assert_accessible  # after its assert-rewrite registration

    with page.expect_navigation(wait_until="load") as navigation:
        if hasattr(action, "click"):
            action.click()
        else:
            action()
    response = navigation.value
    assert response is not None, f"no response after the action on {page.url}"
    if status is None:
        assert response.status < 400, f"{response.url} answered {response.status}"
    else:
        assert response.status == status, f"{response.url} answered {response.status}"
    if accessible:
        assert_accessible(page)
    return response


@pytest.fixture
def follow() -> Callable:
    return _follow


@pytest.fixture
def mail_link(smtp_server, live_server) -> Callable[[str, str], str]:
    """``mail_link(address, path_prefix)``: the link starting with ``path_prefix`` in the
    first mail to ``address`` (waiting for it), checked to point at the live server."""

    def find(address: str, path_prefix: str, timeout: float = 10) -> str:
        message = smtp_server.wait_for_message_to(address, timeout=timeout)
        links = [
            link
            for link in smtp_server.links_in(message)
            if urlsplit(link).path.startswith(path_prefix)
        ]
        assert links, (
            f"no {path_prefix}… link in {message['Subject']!r}: {smtp_server.links_in(message)}"
        )
        link = links[0]
        # Links are absolute: they must lead back to this server (host and port).
        assert urlsplit(link).port == live_server.port, link
        return link

    return find
