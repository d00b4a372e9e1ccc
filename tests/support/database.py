"""The session's own PostgreSQL database (one per xdist worker), made and dropped with
sqlalchemy-utils' ``database_exists`` / ``create_database`` / ``drop_database``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy_utils import create_database, database_exists, drop_database


def _unused_name(server_url: str) -> str:
    while True:
        name = f"pnyx_test_{secrets.token_hex(4)}"
        if not database_exists(make_url(server_url).set(database=name)):
            return name


def _disconnect_everyone(url: sa.URL) -> None:
    """``drop_database`` refuses a database someone is connected to: forked workers and
    threads of the tests may still hold a connection at the end of the session."""
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": url.database},
            )
    finally:
        admin.dispose()


@contextmanager
def session_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url``; its URL, then it is dropped."""
    url = make_url(server_url).set(database=_unused_name(server_url))
    create_database(url)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        if database_exists(url):
            _disconnect_everyone(url)
            drop_database(url)
