"""The configuration of the apps the tests build: ``base_config(database_url, redis_url,
**overrides)``. The session's app uses it as it is; a test that needs another setting (an
asynchronous queue, a dead Redis, a page cache) builds its own app from it."""

from __future__ import annotations

import os
import secrets

from tests.support.constants import PLATFORM

# Filled by the smtp_server fixture (tests/support/plugin.py): every app built by
# base_config() then mails to the session's SMTP server.
smtp_settings: dict = {}


def base_config(database_url: str, redis_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "PNYX_ENV": "testing",
        "SECRET_KEY": "test-" + secrets.token_hex(16),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "PLATFORM_DOMAIN": PLATFORM,
        "RQ_ASYNC": False,
        "TENANT_CACHE_CHECK_INTERVAL": 0.0,
        # The page cache serves a page again for minutes whatever a test patches meanwhile (the
        # clock, a view): off here, on in tests/participation/test_page_cache.py's own apps.
        "PAGE_CACHE": False,
        "PAGE_CACHE_CHECK_INTERVAL": 0.0,
        "TENANT_EXPORT_DIR": os.path.join(os.environ.get("TMPDIR", "/tmp"), "pnyx-test-exports"),
        **smtp_settings,
    }
    config.update(overrides)
    return config
