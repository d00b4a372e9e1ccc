"""``flask demo seed`` is refused in production (issue 13 §6): the demo creates a platform
operator whose password and TOTP secret are published in the README."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.db import db

DEMO_OPERATOR = "operateur@pnyx.localhost"


def _demo_accounts(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.text("SELECT count(*) FROM public.platform_users WHERE email = :email"),
            {"email": DEMO_OPERATOR},
        )


def test_demo_seed_refuses_production_with_a_clear_message(app, monkeypatch):
    monkeypatch.setitem(app.config, "PNYX_ENV", "production")
    tenants_before, accounts_before = _tenants(app), _demo_accounts(app)
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 1, result.output
    assert "Refusing to seed the demo: PNYX_ENV is 'production'" in result.output
    assert "TOTP" in result.output
    assert _demo_accounts(app) == accounts_before
    assert _tenants(app) == tenants_before  # no seeder ran at all


def test_the_operator_seeder_refuses_production_on_its_own(app, monkeypatch):
    from core.demo import DemoRefused
    from tenants.platform.demo import seed_platform_accounts

    monkeypatch.setitem(app.config, "PNYX_ENV", "production")
    before = _demo_accounts(app)
    with app.app_context(), pytest.raises(DemoRefused):
        list(seed_platform_accounts())
    assert _demo_accounts(app) == before


def _tenants(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT count(*) FROM public.tenants"))
