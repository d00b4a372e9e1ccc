"""The demo seeders of signalements and meetings: realistic content in a demo tenant,
idempotent (run twice, same rows)."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db


def test_signalement_and_meeting_demo_seeders_are_idempotent(
    proposals_app, make_tenant, monkeypatch
):
    from participation.accounts import demo as accounts_demo
    from participation.meetings import demo as meetings_demo
    from participation.meetings.models import Meeting, MeetingProposal, MeetingRegistration
    from participation.problems import demo as problems_demo
    from participation.problems.models import ProblemCategory, ProblemReport, ProblemReportEvent
    from participation.processes import demo as processes_demo
    from participation.staff import demo as staff_demo
    from tenants.context import tenant_context

    # A tenant of its own, seeded with Mulhouse's demo data (the real slug is left alone).
    source = "mulhouse"
    app = proposals_app
    tenant = make_tenant()
    slug = tenant.slug
    patches = (
        (accounts_demo, "DEMO_CITIZENS", accounts_demo.DEMO_CITIZENS),
        (accounts_demo, "DEMO_NEIGHBOURHOODS", accounts_demo.DEMO_NEIGHBOURHOODS),
        (staff_demo, "NEIGHBOURHOODS", staff_demo.NEIGHBOURHOODS),
        (processes_demo, "PROCESSES", processes_demo.PROCESSES),
        (problems_demo, "REPORTS", problems_demo.REPORTS),
        (meetings_demo, "MEETINGS", meetings_demo.MEETINGS),
    )
    for module, name, data in patches:
        monkeypatch.setattr(module, name, {slug: data[source]})

    def seed() -> list[str]:
        lines = []
        with app.app_context():
            for seeder in (
                accounts_demo.seed_citizens,
                staff_demo.seed_staff,
                processes_demo.seed_processes,
                meetings_demo.seed_meetings,
                problems_demo.seed_problems,
            ):
                lines += list(seeder())
        return lines

    models = (
        ProblemCategory,
        ProblemReport,
        ProblemReportEvent,
        Meeting,
        MeetingRegistration,
        MeetingProposal,
    )

    def snapshot():
        with app.app_context(), tenant_context(tenant):
            return tuple(
                db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in models
            )

    lines = seed()
    first = snapshot()
    assert any(line.startswith(f"{tenant.name} signalements: ") for line in lines), lines
    assert any(line.startswith(f"{tenant.name} réunions: ") for line in lines), lines
    categories, reports, events, meetings, registrations, proposals = first
    assert categories == 5 and reports == len(problems_demo.REPORTS[slug])
    assert events > reports  # some reports went through several steps
    assert meetings == 3 and registrations >= 4 and proposals == 1
    with app.app_context(), tenant_context(tenant):
        statuses = set(db.session.scalars(sa.select(ProblemReport.status)))
        waiting = db.session.scalar(
            sa.select(sa.func.count()).where(MeetingRegistration.status == "waiting")
        )
    assert {"new", "in_progress", "resolved", "rejected"} <= {s.value for s in statuses}
    assert waiting == 1  # the full meeting has a waiting list
    seed()
    assert snapshot() == first
    # The demo pages render.
    from tests.support import client_on

    client = client_on(app, tenant)
    page = client.get("/signalements").get_data(as_text=True)
    assert "Nid-de-poule rue de la Sinne" in page
    page = client.get("/reunions").get_data(as_text=True)
    assert "Réunion publique : réaménagement de la place de la Réunion" in page
