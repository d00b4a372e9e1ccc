"""What every benchmark script shares: where it runs (the default PostgreSQL server and
Redis database, the platform domain), a scratch database dropped at the end, an app on it
with the public schema migrated, the description of the machine printed with the figures,
and the section headings.

A script imports this after its own ``sys.path`` fix (``python bench/<name>.py`` puts
``bench/``, not the repository root, on the path).
"""

from __future__ import annotations

import os
import platform
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.pool import NullPool
from sqlalchemy_utils import create_database

from core.db import db
from tenants.migrate import upgrade_public

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Database 12, so that a benchmark does not touch the development data.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
PLATFORM_DOMAIN = "pnyx.bench"


def heading(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def server_urls() -> tuple[str, str]:
    """The PostgreSQL server (its database is only used to create the scratch one) and the
    Redis database: DATABASE_URL and REDIS_URL, else the defaults above."""
    return (
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
    )


@contextmanager
def scratch_database(server_url: str, keep: bool) -> Iterator[str]:
    """Create ``pnyx_bench_<random>`` next to ``server_url``'s database; drop it afterwards."""
    url = sa.make_url(server_url)
    name = f"pnyx_bench_{secrets.token_hex(4)}"
    scratch_url = url.set(database=name)
    create_database(scratch_url)
    print(f"scratch database: {name}", flush=True)
    try:
        yield scratch_url.render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"\n--keep: database {name} left in place", flush=True)
        else:
            # Not sqlalchemy-utils' drop_database: FORCE (PostgreSQL 13+) ends any connection
            # we failed to close, e.g. after Ctrl-C in the middle of a request. DROP DATABASE
            # cannot run in a transaction; NullPool keeps no idle connection.
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            try:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                admin.dispose()
            print(f"\ndropped database {name}", flush=True)


@contextmanager
def scratch_app(build_app: Callable[[str, str], Flask], keep: bool) -> Iterator[tuple[Flask, str]]:
    """``(app, database url)``: the script's app (``build_app(database_url, redis_url)``)
    on a scratch database whose public schema is migrated. The app's pool is closed before
    the database is dropped."""
    server_url, redis_url = server_urls()
    with scratch_database(server_url, keep) as database_url:
        app = build_app(database_url, redis_url)
        try:
            with app.app_context():
                upgrade_public(db.engine)
            yield app, database_url
        finally:
            # Close the pool before the DROP DATABASE (FORCE would cope, but be tidy).
            with app.app_context():
                db.engine.dispose()


def machine_info(app: Flask) -> dict[str, str]:
    """What the figures were measured on, printed with them."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with app.app_context(), db.engine.connect() as conn:
        pg = conn.scalar(sa.text("SHOW server_version"))
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "postgresql": pg,
        "python": platform.python_version(),
        # Other work on the machine skews the figures: say how busy it was.
        "load avg": " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min, at start)",
    }
