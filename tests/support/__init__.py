"""What the tests share, loaded once by tests/conftest.py (``pytest_plugins``).

Common to every test:

- ``constants``: the platform host (``PLATFORM``) and the test accounts' ``PASSWORD``.
- ``config``: ``base_config()``, the configuration of every app the tests build.
- ``database``: the session's own database (sqlalchemy-utils creates and drops it).
- ``tenants``: ``TenantPool``, provisioned tenant schemas reused from test to test, reset
  to exactly what a new tenant is; ``make_tenant(fresh=True)`` for a really new one.
- ``clients``: clients on one host with an address of their own, CSRF tokens, form posts,
  log-in, sessions forged as a finished log-in leaves them.
- ``people``: citizens, staff and platform accounts, unique e-mail addresses.
- ``plugin``: the fixtures (``app``, ``make_tenant``, ``tenant_a``, ``mailbox``...).
- ``smtp``, ``redis_server``: a real SMTP server and a throw-away Redis server.

Data of one feature, for the tests of several folders:

- ``participation``: processes, proposals, supports, notifications, settings, query counts.
- ``staff``: accounts and audit log read back, fingerprints of the staff tables, TOTP codes.
- ``budgets``: participatory budgets in any phase, voters.
- ``network``: networks of collectivités, memberships, the platform audit log.
- ``benchmarks``: participation figures computed by hand for the benchmark tests.
- ``billing`` (fixtures too): plans, a fake Stripe (``fake_stripe``), subscriptions.

The names most tests need are re-exported here: ``from tests.support import PASSWORD,
client_on, create_person``.
"""

from tests.support.clients import (
    HostClient,
    client_on,
    csrf_for,
    csrf_in,
    forge_session,
    host_client,
    login,
    login_path,
    path_of,
    platform_client,
    post,
    post_form,
    random_address,
    session_cookie,
    text,
)
from tests.support.config import base_config
from tests.support.constants import PASSWORD, PLATFORM
from tests.support.people import (
    Person,
    create_person,
    create_user,
    find_user,
    load_user,
    logged_in,
    logged_platform,
    platform_user,
    signed_in,
    unique_email,
)
from tests.support.tenants import ensure_legal_documents

__all__ = [
    "PASSWORD",
    "PLATFORM",
    "HostClient",
    "Person",
    "base_config",
    "client_on",
    "create_person",
    "create_user",
    "csrf_for",
    "csrf_in",
    "ensure_legal_documents",
    "find_user",
    "forge_session",
    "host_client",
    "load_user",
    "logged_in",
    "logged_platform",
    "login",
    "login_path",
    "path_of",
    "platform_client",
    "platform_user",
    "post",
    "post_form",
    "random_address",
    "session_cookie",
    "signed_in",
    "text",
    "unique_email",
]
