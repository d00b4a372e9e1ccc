"""Fixtures of the API and open-data tests: one seeded tenant for the whole session."""

from __future__ import annotations

import pytest

from tests.api.seed import seed_tenant, seed_tools
from tests.support import client_on


@pytest.fixture(scope="session")
def seeded(app, make_tenant):
    return seed_tenant(app, make_tenant())


@pytest.fixture
def api(app, seeded):
    """A client on the seeded tenant's host, with a fresh client address (rate limits)."""
    return client_on(app, seeded.tenant)


@pytest.fixture(scope="session")
def tools(app, seeded):
    return seed_tools(app, seeded)
