"""Core commands: the worker and the demo seed."""

from __future__ import annotations

import sys

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


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(worker_command)
