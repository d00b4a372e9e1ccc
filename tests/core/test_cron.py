"""core/cron.py is the one schedule `make run` and production start: every feature's
periodic job must be in it, and the digest fan-out it adds must enqueue per tenant."""

from __future__ import annotations

import importlib

import pytest
from rq import cron


@pytest.fixture(scope="module")
def schedule() -> dict[str, dict]:
    module = importlib.import_module("core.cron")
    entries = {
        f"{entry['func'].__module__}.{entry['func'].__name__}": entry
        for entry in cron._job_data_registry  # rq keeps what cron.register() received here
    }
    assert module.FEATURE_SCHEDULES, "the schedule gathers the features' own cron modules"
    return entries


@pytest.mark.parametrize(
    ("job", "when"),
    [
        ("billing.tasks.run_daily_sweep", "15 3 * * *"),
        ("billing.tasks.reconcile_with_stripe", 3600),
        ("participation.meetings.tasks.send_all_meeting_reminders", "0 10 * * *"),
        ("participation.opendata.tasks.enqueue_nightly_bundles", "30 2 * * *"),
        ("network.benchmarks.tasks.refresh_all_metrics", "30 2 * * *"),
        ("participation.engagement.cron.enqueue_notification_digests", "0 7 * * *"),
    ],
)
def test_every_periodic_job_is_scheduled(schedule, job, when):
    assert job in schedule, f"{job} is missing from core/cron.py"
    entry = schedule[job]
    assert (entry["cron"] or entry["interval"]) == when
    assert entry["queue_name"] == "low"


def test_the_digest_fan_out_enqueues_one_job_per_active_tenant(app, tenant_a, tenant_b):
    from rq import Queue

    from core.jobs import redis_connection
    from participation.engagement.cron import enqueue_notification_digests

    with app.app_context():
        app.config["RQ_ASYNC"] = True  # keep the jobs in the queue to look at them
        try:
            queue = Queue("low", connection=redis_connection())
            queue.empty()
            tenant_ids = enqueue_notification_digests()
            job_ids = set(queue.job_ids)
            queue.empty()
        finally:
            app.config["RQ_ASYNC"] = False
    assert {tenant_a.id, tenant_b.id} <= set(tenant_ids)
    for tenant_id in (tenant_a.id, tenant_b.id):
        assert any(job_id.startswith(f"t{tenant_id}-daily-digest-") for job_id in job_ids)
