"""Retention of the tenant's personal data (docs/features/privacy.md).

Once a day (core/cron.py lists this module) ``enqueue_retention`` queues one
``apply_retention(tenant_id)`` job per active tenant (job id per tenant and day), which:

- deletes the census list and the eligibility declarations (full name, birth date) of every
  budget whose results were published more than ``RETENTION_BUDGET_CENSUS_MONTHS`` ago (the
  results are published the day after the vote closes), and the names of the paper-ballot
  register;
- deletes the accounts never confirmed after ``RETENTION_UNCONFIRMED_DAYS``;
- e-mails the accounts unused for ``RETENTION_INACTIVE_MONTHS`` minus
  ``RETENTION_INACTIVE_WARNING_DAYS``, and anonymises those still unused once the warning is
  that old (``delete_account``: every registered erasure rule);
- deletes the RGPD archives older than ``RETENTION_EXPORT_DAYS``.

"Unused" is the latest of ``last_seen_at`` (set at most once a day per user by
:func:`touch_last_seen`), ``last_login_at`` and ``created_at``.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from flask_babel import format_date
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from core import clock
from core.db import db
from core.jobs import enqueue, job
from core.mail import send_mail
from participation.accounts import services
from participation.accounts.models import User
from participation.accounts.personal_data import retention_periods
from tenants.context import current_tenant, tenant_job, tenant_job_id
from tenants.listing import active_tenant_ids
from tenants.urls import tenant_url

log = logging.getLogger(__name__)


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus whole calendar months (31 March − 1 month = 28/29 February)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


# --------------------------------------------------------------------------- features' rules

# Features with a retention rule of their own (budgets purge their census lists) register it
# here, from their personal_data module: name of the count in the job's result -> rule.
FEATURE_RULES: dict[str, Callable[[datetime], int]] = {}


def register_rule(result_key: str, rule: Callable[[datetime], int]) -> None:
    """Run ``rule(now)`` in every tenant's daily retention job; it returns how many rows or
    records it purged, reported under ``result_key``."""
    FEATURE_RULES[result_key] = rule


def _last_activity():
    return sa.func.greatest(
        sa.func.coalesce(User.last_seen_at, User.created_at),
        sa.func.coalesce(User.last_login_at, User.created_at),
        User.created_at,
    )


def delete_unconfirmed_accounts(now: datetime | None = None) -> int:
    """Accounts whose address was never confirmed: the row goes when nothing refers to it,
    else it is anonymised like a deleted account."""
    now = now or clock.utcnow()
    cutoff = now - timedelta(days=retention_periods()["unconfirmed_days"])
    users = db.session.scalars(
        sa.select(User).where(
            User.email_confirmed_at.is_(None),
            User.deleted_at.is_(None),
            User.staff_role.is_(None),
            User.created_at < cutoff,
        )
    ).all()
    for user in users:
        user_id = user.id
        services.delete_account(user, by="retention:unconfirmed")
        try:
            with db.session.begin_nested():
                db.session.execute(sa.delete(User).where(User.id == user_id))
        except IntegrityError:
            pass  # referenced by something kept (a report, a vote): stays anonymised
    db.session.flush()
    return len(users)


def warn_inactive_accounts(now: datetime | None = None) -> int:
    """E-mail the accounts that will be anonymised in RETENTION_INACTIVE_WARNING_DAYS."""
    now = now or clock.utcnow()
    periods = retention_periods()
    warning = timedelta(days=periods["inactive_warning_days"])
    cutoff = months_before(now, periods["inactive_months"]) + warning
    users = db.session.scalars(
        sa.select(User)
        .where(
            User.deleted_at.is_(None),
            User.email.is_not(None),
            User.email_confirmed_at.is_not(None),
            User.inactivity_warned_at.is_(None),
            _last_activity() < cutoff,
        )
        .with_for_update(skip_locked=True)
    ).all()
    tenant = current_tenant()
    for user in users:
        deadline = (now + warning).date()
        send_mail(
            user.email,
            "account_inactive_warning",
            user=user,
            tenant=tenant,
            months=periods["inactive_months"],
            deadline=format_date(deadline, "d MMMM yyyy"),
            login_link=tenant_url(tenant, "accounts.login"),
        )
        user.inactivity_warned_at = now
    db.session.flush()
    return len(users)


def anonymise_inactive_accounts(now: datetime | None = None) -> int:
    """Accounts warned at least RETENTION_INACTIVE_WARNING_DAYS ago and still unused."""
    now = now or clock.utcnow()
    periods = retention_periods()
    warned_before = now - timedelta(days=periods["inactive_warning_days"])
    users = db.session.scalars(
        sa.select(User).where(
            User.deleted_at.is_(None),
            User.inactivity_warned_at.is_not(None),
            User.inactivity_warned_at <= warned_before,
            _last_activity() < months_before(now, periods["inactive_months"]),
        )
    ).all()
    count = 0
    for user in users:
        try:
            with db.session.begin_nested():
                services.delete_account(user, by="retention:inactive")
            count += 1
        except services.AccountError:
            # The last administrator of the space: never left without one.
            log.warning("retention: last administrator #%s kept although inactive", user.id)
    db.session.flush()
    return count


def touch_last_seen(user: User, now: datetime | None = None) -> bool:
    """Record that ``user`` used the site today: one UPDATE a day at most per user (the
    first request of the day), which also cancels an inactivity warning."""
    now = now or clock.utcnow()
    seen = user.last_seen_at
    if seen is not None and seen.astimezone(UTC).date() >= now.date():
        return False
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        # A visit is not a change of the account: updated_at keeps its value (it would take
        # the column's onupdate default otherwise).
        .values(last_seen_at=now, inactivity_warned_at=None, updated_at=User.updated_at)
        .execution_options(synchronize_session=False)
    )
    # Written above already: set on the instance without making it dirty, or the flush would
    # update the row again (and its updated_at with it).
    set_committed_value(user, "last_seen_at", now)
    set_committed_value(user, "inactivity_warned_at", None)
    return True


# --------------------------------------------------------------------------- the jobs


@tenant_job
def apply_retention(tenant_id: int, now_iso: str | None = None) -> dict[str, int]:
    """Every retention rule of one tenant, in one transaction (idempotent)."""
    from participation.accounts.tasks import purge_expired_exports

    now = datetime.fromisoformat(now_iso) if now_iso else clock.utcnow()
    result = {key: rule(now) for key, rule in FEATURE_RULES.items()}
    result |= {
        "unconfirmed_deleted": delete_unconfirmed_accounts(now),
        "inactive_anonymised": anonymise_inactive_accounts(now),
        "inactive_warned": warn_inactive_accounts(now),
    }
    db.session.commit()  # the warnings' mails go through the outbox with this commit
    # Files last: a rolled-back transaction never loses an archive the user may still fetch.
    result["exports_deleted"] = purge_expired_exports(tenant_id, now.timestamp())
    return result


def enqueue_retention_jobs(day: date | None = None) -> list[int]:
    day = day or date.today()
    tenant_ids = active_tenant_ids()
    for tenant_id in tenant_ids:
        enqueue(
            apply_retention,
            tenant_id,
            queue="low",
            job_id=tenant_job_id(tenant_id, "retention", day.isoformat()),
        )
    return tenant_ids


@job
def enqueue_retention() -> int:
    """The cron entry point: one retention job per active tenant and day."""
    return len(enqueue_retention_jobs())


def _touch_current_user() -> None:
    from flask_login import current_user

    if current_tenant() is None or not current_user or not current_user.is_authenticated:
        return
    if not isinstance(current_user._get_current_object(), User):
        return
    if touch_last_seen(current_user._get_current_object()):
        # Nothing else is pending this early in the request: this commits the date only.
        db.session.commit()


def init_app(app: Flask) -> None:
    if "_pnyx_last_seen" in app.extensions:
        return
    app.extensions["_pnyx_last_seen"] = True
    app.before_request(_touch_current_user)
