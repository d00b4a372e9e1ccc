"""Bounded SQL on the busiest pages, counted with SQLAlchemy's ``before_cursor_execute``:
the proposal list runs the same queries for 10 or 50 cards, and a proposal, a debate or a
process page the same queries for 5 or 200 comments (the thread shows 30 top-level comments
per page, with their replies). Also the per-process cache of the per-tenant values every
page reads (tenants.cache): no query once warm, fresh values right after a change."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import signed_in
from tests.support.participation import (
    bulk_proposals,
    citizen,
    count_queries,
    make_process,
    read,
    set_setting,
)

LIST_PAGE_MAX_QUERIES = 12
PROPOSAL_PAGE_MAX_QUERIES = 15


@pytest.fixture
def papp(proposals_app):
    return proposals_app


def _comments(papp, tenant, authors: list[int], roots: int, replies: int = 0, **target) -> None:
    """``roots`` top-level comments on ``target`` (proposal_id=…, debate_id=… or
    process_id=…), and ``replies`` replies to the first ones, a second apart."""
    from participation.engagement.comments import Comment

    def add():
        start = datetime.now(UTC) - timedelta(days=1)
        ids = db.session.scalars(
            sa.insert(Comment).returning(Comment.id),
            [
                {
                    **target,
                    "author_id": authors[i % len(authors)],
                    "body": f"Avis numéro {i} : **d'accord**",
                    "depth": 0,
                    "created_at": start + timedelta(seconds=i),
                    "updated_at": start + timedelta(seconds=i),
                }
                for i in range(roots)
            ],
        ).all()
        if replies:
            db.session.execute(
                sa.insert(Comment),
                [
                    {
                        **target,
                        "parent_id": ids[i % len(ids)],
                        "author_id": authors[(i + 1) % len(authors)],
                        "body": f"Réponse numéro {i}",
                        "depth": 1,
                        "created_at": start + timedelta(hours=1, seconds=i),
                        "updated_at": start + timedelta(hours=1, seconds=i),
                    }
                    for i in range(replies)
                ],
            )
        db.session.commit()

    read(papp, tenant, add)


def _queries(papp, client, path: str) -> tuple[int, str]:
    """The statements of a warm request (the fewer of two: a per-tenant value whose TTL
    ends in between is read again once, which is not what is measured here)."""
    client.get(path)  # warm: tenant resolution, templates, per-tenant values
    counts = []
    for _ in range(2):
        with count_queries(papp) as statements:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts.append(len(statements))
    return min(counts), response.get_data(as_text=True)


def _proposal(papp, tenant, process_id: int, author_id: int) -> int:
    return bulk_proposals(papp, tenant, process_id, author_id, 1, title="Des bancs {i}")[0]


# --------------------------------------------------------------------------- the list


def test_the_list_runs_the_same_queries_for_10_or_50_cards(papp, tenant, today):
    author = citizen(papp, tenant)
    process_id = make_process(papp, tenant)
    bulk_proposals(papp, tenant, process_id, author.id, 60)
    viewer = signed_in(papp, tenant, citizen(papp, tenant))
    counts = {}
    for size in (10, 50):
        count, html = _queries(
            papp, viewer, f"/demarches/{process_id}/propositions?per_page={size}"
        )
        assert html.count('class="proposal-card"') == size
        counts[size] = count
    assert counts[10] == counts[50], counts
    assert counts[50] <= LIST_PAGE_MAX_QUERIES, counts


# --------------------------------------------------------------------------- threads


def test_a_proposal_page_runs_the_same_queries_for_5_or_200_comments(papp, tenant, today):
    process_id = make_process(papp, tenant)
    people = [citizen(papp, tenant).id for _ in range(6)]
    quiet = _proposal(papp, tenant, process_id, people[0])
    busy = _proposal(papp, tenant, process_id, people[0])
    _comments(papp, tenant, people, 5, proposal_id=quiet)
    _comments(papp, tenant, people, 200, replies=60, proposal_id=busy)
    viewer = signed_in(papp, tenant, citizen(papp, tenant))
    quiet_count, quiet_html = _queries(papp, viewer, f"/propositions/{quiet}")
    busy_count, busy_html = _queries(papp, viewer, f"/propositions/{busy}")
    assert quiet_html.count('class="comment"') == 5
    # 30 top-level comments and the replies to them (the first 60 roots have one each).
    assert busy_html.count('class="comment"') == 60
    assert "260 commentaires" in busy_html
    assert quiet_count == busy_count, (quiet_count, busy_count)
    assert busy_count <= PROPOSAL_PAGE_MAX_QUERIES
    # Another page of the thread costs the same.
    last_count, last_html = _queries(papp, viewer, f"/propositions/{busy}?commentaires=7")
    assert last_count == busy_count
    assert last_html.count('class="comment"') == 20  # roots 181 to 200, no replies


def test_a_debate_page_runs_the_same_queries_for_5_or_200_comments(papp, tenant, today):
    from participation.debates.models import Debate

    process_id = make_process(papp, tenant, actions=("comment", "debate"))

    def debates():
        quiet = Debate(process_id=process_id, question="Faut-il des bancs ?")
        busy = Debate(process_id=process_id, question="Faut-il des arbres ?")
        db.session.add_all([quiet, busy])
        db.session.commit()
        return quiet.id, busy.id

    quiet, busy = read(papp, tenant, debates)
    people = [citizen(papp, tenant).id for _ in range(4)]
    _comments(papp, tenant, people, 5, debate_id=quiet)
    _comments(papp, tenant, people, 200, replies=10, debate_id=busy)
    viewer = signed_in(papp, tenant, citizen(papp, tenant))
    quiet_count, _ = _queries(papp, viewer, f"/debats/{quiet}")
    busy_count, busy_html = _queries(papp, viewer, f"/debats/{busy}")
    assert busy_html.count('class="comment"') == 40  # 30 roots, 10 replies
    assert quiet_count == busy_count, (quiet_count, busy_count)


def test_a_process_page_runs_the_same_queries_for_5_or_200_comments(papp, tenant, today):
    quiet = make_process(papp, tenant)
    busy = make_process(papp, tenant)
    people = [citizen(papp, tenant).id for _ in range(4)]
    _comments(papp, tenant, people, 5, process_id=quiet)
    _comments(papp, tenant, people, 200, replies=10, process_id=busy)
    viewer = signed_in(papp, tenant, citizen(papp, tenant))
    quiet_count, _ = _queries(papp, viewer, f"/demarches/{quiet}")
    busy_count, busy_html = _queries(papp, viewer, f"/demarches/{busy}")
    assert busy_html.count('class="comment"') == 40
    assert quiet_count == busy_count, (quiet_count, busy_count)


# --------------------------------------------------------------------------- cached values


_CACHED_TABLES = re.compile(r"FROM \w+\.(settings|legal_documents|themes|neighbourhoods)\b")


def _settings_queries(statements: list[str]) -> list[str]:
    return [s for s in statements if _CACHED_TABLES.search(s)]


def test_every_page_values_are_read_once_per_process(papp, tenant, today):
    """Branding, legal versions, proposal settings and filters: no query once warm."""
    process_id = make_process(papp, tenant)
    viewer = signed_in(papp, tenant, citizen(papp, tenant))
    path = f"/demarches/{process_id}/propositions"
    viewer.get(path)
    with count_queries(papp) as statements:
        assert viewer.get(path).status_code == 200
    assert _settings_queries(statements) == []


def test_a_changed_setting_shows_at_once(papp, own_tenant, today):
    """A status label or the site name changed (ORM or raw SQL) is on the next page."""
    from tenants.context import tenant_context

    process_id = make_process(papp, own_tenant)
    author = citizen(papp, own_tenant)
    proposal_id = _proposal(papp, own_tenant, process_id, author.id)
    viewer = signed_in(papp, own_tenant, citizen(papp, own_tenant))
    assert "Reçue" in viewer.get(f"/propositions/{proposal_id}").get_data(as_text=True)

    set_setting(papp, own_tenant, "proposal_status_labels", {"received": "Déposée"})
    set_setting(papp, own_tenant, "site_name", "Ville test renommée")
    html = viewer.get(f"/propositions/{proposal_id}").get_data(as_text=True)
    assert "Déposée" in html and "Ville test renommée" in html

    # Raw SQL, as a script or a migration would do it, is seen too.
    with papp.app_context(), tenant_context(own_tenant):
        db.session.execute(sa.text("DELETE FROM settings WHERE key = 'proposal_status_labels'"))
        db.session.commit()
    html = viewer.get(f"/propositions/{proposal_id}").get_data(as_text=True)
    assert "Déposée" not in html and "Reçue" in html


def test_values_read_in_a_rolled_back_transaction_are_not_kept(papp, own_tenant, today):
    from participation.proposals import services
    from tenants.context import tenant_context
    from tenants.models import TenantSetting

    with papp.test_request_context(), tenant_context(own_tenant):
        db.session.add(
            TenantSetting(key=services.STATUS_LABELS_SETTING, value={"received": "Fantôme"})
        )
        db.session.flush()
        assert services.status_labels()[services.ProposalStatus.RECEIVED] == "Fantôme"
        db.session.rollback()
    with papp.test_request_context(), tenant_context(own_tenant):
        assert services.status_labels()[services.ProposalStatus.RECEIVED] == "Reçue"
