"""Seeded participation data for the benchmark tests, with every expected figure computed
by hand in the comments (and asserted in test_benchmarks.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa

from core.db import db

#: The day the figures are computed for: the window is Dec 2025 – Nov 2026.
TODAY = date(2026, 11, 22)
OCT = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
NOV = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
POPULATION = 2000


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


def seed_participation(app, tenant) -> dict[str, int]:
    """Seven citizens and an admin; nine proposals, supports, comments (see the test)."""
    from tenants.context import tenant_context

    with app.app_context():
        db.session.execute(
            sa.text("UPDATE public.tenants SET population = :p WHERE id = :id"),
            {"p": POPULATION, "id": tenant.id},
        )
        db.session.commit()
    with app.app_context(), tenant_context(tenant.id):
        ids: dict[str, int] = {}

        def user(key: str, bracket: str | None, consent: bool, staff: str | None = None):
            ids[key] = db.session.scalar(
                sa.text(
                    "INSERT INTO users (email, display_name, is_active, session_version, "
                    "staff_role, totp_enabled, recovery_codes, age_bracket, "
                    "demographics_consent_at, notification_frequency, notify_answers, "
                    "notify_comments, notify_processes) VALUES (:e, :n, true, 1, :staff, false, "
                    "'[]', :b, :c, 'never', false, false, false) RETURNING id"
                ),
                {
                    "e": f"{key}.{uuid.uuid4().hex[:8]}@exemple.fr",
                    "n": key,
                    "staff": staff,
                    "b": bracket,
                    "c": NOV if consent else None,
                },
            )

        user("u1", "18-24", True)
        user("u2", "25-39", True)
        user("u3", "25-39", True)
        user("u4", "40-54", True)
        user("u5", "65-79", True)
        user("u6", "80+", True)
        user("u7", "55-64", False)  # no consent: not in the age figures
        user("admin", "40-54", True, staff="admin")  # staff: never a participant
        process = db.session.scalar(
            sa.text(
                "INSERT INTO processes (title, state) VALUES ('Budget des quartiers', "
                "'published') RETURNING id"
            )
        )

        def proposal(key, author, created, status="received", answered=None, **extra):
            ids[key] = db.session.scalar(
                sa.text(
                    "INSERT INTO proposals (process_id, author_id, title, body, status, "
                    "status_reason, answer, answered_at, withdrawn_at, created_at, updated_at) "
                    "VALUES (:p, :a, :t, 'Texte.', :s, :r, :ans, :at, :w, :c, :c) RETURNING id"
                ),
                {
                    "p": process,
                    "a": ids[author],
                    "t": f"Proposition {key}",
                    "s": status,
                    "r": "Hors compétence." if status == "rejected" else None,
                    "ans": "Réponse." if answered else None,
                    "at": answered,
                    "w": extra.get("withdrawn"),
                    "c": created,
                },
            )

        proposal("p1", "u1", OCT, "accepted", at(10, 25))  # 10 days
        proposal("p2", "u2", OCT, "rejected", at(11, 4))  # 20 days
        proposal("p3", "u3", NOV, "done", at(11, 12))  # 2 days
        proposal("p4", "u4", NOV, "studying")  # no answer
        proposal("p5", "u5", NOV, "accepted", at(11, 16))  # 6 days
        proposal("p7", "u6", NOV, "received", withdrawn=NOV)  # withdrawn: a contribution only
        proposal("p8", "u1", NOV, "done", at(11, 20))  # 10 days
        proposal("p9", "u2", NOV, "accepted", at(11, 13))  # 3 days
        for supporter in ("u6", "u7", "u1"):
            db.session.execute(
                sa.text(
                    "INSERT INTO supports (proposal_id, user_id, created_at) VALUES (:p, :u, :c)"
                ),
                {"p": ids["p3"], "u": ids[supporter], "c": NOV},
            )

        def comment(author, hidden=False):
            db.session.execute(
                sa.text(
                    "INSERT INTO comments (proposal_id, author_id, body, hidden_at, created_at, "
                    "updated_at) VALUES (:p, :a, 'Bonne idée', :h, :c, :c)"
                ),
                {"p": ids["p3"], "a": ids[author], "h": NOV if hidden else None, "c": NOV},
            )

        comment("u2")
        comment("admin")  # staff: not counted
        comment("u6", hidden=True)  # hidden by moderation: not counted
        db.session.commit()
        return ids


def insert_snapshot(app, tenant_id, metric, value, base, period=date(2026, 11, 1), span="year"):
    from network.benchmarks.models import TenantMetricSnapshot

    with app.app_context():
        db.session.execute(
            sa.insert(TenantMetricSnapshot.__table__),
            [
                {
                    "tenant_id": tenant_id,
                    "metric": metric,
                    "period": period,
                    "span": span,
                    "value": value,
                    "base_count": base,
                }
            ],
        )
        db.session.commit()


def share(app, network_id, tenant_id, metrics):
    from network.benchmarks.models import NetworkMetricShare

    with app.app_context():
        for metric in metrics:
            db.session.add(
                NetworkMetricShare(network_id=network_id, tenant_id=tenant_id, metric=metric)
            )
        db.session.commit()
