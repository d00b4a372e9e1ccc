"""Plan limits, enforced by the product.

Billing's own code calls it directly::

    from billing.limits import ensure_within_limit, feature_enabled, require_feature

    ensure_within_limit(tenant.id, "open_processes", current_count)  # raises PlanLimitExceeded
    if not feature_enabled(tenant.id, "budget_module"): ...
    @require_feature("budget_module")  # on a view: 403 with the French message

The features below billing (participation) ask ``tenants.plan_limits`` instead, which this
module answers (:func:`ensure_feature`, installed by ``billing.init_app``).

``str(PlanLimitExceeded)`` is a French message that names the plan, the limit and the way
up (the plan to choose, and where an admin does it). The app answers an uncaught one with a
403 page showing that message.

A tenant without a subscription row (made by an operator outside self-service) has no
limits. A key missing from a plan's limits, or ``null``, is unlimited (or included).

Safety net: publishing a démarche beyond ``open_processes`` fails at flush time, whichever
code path does it (:func:`install_process_guard`).
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa
from flask import has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from werkzeug.routing import BuildError

from billing.models import Plan, Subscription
from core.db import TenantSession, db
from tenants.plan_limits import require_feature  # noqa: F401 - answered by ensure_feature

#: How a counted limit reads in a sentence ("2 démarches ouvertes en même temps").
LIMIT_PHRASES = {
    "open_processes": _l("démarches ouvertes en même temps"),
    "staff_members": _l("membres dans l'équipe"),
}
FEATURE_PHRASES = {
    "budget_module": _l("le budget participatif"),
    "custom_domain": _l("le nom de domaine personnalisé"),
}
BILLING_PATH = "/gestion/abonnement"


class PlanLimitExceeded(Exception):  # noqa: N818 - the name the other packages use
    """An action the tenant's plan does not allow; ``str()`` is the French explanation."""

    def __init__(self, message: str, key: str, limit=None, plan_code: str | None = None):
        super().__init__(message)
        self.message = message
        self.key = key
        self.limit = limit
        self.plan_code = plan_code

    def __str__(self) -> str:
        return self.message


def _plan_of(tenant_id: int, session=None) -> Plan | None:
    session = session or db.session
    return session.scalar(
        sa.select(Plan)
        .join(Subscription, Subscription.plan_id == Plan.id)
        .where(Subscription.tenant_id == tenant_id)
    )


def limit_for(tenant_id: int, key: str):
    """The plan's value for ``key``: an int, a bool, or None (unlimited / no plan)."""
    plan = _plan_of(tenant_id)
    return plan.limit(key) if plan is not None else None


def feature_enabled(tenant_id: int, key: str) -> bool:
    return limit_for(tenant_id, key) is not False


def _billing_page() -> str:
    if has_request_context():
        with contextlib.suppress(BuildError, RuntimeError):
            return url_for("billing_admin.index")
    return BILLING_PATH


def _upgrade_sentence(plan: Plan, key: str) -> str:
    from billing.services import upgrade_for

    upgrade = upgrade_for(plan, key)
    if upgrade is None:
        return _(
            "Pour aller au-delà, contactez l'équipe Pnyx : nous construirons avec vous une "
            "offre sur mesure."
        )
    return _(
        "L'offre « %(upgrade)s » le permet : un administrateur ou une administratrice de "
        "l'espace peut changer d'offre depuis Administration › Abonnement (%(path)s).",
        upgrade=upgrade.name,
        path=_billing_page(),
    )


def limit_message(plan: Plan, key: str, limit: int, current_count: int) -> str:
    phrase = LIMIT_PHRASES.get(key, key)
    return " ".join(
        [
            _(
                "Votre offre « %(plan)s » permet %(limit)d %(what)s au plus, et vous en avez "
                "déjà %(count)d.",
                plan=plan.name,
                limit=limit,
                what=phrase,
                count=current_count,
            ),
            _upgrade_sentence(plan, key),
        ]
    )


def feature_message(plan: Plan, key: str) -> str:
    phrase = FEATURE_PHRASES.get(key, key)
    return " ".join(
        [
            _(
                "Votre offre « %(plan)s » ne comprend pas %(what)s.",
                plan=plan.name,
                what=phrase,
            ),
            _upgrade_sentence(plan, key),
        ]
    )


def ensure_within_limit(tenant_id: int, key: str, current_count: int) -> None:
    """Raise :class:`PlanLimitExceeded` when one more would go beyond the plan's limit
    (``current_count`` is how many the tenant has now, before the new one)."""
    plan = _plan_of(tenant_id)
    if plan is None:
        return
    limit = plan.limit(key)
    if limit is None or isinstance(limit, bool):
        return
    if current_count >= limit:
        raise PlanLimitExceeded(
            limit_message(plan, key, limit, current_count), key, limit, plan.code
        )


def ensure_feature(tenant_id: int, key: str) -> None:
    plan = _plan_of(tenant_id)
    if plan is not None and plan.limit(key) is False:
        raise PlanLimitExceeded(feature_message(plan, key), key, False, plan.code)


# --------------------------------------------------------------------------- usage


def count_open_processes(session=None) -> int:
    """Published démarches of the current tenant (the session must be bound to it)."""
    from participation.processes.models import Process, ProcessState

    session = session or db.session
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Process)
        .where(Process.state == ProcessState.PUBLISHED)
    )


def count_staff_members(session=None) -> int:
    from participation.accounts.models import User

    session = session or db.session
    return session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.staff_role.is_not(None))
    )


USAGE_COUNTERS = {
    "open_processes": count_open_processes,
    "staff_members": count_staff_members,
}


def usage() -> dict[str, int]:
    """How much of each counted limit the current tenant uses."""
    return {key: counter() for key, counter in USAGE_COUNTERS.items()}


# --------------------------------------------------------------------------- safety net


def _publishing_processes(session) -> list:
    from participation.processes.models import Process, ProcessState

    found = []
    for obj in session.new:
        if isinstance(obj, Process) and obj.state == ProcessState.PUBLISHED:
            found.append(obj)
    for obj in session.dirty:
        if (
            isinstance(obj, Process)
            and obj.state == ProcessState.PUBLISHED
            and sa.inspect(obj).attrs.state.history.has_changes()
        ):
            found.append(obj)
    return found


def _guard_process_publication(session, flush_context, instances) -> None:
    schema = session.info.get("tenant_schema")
    if schema is None:
        return
    publishing = _publishing_processes(session)
    if not publishing:
        return
    from participation.processes.models import Process, ProcessState

    tenant_id = int(schema.removeprefix("t_"))
    with session.no_autoflush:
        plan = _plan_of(tenant_id, session)
        limit = plan.limit("open_processes") if plan is not None else None
        if limit is None or isinstance(limit, bool):
            return
        known_ids = [p.id for p in publishing if p.id is not None]
        query = (
            sa.select(sa.func.count())
            .select_from(Process)
            .where(Process.state == ProcessState.PUBLISHED)
        )
        if known_ids:
            query = query.where(Process.id.not_in(known_ids))
        already = session.scalar(query)
    if already + len(publishing) > limit:
        message = limit_message(plan, "open_processes", limit, already)
        raise PlanLimitExceeded(message, "open_processes", limit, plan.code)


def install_process_guard() -> None:
    if not event.contains(TenantSession, "before_flush", _guard_process_publication):
        event.listen(TenantSession, "before_flush", _guard_process_publication)
