"""``flask --app wsgi billing …``: seed the plans, run the sweep and the reconciliation.

For a system cron instead of ``rq cron billing.cron``::

    15 3 * * *  cd /srv/pnyx && .venv/bin/flask --app wsgi billing sweep
    7 * * * *   cd /srv/pnyx && .venv/bin/flask --app wsgi billing reconcile
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
import stripe
from flask.cli import AppGroup

from billing.catalogue import seed_plans
from billing.tasks import reconcile_now, sweep_now
from core.db import db

billing_cli = AppGroup("billing", help="Plans, subscriptions and Stripe.")


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@billing_cli.command("seed-plans")
def seed_plans_command() -> None:
    """Insert the default plans that do not exist yet (never overwrites an edited plan)."""
    created = seed_plans()
    db.session.commit()
    if created:
        for plan in created:
            click.echo(f"Created {plan.code}: {plan.price_cents_excl_vat / 100:.2f} EUR HT")
    else:
        click.echo("Every default plan already exists.")


@billing_cli.command("sweep")
@click.option("--now", "now_text", help="Pretend it is this time (ISO 8601; tests, replays).")
def sweep_command(now_text: str | None) -> None:
    """Daily: grace and retention periods, reminders, archiving."""
    click.echo(json.dumps(sweep_now(_parse_now(now_text)), sort_keys=True))


@billing_cli.command("reconcile")
def reconcile_command() -> None:
    """Hourly: fetch the events Stripe could not deliver and process them."""
    try:
        result = reconcile_now()
    except stripe.StripeError as exc:
        raise click.ClickException(f"Stripe: {exc.user_message or exc}") from None
    click.echo(json.dumps(result, sort_keys=True))
