"""Demo seed registry: each package registers what it adds to ``flask demo seed``.

Seeders are idempotent (run ``make run`` twice, get the same demo) and yield lines to print.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

_seeders: list[tuple[int, Callable[[], Iterable[str]]]] = []


def register(order: int) -> Callable:
    def decorator(func: Callable[[], Iterable[str]]) -> Callable[[], Iterable[str]]:
        _seeders.append((order, func))
        return func

    return decorator


def seed_all() -> Iterator[str]:
    for _order, seeder in sorted(_seeders, key=lambda s: s[0]):
        yield from seeder()
