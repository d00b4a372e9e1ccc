"""Meeting reminders: the day before, everyone with a place gets an e-mail, once.

``send_meeting_reminders(tenant_id)`` does one tenant (idempotent: ``reminded_at`` is set
under a row lock in the transaction that enqueues the mail); ``send_all_meeting_reminders``
fans out one job per active tenant, with a job id per tenant and day. The schedule is in
``participation/meetings/cron.py`` (``rq cron participation.meetings.cron``), and
``flask meetings send-reminders`` does the same from a system cron.
"""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from core import clock
from core.db import db
from core.jobs import enqueue, job
from participation.meetings import services
from tenants.context import tenant_job, tenant_job_id
from tenants.listing import active_tenant_ids


@tenant_job
def send_meeting_reminders(tenant_id: int, day: str | None = None) -> int:
    """E-mail tomorrow's reminders of one tenant; returns how many were sent."""
    today = date.fromisoformat(day) if day else clock.paris_today()
    sent = services.send_reminders(today)
    db.session.commit()
    return sent


def enqueue_meeting_reminders(slug: str | None = None, day: date | None = None) -> list[int]:
    day = day or clock.paris_today()
    tenant_ids = active_tenant_ids(slug)
    for tenant_id in tenant_ids:
        enqueue(
            send_meeting_reminders,
            tenant_id,
            day.isoformat(),
            queue="low",
            job_id=tenant_job_id(tenant_id, "meeting-reminders", day.isoformat()),
        )
    return tenant_ids


@job
def send_all_meeting_reminders() -> int:
    """The cron entry point: one reminder job per active tenant."""
    return len(enqueue_meeting_reminders())


meetings_cli = AppGroup("meetings", help="Public meetings.")


@meetings_cli.command("send-reminders")
@click.option("--tenant", "slug", default=None, help="Only this tenant (slug).")
@click.option("--sync", is_flag=True, help="Send now in this process instead of enqueuing.")
def send_reminders_command(slug: str | None, sync: bool) -> None:
    """E-mail the reminders of tomorrow's meetings (run it once a day)."""
    if sync:
        for tenant_id in active_tenant_ids(slug):
            click.echo(f"tenant {tenant_id}: {send_meeting_reminders(tenant_id)} reminder(s) sent")
        return
    click.echo(f"{len(enqueue_meeting_reminders(slug))} reminder job(s) enqueued")


def init_app(app: Flask) -> None:
    if "meetings" not in app.cli.commands:
        app.cli.add_command(meetings_cli)
