"""Fixtures of the API and open-data tests: one seeded tenant for the whole session."""

from __future__ import annotations

import pytest

from tests.api.seed import seed_tenant
from tests.helpers import host_client


@pytest.fixture(scope="session")
def seeded(app, make_tenant):
    return seed_tenant(app, make_tenant())


@pytest.fixture
def api(app, seeded):
    """A client on the seeded tenant's host, with a fresh client address (rate limits)."""
    import secrets

    client = host_client(app, seeded.tenant.primary_host)
    client.environ_base["REMOTE_ADDR"] = (
        f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    )
    return client


@pytest.fixture(scope="session")
def tools(app, seeded):
    from tests.api.seed import seed_tools

    return seed_tools(app, seeded)
