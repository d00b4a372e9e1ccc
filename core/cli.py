"""Core commands: the worker, the jobs relay and scheduler, and the demo seed."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core import demo
from core.jobs import run_worker

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create the demo platform and collectivités (idempotent). Refused in production."""
    try:
        lines = demo.seed_all()
    except demo.DemoRefused as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    for line in lines:
        click.echo(line)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.argument("queues", nargs=-1)
def worker_command(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an rq worker (with the scheduler) inside the app."""
    run_worker(current_app._get_current_object(), list(queues) or None, burst=burst)


jobs_cli = AppGroup("jobs", help="The jobs outbox relay, the periodic scheduler, sweeps.")
_SWEEPS = "pnyx_sweeps"  # app.extensions key: the sweeps of ``flask jobs sweep``


@jobs_cli.command("relay")
@click.option("--once", is_flag=True, help="Hand over what is pending, then stop.")
def relay_command(once: bool) -> None:
    """Hand the outbox's pending jobs to rq, for ever (one relay is enough; more are safe)."""
    import signal
    import threading

    from core import outbox
    from core.jobs import worker_redis_connection

    app = current_app._get_current_object()
    if once:
        result = outbox.relay(app, worker_redis_connection(app), limit=100_000)
        click.echo(f"{len(result.handed)} job(s) handed to rq, {len(result.waiting)} waiting")
        if result.redis_error is not None:
            raise click.ClickException(f"Redis: {result.redis_error}")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    outbox.run_relay(app, stop=stop)


@jobs_cli.command("scheduler")
@click.option("--module", default="core.cron", show_default=True, help="The schedule.")
@click.option(
    "--max-sleep", default=60.0, show_default=True, help="Longest pause between two checks (s)."
)
def scheduler_command(module: str, max_sleep: float) -> None:
    """Run the periodic schedule (rq cron), surviving Redis restarts. Run exactly one."""
    import importlib

    from core.jobs import worker_redis_connection
    from core.scheduler import ResilientCronScheduler

    schedule = importlib.import_module(module)
    scheduler = ResilientCronScheduler(
        worker_redis_connection(current_app._get_current_object()), max_sleep=max_sleep
    )
    scheduler.register_all(schedule.SCHEDULE)
    scheduler.start()


@jobs_cli.command("sweep")
def sweep_command() -> None:
    """Run the sweeps now: stuck provisioning, stuck RGPD exports."""
    from core.db import db

    reports = [sweep() for sweep in current_app.extensions.get(_SWEEPS, ())]
    db.session.commit()
    click.echo("; ".join(reports))


def register_sweep(app: Flask, sweep: Callable[[], str]) -> None:
    """Add a sweep to ``flask jobs sweep`` (the features register theirs from their
    ``init_app``): ``sweep()`` runs it now, without committing, and says in a few words what
    it did. They run in the order registered, then the command commits."""
    sweeps = app.extensions.setdefault(_SWEEPS, [])
    if sweep not in sweeps:
        sweeps.append(sweep)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_cli)
