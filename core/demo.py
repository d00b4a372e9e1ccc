"""Demo seed registry: each package registers what it adds to ``flask demo seed``.

Seeders are idempotent (run ``make run`` twice, get the same demo) and yield lines to print.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from flask import current_app

_seeders: list[tuple[int, Callable[[], Iterable[str]]]] = []


def register(order: int) -> Callable:
    def decorator(func: Callable[[], Iterable[str]]) -> Callable[[], Iterable[str]]:
        _seeders.append((order, func))
        return func

    return decorator


class DemoRefused(RuntimeError):
    """The demo must not be seeded here (production)."""


PRODUCTION_REFUSAL = (
    "Refusing to seed the demo: PNYX_ENV is 'production'. The demo creates accounts whose "
    "passwords and TOTP secrets are published in the README (among them a platform "
    "operator); create real accounts with 'flask --app wsgi platform create-user' "
    "(or your own procedure) instead."
)


def refuse_in_production() -> None:
    if current_app.config.get("PNYX_ENV") == "production":
        raise DemoRefused(PRODUCTION_REFUSAL)


def seed_all() -> Iterator[str]:
    """Run every seeder; refused at once (before any seeder runs) in production."""
    refuse_in_production()
    return _run_seeders()


def _run_seeders() -> Iterator[str]:
    for _order, seeder in sorted(_seeders, key=lambda s: s[0]):
        yield from seeder()
