"""The jobs outbox (core/outbox.py): with Redis down the user's action succeeds and its jobs
wait in PostgreSQL; once Redis is back the relay hands each over once, and a row relayed twice
runs once. Before the outbox, the same actions committed their data, answered 500 and lost
their e-mails and the tenant's provisioning for good."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from rq import Queue

from core import create_app, outbox
from core.db import db
from core.jobs import PnyxWorker, enqueue_after_commit, worker_redis_connection
from tests.core.jobs_for_tests import count_run
from tests.support import PLATFORM, base_config, host_client
from tests.support.redis_server import RedisServer


@pytest.fixture
def own_redis():
    server = RedisServer()
    server.start()
    yield server
    server.close()


def _rows(app, **where) -> list:
    with app.app_context():
        query = sa.select(outbox.OutboxJob).order_by(outbox.OutboxJob.id)
        for name, value in where.items():
            query = query.where(getattr(outbox.OutboxJob, name) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def test_a_rolled_back_transaction_leaves_no_job(app):
    with app.app_context():
        before = outbox.pending_count()
        enqueue_after_commit(count_run, f"k-{uuid.uuid4().hex}")
        db.session.rollback()
        assert outbox.pending_count() == before


def _app_on(database_url, redis_url, own_url, **overrides):
    from core.security.limits import storage_uri

    # Rate limits stay on the session's Redis: their outage rule is tested elsewhere, and the
    # limiter's storage is process-wide (tests/conftest.py).
    return create_app(
        base_config(
            database_url, own_url, RATELIMIT_STORAGE_URI=storage_uri(redis_url), **overrides
        )
    )


def test_a_row_pushed_twice_runs_once(database_url, redis_url, own_redis, app):
    """The relay died between the push and marking the row: the row is found in rq and only
    marked; a copy of the job in the queue anyway finds its row done and does nothing."""
    app = _app_on(database_url, redis_url, own_redis.url, RQ_ASYNC=True)
    key = f"runs-{uuid.uuid4().hex}"
    with app.app_context():
        enqueue_after_commit(count_run, key, queue="default")
        db.session.commit()  # the fast path pushes it
        row = _rows(app, func_name="tests.core.jobs_for_tests.count_run")[-1]
        assert row.relayed_at is not None
        # As if the relay had died before its UPDATE committed.
        db.session.execute(
            sa.text("UPDATE public.job_outbox SET relayed_at = NULL WHERE id = :id"), {"id": row.id}
        )
        db.session.commit()
        redis = worker_redis_connection(app)
        result = outbox.relay(app, redis)
        assert row.id in result.handed
        queue = Queue("default", connection=redis)
        assert queue.job_ids == [row.rq_job_id]  # not pushed a second time
        # A second copy of the same job in the queue (pushed by another path).
        job = queue.fetch_job(row.rq_job_id)
        queue.enqueue_call(
            "tests.core.jobs_for_tests.count_run",
            args=(key,),
            job_id="copy-" + job.id,
            meta=job.meta,
        )
        worker = PnyxWorker([queue], connection=redis, name=uuid.uuid4().hex)
        worker.flask_app = app
        worker.work(burst=True)
        assert int(redis.get(key)) == 1
        assert _rows(app, id=row.id)[0].done_at is not None
        db.engine.dispose()


def _reset_mails(mailbox, address: str) -> list:
    return [m for m in mailbox.messages_to(address) if "mot de passe" in m["Subject"]]


def _signup(app, client):
    from tests.billing.test_signup import free_commune, signup_data, signup_path, text

    commune = free_commune(app, "val")
    page = text(client.get(signup_path(commune)))
    email = f"camille.{uuid.uuid4().hex[:8]}@mairie-exemple.fr"
    return commune, email, client.post(signup_path(commune), data=signup_data(page, email=email))


def test_with_redis_down_actions_succeed_and_the_relay_delivers_each_job_once(
    database_url, redis_url, own_redis, mailbox, app, tenant_a
):
    from billing.signup_views import init_signup
    from participation.accounts import init_app as init_accounts
    from tests.billing.test_signup import seed_plans
    from tests.support import create_user, ensure_legal_documents, post_form

    fault_app = _app_on(database_url, redis_url, own_redis.url)
    if "signup.start" not in fault_app.view_functions:
        init_signup(fault_app)
    if "accounts.login" not in fault_app.view_functions:
        init_accounts(fault_app)
    seed_plans(fault_app)
    ensure_legal_documents(fault_app, tenant_a)
    user = create_user(fault_app, tenant_a)
    own_redis.stop()

    platform = host_client(fault_app, PLATFORM)
    commune, agent_email, response = _signup(fault_app, platform)
    assert response.status_code in (200, 302, 303), response.status_code
    citizen = host_client(fault_app, tenant_a.primary_host)
    reset = post_form(citizen, "/mot-de-passe-oublie", {"email": user.email})
    assert reset.status_code in (200, 302, 303)

    with fault_app.app_context():
        tenant_id = db.session.execute(
            sa.text("SELECT id FROM public.tenants WHERE kind = :k AND code = :c"),
            {"k": commune.kind, "c": commune.code},
        ).scalar_one()
        status = db.session.execute(
            sa.text("SELECT status FROM public.tenants WHERE id = :id"), {"id": tenant_id}
        ).scalar_one()
    assert status == "provisioning"
    pending = [row for row in _rows(fault_app) if row.relayed_at is None]
    names = [row.func_name for row in pending]
    assert "tenants.provisioning.provision_tenant" in names
    assert "core.mail.deliver_mail" in names
    assert _reset_mails(mailbox, user.email) == []

    own_redis.start()
    with fault_app.app_context():
        handed: list[int] = []
        for _ in range(5):  # the jobs run (RQ_ASYNC=False) write rows of their own
            result = outbox.relay(fault_app, worker_redis_connection(fault_app), limit=1000)
            assert result.redis_error is None
            if not result.handed:
                break
            handed += result.handed
        assert len(handed) == len(set(handed)), "a row was handed over twice"
        assert set(handed) >= {row.id for row in pending}
        status = db.session.execute(
            sa.text("SELECT status FROM public.tenants WHERE id = :id"), {"id": tenant_id}
        ).scalar_one()
        # Active, or waiting for the operator's verification (issue 13 §1): built, either way.
        assert status in ("active", "pending_verification")
        assert outbox.pending_count() == 0
    # Exactly once: one reset mail; the requester's mails (invitation, address confirmation)
    # arrived, none twice.
    assert len(_reset_mails(mailbox, user.email)) == 1
    subjects = [m["Subject"] for m in mailbox.messages_to(agent_email)]
    assert any("Invitation" in subject for subject in subjects)
    assert len(subjects) == len(set(subjects))


def _notification_mails(mailbox, address: str, words: str) -> list:
    return [m for m in mailbox.messages_to(address) if words in m["Subject"]]


def test_with_redis_down_a_comment_and_a_staff_answer_succeed_and_mail_the_author_once(
    database_url, redis_url, own_redis, mailbox, app, make_tenant, monkeypatch
):
    """The two flows measured losing their e-mails besides the sign-ups: a citizen's comment
    on a proposal (its author, a follower, is notified) and a staff member's official answer
    (the author is e-mailed). Before the outbox both committed and answered 500."""
    from participation.proposals.models import Proposal
    from tenants.context import tenant_context
    from tests.support import (
        create_person,
        csrf_for,
        ensure_legal_documents,
        forge_session,
        random_address,
    )
    from tests.support.participation import TODAY, make_process, make_proposal

    # The proposal fixtures' day, when their process is open for proposals and comments.
    monkeypatch.setattr("core.clock.paris_today", lambda: TODAY)
    fault_app = _app_on(database_url, redis_url, own_redis.url)
    tenant = make_tenant()
    ensure_legal_documents(fault_app, tenant)
    author = create_person(fault_app, tenant)
    commenter = create_person(fault_app, tenant)
    admin = create_person(fault_app, tenant, "admin")
    process_id = make_process(fault_app, tenant)
    proposal_id = make_proposal(
        fault_app, tenant, process_id, author, title="Une fontaine à eau place du marché"
    )
    clients = {}
    for name, person in (("commenter", commenter), ("admin", admin)):
        client = host_client(fault_app, tenant.primary_host)
        client.environ_base["REMOTE_ADDR"] = random_address()
        forge_session(client, tenant, person)
        clients[name] = client, csrf_for(client)
    before = {row.id for row in _rows(fault_app)}
    own_redis.stop()

    client, token = clients["commenter"]
    page = f"/propositions/{proposal_id}"
    comment = client.post(
        "/commentaires",
        data={
            "csrf_token": token,
            "target_type": "proposal",
            "target_id": str(proposal_id),
            "body": "Très bonne idée, surtout l'été pour les enfants du quartier.",
            "next": page,
            "website": "",
        },
    )
    assert comment.status_code in (200, 302, 303), comment.status_code
    client, token = clients["admin"]
    answer = client.post(
        f"/gestion/propositions/{proposal_id}",
        data={
            "csrf_token": token,
            "status": "accepted",
            "reason": "",
            "answer": "La fontaine sera installée au printemps, près de l'arrêt de bus.",
        },
    )
    assert answer.status_code in (200, 302, 303), answer.status_code
    with fault_app.app_context(), tenant_context(tenant):
        assert db.session.get(Proposal, proposal_id).answer.startswith("La fontaine")

    pending = [row for row in _rows(fault_app) if row.id not in before]
    mails = [r for r in pending if r.func_name.endswith("send_notification_email")]
    assert len(mails) == 2, [r.func_name for r in pending]  # one per action, to the author
    assert all(row.relayed_at is None for row in mails)
    assert mailbox.messages_to(author.email) == []

    own_redis.start()
    with fault_app.app_context():
        handed: list[int] = []
        for _ in range(5):
            result = outbox.relay(fault_app, worker_redis_connection(fault_app), limit=1000)
            assert result.redis_error is None
            if not result.handed:
                break
            handed += result.handed
        assert len(handed) == len(set(handed)), "a row was handed over twice"
        assert {row.id for row in mails} <= set(handed)
        # A second relay pass finds nothing left to hand over.
        assert outbox.relay(fault_app, worker_redis_connection(fault_app)).handed == []
    assert len(_notification_mails(mailbox, author.email, "commentaire")) == 1
    assert len(_notification_mails(mailbox, author.email, "Retenue")) == 1
    assert len(mailbox.messages_to(author.email)) == 2
    with fault_app.app_context():
        db.engine.dispose()
