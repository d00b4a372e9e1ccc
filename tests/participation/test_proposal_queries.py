"""SQL query counts of the proposal pages, counted with SQLAlchemy's
``before_cursor_execute``: the list runs the same number of queries for 10 or 50 cards (no
N+1: authors, themes, neighbourhoods, supports and comment counts come in bulk), and a
proposal page stays bounded whatever its timeline, supports and comments."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    post,
    signed_in,
)
from tests.support.participation import (
    bulk_proposals,
    citizen,
    count_queries,
    make_process,
    make_proposal,
    read,
    service_id,
    staff,
)

#: What a proposal page may cost, comments and follow button included.
PROPOSAL_PAGE_MAX_QUERIES = 25
LIST_PAGE_MAX_QUERIES = 15


@pytest.fixture
def papp(proposals_app):
    return proposals_app


def _themes_and_places(papp, tenant, n: int = 3) -> tuple[list[int], list[int]]:
    from participation.accounts.models import Neighbourhood
    from participation.processes.models import Theme

    def make():
        themes = [Theme(name=f"Thème requêtes {i} {uuid.uuid4().hex[:12]}") for i in range(n)]
        places = [
            Neighbourhood(name=f"Quartier requêtes {i} {uuid.uuid4().hex[:12]}") for i in range(n)
        ]
        db.session.add_all(themes + places)
        db.session.commit()
        return [t.id for t in themes], [p.id for p in places]

    return read(papp, tenant, make)


def _decorate(papp, tenant, ids: list[int], voters: list[int]) -> None:
    """Supports by the viewer and comments on every proposal of the list."""
    from participation.engagement.comments import Comment
    from participation.proposals.models import Support

    def add():
        for index, proposal_id in enumerate(ids):
            for voter in voters[: 1 + index % len(voters)]:
                db.session.add(Support(proposal_id=proposal_id, user_id=voter))
            db.session.add(Comment(proposal_id=proposal_id, author_id=voters[0], body="Bravo"))
        db.session.commit()

    read(papp, tenant, add)


def _list_queries(papp, client, path: str) -> tuple[int, str]:
    """The statements of a warm request (the fewer of two: a cached per-tenant value whose
    TTL ends in between is read again once, which is not what is measured here)."""
    client.get(path)  # warm caches (tenant resolution, templates, per-tenant values)
    counts = []
    for _ in range(2):
        with count_queries(papp) as statements:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(len(statements))
    return min(counts), response.get_data(as_text=True)


def test_the_list_runs_the_same_queries_for_10_or_50_cards(papp, tenant, today):
    themes, places = _themes_and_places(papp, tenant)
    voters = [citizen(papp, tenant).id for _ in range(3)]
    authors = [citizen(papp, tenant) for _ in range(3)]
    viewer = signed_in(papp, tenant, _person(papp, tenant, voters[0]))
    counts = []
    for n in (10, 50):
        process_id = make_process(papp, tenant)
        ids = []
        for i, author in enumerate(authors):
            ids += bulk_proposals(
                papp,
                tenant,
                process_id,
                author.id,
                n // len(authors) + (1 if i < n % len(authors) else 0),
                theme_id=themes[i],
                neighbourhood_id=places[i],
            )
        assert len(ids) == n
        _decorate(papp, tenant, ids, voters)
        count, html = _list_queries(
            papp, viewer, f"/demarches/{process_id}/propositions?per_page=50"
        )
        assert html.count('class="proposal-card"') == n
        assert "Vous soutenez cette proposition" in html
        counts.append(count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= LIST_PAGE_MAX_QUERIES, counts


def _person(papp, tenant, user_id: int):
    from participation.accounts.models import User
    from tests.support import Person

    def load():
        user = db.session.get(User, user_id)
        return Person(user.id, user.email, user.display_name, user.session_version, None, None)

    return read(papp, tenant, load)


def test_the_list_with_search_and_filters_stays_flat(papp, tenant, today):
    themes, _places = _themes_and_places(papp, tenant, 1)
    author = citizen(papp, tenant)
    counts = []
    for n in (10, 50):
        process_id = make_process(papp, tenant)
        bulk_proposals(papp, tenant, process_id, author.id, n, theme_id=themes[0], title="Vélo {i}")
        anonymous = signed_in(papp, tenant, citizen(papp, tenant))
        count, html = _list_queries(
            papp,
            anonymous,
            f"/demarches/{process_id}/propositions?per_page=50&q=vélo&theme={themes[0]}"
            "&sort=relevance",
        )
        assert html.count('class="proposal-card"') == n
        counts.append(count)
    assert counts[0] == counts[1], counts


def test_a_proposal_page_is_bounded(papp, tenant, today):
    from participation.engagement.comments import Comment
    from participation.proposals.models import Support

    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    people = [citizen(papp, tenant) for _ in range(15)]
    quiet = make_proposal(papp, tenant, process_id, author)
    busy = make_proposal(papp, tenant, process_id, author)
    moderator, _ = staff(papp, tenant, "moderator")
    for status in ("studying", "accepted", "studying", "done"):
        post(moderator, f"/gestion/propositions/{busy}", {"status": status, "reason": "Étape"})

    def add():
        for index, person in enumerate(people):
            db.session.add(Support(proposal_id=busy, user_id=person.id))
            db.session.add(
                Comment(proposal_id=busy, author_id=person.id, body=f"Commentaire {index}")
            )
        db.session.flush()
        first = db.session.scalar(sa.select(Comment.id).where(Comment.proposal_id == busy).limit(1))
        for person in people[:5]:
            db.session.add(
                Comment(
                    proposal_id=busy, author_id=person.id, body="Réponse", parent_id=first, depth=1
                )
            )
        db.session.commit()

    read(papp, tenant, add)
    viewer = signed_in(papp, tenant, people[0])
    counts = {}
    for proposal_id in (quiet, busy):
        counts[proposal_id], html = _list_queries(papp, viewer, f"/propositions/{proposal_id}")
    assert "Commentaire 14" in html
    assert counts[quiet] == counts[busy], counts
    assert counts[busy] <= PROPOSAL_PAGE_MAX_QUERIES, counts


def test_the_staff_list_runs_the_same_queries_for_10_or_50_rows(papp, tenant, today):
    from participation.proposals.models import Proposal

    voirie = service_id(papp, tenant, "Voirie")
    admin, _ = staff(papp, tenant, "admin")
    _agent_client, agent = staff(papp, tenant, "agent", services=("Voirie",))
    counts = []
    for n in (10, 50):
        process_id = make_process(papp, tenant)
        authors = [citizen(papp, tenant) for _ in range(2)]
        ids = []
        for author in authors:
            ids += bulk_proposals(papp, tenant, process_id, author.id, n // 2)

        def assign(ids=ids):
            db.session.execute(
                sa.update(Proposal)
                .where(Proposal.id.in_(ids))
                .values(service_id=voirie, assignee_id=agent.id)
            )
            db.session.commit()

        read(papp, tenant, assign)
        count, html = _list_queries(
            papp, admin, f"/gestion/propositions/liste?process={process_id}"
        )
        assert html.count('name="proposal_ids"') == n
        counts.append(count)
    assert counts[0] == counts[1], counts
