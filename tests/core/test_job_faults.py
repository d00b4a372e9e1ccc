"""Faults around the jobs: a worker SIGKILLed mid-job, Redis restarted under the scheduler,
tenants and exports left stuck, and a retry policy for every job. Before this work a killed
worker lost its job for good (no retry policy: rq dropped the abandoned job), a duplicate
delivery sent the mail twice, and ``rq cron`` exited on the Redis restart."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Retry

from core import create_app, outbox
from core.db import db
from core.jobs import JOB_RETRY_KINDS, enqueue_after_commit, registered_jobs
from tests.support import base_config
from tests.support.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
TASK_MODULES = (
    "core.mail",
    "core.security.decoy",
    "core.cron",
    "tenants.provisioning",
    "tenants.sweeps",
    "billing.verification.disputes",
    "tenants.verification_cron",
    "participation.staff.tasks",
    "participation.engagement.tasks",
    "participation.accounts.tasks",
    "participation.accounts.export_sweep",
    "participation.opendata.tasks",
    "participation.meetings.tasks",
    "network.library.tasks",
    "network.benchmarks.tasks",
    "billing.signup",
    "billing.tasks",
)


@pytest.fixture
def own_redis():
    server = RedisServer()
    server.start()
    yield server
    server.close()


def _env(database_url: str, redis_url: str, smtp) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(smtp.port),
        PNYX_ENV="testing",
        RQ_ASYNC="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def _spawn(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: the work horse dies with it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _kill_group(process: subprocess.Popen, sig=signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(10)


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_retried_and_the_mail_not_sent_twice(
    database_url, redis_url, own_redis, mailbox, app, tmp_path
):
    from core.mail import render_mail
    from core.security.limits import storage_uri
    from tests.core.jobs_for_tests import deliver_then_wait

    job_app = create_app(
        base_config(
            database_url,
            own_redis.url,
            RQ_ASYNC=True,
            RATELIMIT_STORAGE_URI=storage_uri(redis_url),
        )
    )
    to = f"habitant-{uuid.uuid4().hex[:8]}@example.org"
    flag = tmp_path / "go"
    with job_app.app_context(), job_app.test_request_context("/"):
        message = render_mail(
            "test_message", to=to, name="Hélène", title="Un banc", link="http://x/"
        )
        message.headers = {"Message-ID": f"<{uuid.uuid4().hex}@pnyx.test>"}
        enqueue_after_commit(
            deliver_then_wait,
            message.to_dict(),
            str(flag),
            queue="default",
            retry=Retry(max=2),  # no wait before the retry: the test is short
        )
        db.session.commit()

    env = _env(database_url, own_redis.url, mailbox)
    first = _spawn(["worker", "default"], env)
    try:
        _wait(lambda: mailbox.messages_to(to), 30, "the mail")  # sent and recorded
        time.sleep(0.3)
    finally:
        _kill_group(first)  # mid-job: the job is waiting for the flag
    second = _spawn(["worker", "default"], env)
    try:
        flag.write_text("go")
        row = _wait(
            lambda: [
                r
                for r in _rows(job_app)
                if r.done_at is not None and r.func_name.endswith("deliver_then_wait")
            ],
            40,
            "the retried job to finish",
        )
    finally:
        _kill_group(second, signal.SIGTERM)
    assert row, "the job killed with its worker was retried and completed"
    assert len(mailbox.messages_to(to)) == 1  # recorded: the retry did not send it again
    with job_app.app_context():
        db.engine.dispose()


def _rows(app) -> list:
    with app.app_context():
        rows = db.session.scalars(sa.select(outbox.OutboxJob).order_by(outbox.OutboxJob.id)).all()
        db.session.expunge_all()
        return rows


@pytest.mark.slow
def test_the_scheduler_survives_a_redis_restart(database_url, own_redis, mailbox, app):
    from redis import Redis
    from rq import cron_scheduler_registry

    key = cron_scheduler_registry.get_registry_key()
    redis = Redis.from_url(own_redis.url)
    scheduler = _spawn(
        ["jobs", "scheduler", "--max-sleep", "0.5"], _env(database_url, own_redis.url, mailbox)
    )
    try:
        _wait(lambda: redis.zcard(key), 30, "the scheduler to register")
        own_redis.stop()
        time.sleep(2)
        assert scheduler.poll() is None, "the scheduler exited when Redis went away"
        own_redis.start()  # empty: it has to register again
        _wait(lambda: Redis.from_url(own_redis.url).zcard(key), 40, "the scheduler to come back")
        assert scheduler.poll() is None
    finally:
        _kill_group(scheduler, signal.SIGTERM)


def test_a_tenant_stuck_in_provisioning_is_provisioned_by_the_sweep(app, make_tenant):
    from tenants.sweeps import requeue_stuck_provisioning_now

    tenant = make_tenant(provision=False)
    with app.app_context():
        db.session.execute(
            sa.text(
                "UPDATE public.tenants SET updated_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": tenant.id},
        )
        db.session.commit()
        assert tenant.id in requeue_stuck_provisioning_now(minutes=15)
        db.session.commit()  # RQ_ASYNC=False: the provisioning runs at the hand-over
        status = db.session.execute(
            sa.text("SELECT status FROM public.tenants WHERE id = :id"), {"id": tenant.id}
        ).scalar_one()
    assert status == "active"


def test_a_partial_export_is_deleted_and_built_again(app, tenant_a):
    from participation.accounts.export_sweep import sweep_stuck_exports_now
    from participation.accounts.tasks import export_dir

    with app.app_context():
        folder = export_dir(tenant_a.id)
        building = folder / f".building-{uuid.uuid4().hex[:8]}"
        building.mkdir()
        (building / "user-999999-0123456789abcdef.zip").write_bytes(b"PK partial")
        old = time.time() - 7200
        os.utime(building, (old, old))
        result = sweep_stuck_exports_now(minutes=60)
        db.session.commit()
    assert not building.exists()
    assert result["deleted"] >= 1 and result["requeued"] >= 1


def test_every_job_has_a_retry_policy_of_its_kind():
    for name in TASK_MODULES:
        importlib.import_module(name)
    product_jobs = {name for name in registered_jobs if not name.startswith("tests.")}
    missing = product_jobs - set(JOB_RETRY_KINDS)
    assert not missing, f"jobs without a retry kind in core.jobs.JOB_RETRY_KINDS: {missing}"
    assert not set(JOB_RETRY_KINDS) - product_jobs, "JOB_RETRY_KINDS names a job that is gone"
