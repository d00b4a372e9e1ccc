"""Root of the test suite: loads tests/support/plugin.py, the fixtures every test may ask for
(database, Redis, SMTP server, the session's app, tenants from the pool, clients, people),
and tests/support/billing.py's (plans, a fake Stripe, subscribed tenants).

Helpers are imported from ``tests.support`` (see its docstring); a folder's conftest holds
only the fixtures of that folder's feature.
"""

import pytest

# Before anything imports them: their asserts (a CSRF token found, an account created)
# explain themselves like a test's.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = ["tests.support.plugin", "tests.support.billing"]
