"""Generation counters: how one process tells the others that what they cached is stale.

Each process keeps some values in memory (resolved hosts, per-tenant settings) or in Redis
under a versioned key (cached pages). Whoever changes what they were built from increments a
counter in Redis (``bump``); every process reads the counter at most every ``check_interval``
seconds per scope (a tenant, or ``None`` for one platform-wide counter) and treats a moved
counter as "drop what you cached" (``changed``) or builds its keys from it (``read``).

Several counters can be read together in one round trip (``MGET``): the tenant values cache
watches its tenant's counter and the counter shared by every tenant.

Redis down: ``read`` and ``bump`` raise ``RedisError`` for the caller to decide (render
without the page cache, owe the invalidation, rely on the TTL); ``changed`` answers False and
asks Redis again at the next call (the circuit breaker of ``core.redis_client`` makes that
free while Redis is away). The memo is left as it was: a failed read proves nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from flask import Flask
from redis.exceptions import RedisError

Values = tuple[bytes | None, ...]


class GenerationCounter:
    def __init__(
        self,
        app: Flask,
        keys: Callable[[Hashable], tuple[str, ...]],
        check_interval: float,
        memo_limit: int = 100_000,
    ) -> None:
        """``keys(scope)``: the Redis keys of the counters read together for ``scope``;
        the first is the one ``bump`` increments."""
        self.app = app
        self.check_interval = check_interval
        self._keys = keys
        self._memo_limit = memo_limit
        # scope -> (the counters' values, when they were read)
        self._memo: dict[Hashable, tuple[Values, float]] = {}
        self._lock = threading.Lock()

    def _redis(self):
        from core.redis_client import redis_connection

        return redis_connection(self.app)

    def key(self, scope: Hashable = None) -> str:
        """The key ``bump`` increments for ``scope``."""
        return self._keys(scope)[0]

    def read(self, scope: Hashable = None, now: float | None = None) -> Values:
        """The counters' values (None for a counter never bumped), from this process's memo
        when read less than ``check_interval`` seconds ago. Raises ``RedisError``."""
        now = time.monotonic() if now is None else now
        seen = self._memo.get(scope)
        if seen is not None and now - seen[1] < self.check_interval:
            return seen[0]
        keys = self._keys(scope)
        redis = self._redis()
        values = tuple(redis.mget(keys)) if len(keys) > 1 else (redis.get(keys[0]),)
        self._remember(scope, values, now)
        return values

    def changed(self, scope: Hashable = None, now: float | None = None) -> bool:
        """True when the counters moved since this process last read them (or it never
        did): what it cached for ``scope`` is to be dropped. False when it is not time to
        look again, or Redis does not answer."""
        seen = self._memo.get(scope)
        try:
            values = self.read(scope, now)
        except RedisError:
            return False
        return seen is None or seen[0] != values

    def bump(self, scope: Hashable = None) -> int:
        """Increment the counter: every other process drops what it cached for ``scope`` at
        its next check. Raises ``RedisError``."""
        value = self._redis().incr(self.key(scope))
        self.bumped(scope, value)
        return value

    def bumped(self, scope: Hashable, value: int) -> None:
        """Record our own increment (made by ``bump`` or in a caller's pipeline), so that
        this process does not take it for another's change. With several counters read
        together, only when the others are known."""
        new = str(value).encode()
        seen = self._memo.get(scope)
        if seen is not None:
            self._remember(scope, (new, *seen[0][1:]), time.monotonic())
        elif len(self._keys(scope)) == 1:
            self._remember(scope, (new,), time.monotonic())
        # else: the next read compares every counter and records them

    def _remember(self, scope: Hashable, values: Values, now: float) -> None:
        with self._lock:
            if len(self._memo) > self._memo_limit:  # bounded, whatever the number of tenants
                self._memo.clear()
            self._memo[scope] = (values, now)
