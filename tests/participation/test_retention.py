"""Retention of personal data (issue 13 §3): each purge with the clock moved (the jobs take
``now``), the daily fan-out, last_seen_at once a day, and the periods on /confidentialite."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path

import sqlalchemy as sa

from core.db import db
from tests.support import client_on as make_client
from tests.support import create_user, load_user, login


def _budget_with_census(vote_ends_on: date, user_id: int) -> dict:
    from participation.budgets.models import (
        BallotChannel,
        Budget,
        CensusEntry,
        Eligibility,
        EligibilityStatus,
        Voter,
    )

    budget = Budget(
        title=f"Budget {uuid.uuid4().hex[:6]}",
        submission_starts_on=vote_ends_on - timedelta(days=90),
        submission_ends_on=vote_ends_on - timedelta(days=60),
        vote_starts_on=vote_ends_on - timedelta(days=30),
        vote_ends_on=vote_ends_on,
        implementation_starts_on=vote_ends_on + timedelta(days=30),
    )
    db.session.add(budget)
    db.session.flush()
    census = CensusEntry(
        budget_id=budget.id,
        full_name="Élise Roux",
        normalised_name="elise roux",
        birth_date=date(1984, 2, 3),
    )
    db.session.add(census)
    db.session.flush()
    db.session.add_all(
        [
            Eligibility(
                budget_id=budget.id,
                user_id=user_id,
                full_name="Élise Roux",
                birth_date=date(1984, 2, 3),
                status=EligibilityStatus.APPROVED,
                census_entry_id=census.id,
            ),
            Voter(
                budget_id=budget.id,
                census_entry_id=census.id,
                voter_label="Élise Roux",
                channel=BallotChannel.PAPER,
            ),
        ]
    )
    db.session.flush()
    return {"budget": budget.id}


def test_census_and_eligibility_go_months_after_the_results(app, tenant):
    from participation.budgets import personal_data as budget_personal_data
    from participation.budgets.models import Budget, CensusEntry, Eligibility, Voter
    from tenants.context import tenant_context

    user = create_user(app, tenant)
    vote_end = date(2025, 3, 31)  # results published on 1 April
    with app.app_context(), tenant_context(tenant):
        ids = _budget_with_census(vote_end, user.id)
        budget_id = ids["budget"]

        def count(model):
            return db.session.scalar(sa.select(sa.func.count()).where(model.budget_id == budget_id))

        five_months = datetime(2025, 9, 1, tzinfo=UTC)
        budget_personal_data.purge_budget_census(five_months)
        assert count(CensusEntry) == 1 and count(Eligibility) == 1

        seven_months = datetime(2025, 11, 2, tzinfo=UTC)
        assert budget_personal_data.purge_budget_census(seven_months) >= 1
        db.session.expire_all()
        assert count(CensusEntry) == 0 and count(Eligibility) == 0
        voter = db.session.scalar(sa.select(Voter).where(Voter.budget_id == budget_id))
        assert voter.voter_label is None and voter.census_entry_id is None  # turnout stays
        assert db.session.get(Budget, budget_id).personal_data_purged_at == seven_months
        db.session.rollback()


def test_unconfirmed_accounts_are_deleted_after_30_days(app, tenant):
    from participation.accounts import retention
    from participation.accounts.models import User
    from tenants.context import tenant_context

    unconfirmed = create_user(app, tenant, confirmed=False)
    confirmed = create_user(app, tenant)
    now = datetime.now(UTC)
    with app.app_context(), tenant_context(tenant):
        retention.delete_unconfirmed_accounts(now + timedelta(days=29))
        assert db.session.get(User, unconfirmed.id) is not None
        retention.delete_unconfirmed_accounts(now + timedelta(days=31))
        db.session.expire_all()
        assert db.session.get(User, unconfirmed.id) is None
        assert db.session.get(User, confirmed.id).deleted_at is None
        db.session.rollback()


def test_inactive_accounts_are_warned_then_anonymised(app, tenant, mailbox):
    from participation.accounts import retention
    from participation.accounts.models import User
    from tenants.context import tenant_context

    sleeper = create_user(app, tenant, display_name="Thomas Faure")
    returning = create_user(app, tenant)
    three_years = datetime.now(UTC) + timedelta(days=3 * 365 + 1)
    with app.app_context(), tenant_context(tenant):
        # 30 days before the end of the period: a warning, once.
        warned = retention.warn_inactive_accounts(three_years - timedelta(days=29))
        assert warned >= 2
        assert retention.warn_inactive_accounts(three_years - timedelta(days=28)) == 0
        # Nobody is anonymised before the warning is 30 days old.
        assert retention.anonymise_inactive_accounts(three_years - timedelta(days=1)) == 0
        # The returning citizen comes back: the warning is cancelled.
        retention.touch_last_seen(
            db.session.get(User, returning.id), three_years - timedelta(days=10)
        )
        db.session.commit()
    mail = mailbox.wait_for(
        lambda _: [m for m in mailbox.messages_to(sleeper.email) if "anonymisé" in m["Subject"]]
    )[-1]
    assert "vous connecter" in mail.get_body(("plain",)).get_content()
    with app.app_context(), tenant_context(tenant):
        retention.anonymise_inactive_accounts(three_years + timedelta(days=2))
        db.session.commit()
    gone = load_user(app, tenant, sleeper.id)
    assert gone.deleted_at is not None and gone.email is None
    assert gone.display_name == User.ANONYMOUS_NAME
    kept = load_user(app, tenant, returning.id)
    assert kept.deleted_at is None and kept.inactivity_warned_at is None


def test_the_daily_job_deletes_old_exports_and_is_fanned_out(app, tenant):
    from participation.accounts import retention
    from participation.accounts.tasks import export_dir

    with app.app_context():
        folder = export_dir(tenant.id)
    old = Path(folder) / "user-999999-0123456789abcdef.zip"
    fresh = Path(folder) / "user-999998-0123456789abcdef.zip"
    for path in (old, fresh):
        path.write_bytes(b"PK")
    eight_days_ago = time.time() - 8 * 86400
    os.utime(old, (eight_days_ago, eight_days_ago))
    try:
        with app.app_context():
            result = retention.apply_retention(tenant.id)
        assert result["exports_deleted"] >= 1
        assert not old.exists() and fresh.exists()
    finally:
        fresh.unlink(missing_ok=True)

    from core import cron
    from core.jobs import JOB_RETRY_KINDS

    names = {entry["func"].__name__ for entry in cron.SCHEDULE if "func" in entry}
    assert "enqueue_retention" in names or any(
        "enqueue_retention" in str(entry) for entry in cron.SCHEDULE
    )
    assert JOB_RETRY_KINDS["participation.accounts.retention.apply_retention"] == "periodic"


def test_last_seen_is_written_once_a_day(app, tenant):
    from participation.accounts.models import User
    from tenants.context import tenant_context

    user = create_user(app, tenant)
    client = make_client(app, tenant)
    assert login(client, user.email).status_code == 302
    client.get("/compte")
    first = load_user(app, tenant, user.id).last_seen_at
    assert first is not None
    client.get("/compte")
    assert load_user(app, tenant, user.id).last_seen_at == first  # not every request
    yesterday = first - timedelta(days=1)
    with app.app_context(), tenant_context(tenant):
        db.session.execute(
            sa.update(User)
            .where(User.id == user.id)
            .values(last_seen_at=yesterday, inactivity_warned_at=yesterday)
        )
        db.session.commit()
    client.get("/compte")
    stored = load_user(app, tenant, user.id)
    assert stored.last_seen_at > yesterday and stored.inactivity_warned_at is None


def test_privacy_page_states_the_periods_from_the_settings(app, tenant):
    client = make_client(app, tenant)
    html = unescape(client.get("/confidentialite").text)
    assert "36 mois" in html and "30 jours" in html and "7 jours" in html
    assert "6 mois après la publication des résultats" in html
    app.config["RETENTION_INACTIVE_MONTHS"] = 24
    try:
        assert "24 mois" in unescape(client.get("/confidentialite").text)
    finally:
        app.config["RETENTION_INACTIVE_MONTHS"] = 36
