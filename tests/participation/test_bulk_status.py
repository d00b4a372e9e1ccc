"""A bulk status change skips the proposals already at that status (issue 13 §6): no event,
no audit entry, no notification, not counted, and their own public reason is kept."""

from __future__ import annotations

import html

from tests.support import post
from tests.support.participation import (
    citizen,
    events_of,
    make_process,
    make_proposal,
    notifications_of,
    proposal_row,
    staff,
)
from tests.support.staff import audit_rows

PATH = "/gestion/propositions/liste/statut"


def test_bulk_change_skips_proposals_already_at_the_status(proposals_app, tenant, today):
    app = proposals_app
    process_id = make_process(app, tenant)
    author = citizen(app, tenant)
    already, fresh = (make_proposal(app, tenant, process_id, author) for _ in range(2))
    moderator, _person = staff(app, tenant, "moderator")
    # One proposal is already "À l'étude", with a reason of its own.
    response = post(
        moderator,
        f"/gestion/propositions/{already}",
        {"status": "studying", "reason": "La voirie mesure la rue.", "answer": ""},
    )
    assert response.status_code == 303
    events_before = len(events_of(app, tenant, already))
    notes_before = len(notifications_of(app, tenant, author.id))
    audits_before = len(audit_rows(app, tenant, "proposals.status_changed"))

    response = post(
        moderator,
        PATH,
        {"status": "studying", "proposal_ids": [str(already), str(fresh)], "reason": ""},
    )
    assert response.status_code == 303
    page = html.unescape(moderator.get(response.location).get_data(as_text=True))
    assert "1 proposition(s) passée(s) au statut « À l'étude »." in page
    assert "1 ignorée(s)" in page

    assert proposal_row(app, tenant, fresh)["status"] == "studying"
    assert proposal_row(app, tenant, already)["status_reason"] == "La voirie mesure la rue."
    assert len(events_of(app, tenant, already)) == events_before
    assert len(notifications_of(app, tenant, author.id)) == notes_before + 1  # fresh only
    audits = audit_rows(app, tenant, "proposals.status_changed")[audits_before:]
    assert [row["target_id"] for row in audits] == [str(fresh)]


def test_a_bulk_change_of_proposals_all_at_the_status_changes_nothing(proposals_app, tenant, today):
    from core.db import db
    from participation.accounts.models import User
    from participation.proposals import services
    from tenants.context import tenant_context

    app = proposals_app
    process_id = make_process(app, tenant)
    author = citizen(app, tenant)
    ids = [make_proposal(app, tenant, process_id, author) for _ in range(3)]
    moderator, person = staff(app, tenant, "moderator")
    audits_before = len(audit_rows(app, tenant, "proposals.status_changed"))
    with app.app_context(), tenant_context(tenant):
        actor = db.session.get(User, person.id)
        # "Reçue" is where they are: with a reason, the old code counted all three.
        assert services.bulk_change_status(ids, "received", "Relancée", actor) == (0, 3)
        db.session.commit()
    assert len(audit_rows(app, tenant, "proposals.status_changed")) == audits_before
    assert notifications_of(app, tenant, author.id) == []
