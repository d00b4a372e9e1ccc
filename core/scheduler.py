"""The periodic scheduler (``flask jobs scheduler``): rq's cron scheduler, made to last.

``rq cron core.cron`` exits on the first Redis error (its loop lets a ``ConnectionError``
through): a Redis restart stopped every digest, reminder and sweep until someone noticed.
This one keeps running: while Redis is away it waits with a back-off, then registers again
and enqueues what fell due meanwhile (once: an entry is marked enqueued only after its push
succeeded). Its jobs are created through :class:`core.queues.PnyxQueue`, so they get their
retry policy like every other job.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import cron_job_registry
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT, DEFAULT_CRON_JOB_HISTORY_TTL
from rq.exceptions import StopRequested

from core.queues import PnyxQueue

log = logging.getLogger(__name__)


class PnyxCronJob(CronJob):
    def enqueue(self, connection: Redis):
        # rq's CronJob.enqueue with PnyxQueue instead of Queue (the retry policy).
        queue = PnyxQueue(self.queue_name, connection=connection)
        with connection.pipeline() as pipeline:
            job = queue.enqueue(
                self.func, args=self.args, kwargs=self.kwargs, **self.job_options, pipeline=pipeline
            )
            pipeline.zadd(self.job_history_key, {job.id: job.enqueued_at.timestamp()})
            pipeline.zremrangebyrank(self.job_history_key, 0, -(DEFAULT_CRON_JOB_HISTORY_LIMIT + 1))
            pipeline.expire(self.job_history_key, DEFAULT_CRON_JOB_HISTORY_TTL)
            cron_job_registry.add(
                self.name, pipeline, enqueue_timestamp=job.enqueued_at.timestamp()
            )
            pipeline.execute()
        log.info("enqueued %s on %s", self.func_name, self.queue_name)
        return job


class ResilientCronScheduler(CronScheduler):
    """A cron scheduler that outlives Redis restarts."""

    def __init__(self, connection: Redis, *, max_sleep: float = 60.0, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        self.max_sleep = max_sleep
        self.max_backoff = 30.0

    def register(self, func, queue_name, **options) -> CronJob:
        cron_job = PnyxCronJob(queue_name=queue_name, func=func, **options)
        self._cron_jobs.append(cron_job)
        return cron_job

    def register_all(self, entries: list[dict]) -> None:
        for entry in entries:
            self.register(**entry)

    def start(self) -> None:
        log.info("scheduler %s: starting with %d entries", self.name, len(self._cron_jobs))
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        registered = False
        backoff = 1.0
        down_since: float | None = None
        try:
            while True:
                try:
                    if not registered:
                        self.register_birth()
                        registered = True
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                except RedisError as exc:
                    if down_since is None:
                        down_since = time.monotonic()
                        log.warning("scheduler %s: Redis unavailable (%s); waiting", self.name, exc)
                    registered = False  # Redis may come back empty: register again
                    time.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                if down_since is not None:
                    log.warning(
                        "scheduler %s: Redis back after %.0f s",
                        self.name,
                        time.monotonic() - down_since,
                    )
                    down_since = None
                backoff = 1.0
                pause = min(self.calculate_sleep_interval(), self.max_sleep)
                if pause > 0:
                    time.sleep(pause)
        except (KeyboardInterrupt, StopRequested):
            log.info("scheduler %s: stop requested", self.name)
        finally:
            with contextlib.suppress(RedisError):
                self.register_death()
