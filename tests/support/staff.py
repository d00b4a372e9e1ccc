"""What the staff tests read back: accounts as the database holds them, the audit log, the
tenant's settings, fingerprints of the staff tables (equal means untouched), and TOTP codes."""

from __future__ import annotations

import time

import pyotp
import sqlalchemy as sa

from core.db import db


def totp_now(secret: str, step_offset: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(int(time.time()) + step_offset * totp.interval)


def fresh_code(secret: str, last_step: int | None) -> str:
    """A code the anti-replay check accepts after ``last_step`` (the next step if need be)."""
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // totp.interval
    step = now_step if last_step is None or last_step < now_step else now_step + 1
    return totp.at(step * totp.interval)


def read_user(app, tenant, user_id: int):
    from participation.accounts.models import User
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        user = db.session.get(User, user_id)
        if user is None:
            return None
        return {
            "staff_role": user.staff_role.value if user.staff_role else None,
            "services": sorted(s.name for s in user.services),
            "session_version": user.session_version,
            "totp_enabled": user.totp_enabled,
            "totp_last_step": user.totp_last_step,
            "recovery_codes": list(user.recovery_codes or []),
            "email_confirmed": user.email_confirmed_at is not None,
            "display_name": user.display_name,
        }


def audit_rows(app, tenant, action: str | None = None) -> list[dict]:
    from core.audit import AuditEntry
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        query = sa.select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return [
            {
                "action": e.action,
                "actor_id": e.actor_id,
                "actor_label": e.actor_label,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "details": e.details,
                "occurred_at": e.occurred_at,
            }
            for e in db.session.scalars(query)
        ]


def setting(app, tenant, key: str):
    from tenants.context import tenant_context
    from tenants.models import TenantSetting

    with app.app_context(), tenant_context(tenant):
        row = db.session.get(TenantSetting, key)
        return row.value if row is not None else None


FINGERPRINT_TABLES = (
    "audit_log",
    "invitations",
    "services",
    "neighbourhoods",
    "users",
    "user_services",
    "settings",
)


#: A row as the fingerprints see it: every column but the visit dates that any signed-in
#: request may write once a day (participation.accounts.retention.touch_last_seen).
ROW_WITHOUT_VISIT_DATES = "to_jsonb(t) - 'last_seen_at' - 'inactivity_warned_at'"


def fingerprint(app, tenant) -> dict[str, str]:
    """A digest of every row of the tables the staff pages write: equal means untouched."""
    out = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in FINGERPRINT_TABLES:
            out[table] = conn.scalar(
                sa.text(
                    f"SELECT md5(coalesce(string_agg(row_digest, '|' ORDER BY row_digest), '')) "
                    f"FROM (SELECT ({ROW_WITHOUT_VISIT_DATES})::text AS row_digest "
                    f'FROM "{tenant.schema}"."{table}" t) rows'
                )
            )
    return out
