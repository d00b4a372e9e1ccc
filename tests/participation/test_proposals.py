"""Proposals, citizen side: submission (image, map point, honeypot), edition within the
window, withdrawal, supports (one per citizen, exact under concurrency, the threshold),
lists (filters, sorts, seeded random order, pagination, French full-text search), the
proposal page, the process page's section and the demo seeder."""

from __future__ import annotations

import html
import re
import threading
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    client_on,
    csrf_for,
    post,
    signed_in,
)
from tests.support.participation import (
    PNG_1PX,
    bulk_proposals,
    citizen,
    events_of,
    make_process,
    make_proposal,
    notifications_of,
    proposal_row,
    read,
    set_setting,
    staff,
    support_rows,
)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def ids_in(response) -> list[int]:
    return [int(i) for i in re.findall(r'id="proposition-(\d+)"', response.get_data(as_text=True))]


@pytest.fixture
def papp(proposals_app):
    return proposals_app


# --------------------------------------------------------------------------- submission


def test_a_citizen_submits_a_proposal_with_a_map_point_and_an_image(papp, tenant, today, smtp):
    from participation.accounts.models import Neighbourhood
    from participation.processes.models import Theme

    def refs():
        theme = Theme(name=f"Mobilités {today.isoformat()}-{uuid.uuid4().hex[:12]}")
        place = Neighbourhood(name=f"Dornach {uuid.uuid4().hex[:12]}")
        db.session.add_all([theme, place])
        db.session.commit()
        return theme.id, place.id

    theme_id, place_id = read(papp, tenant, refs)
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant, display_name="Camille Martin")
    client = signed_in(papp, tenant, author)
    page = client.get(f"/demarches/{process_id}/propositions/nouvelle")
    assert page.status_code == 200
    assert 'name="website"' in page.get_data(as_text=True)  # the honeypot is there

    from io import BytesIO

    response = post(
        client,
        f"/demarches/{process_id}/propositions/nouvelle",
        {
            "title": "Des bancs à l'ombre sur les berges",
            "body": "Installer des bancs **ombragés** tous les deux cents mètres.",
            "theme_id": str(theme_id),
            "neighbourhood_id": str(place_id),
            "latitude": "47,7508",
            "longitude": "7.33591",
            "image": (BytesIO(PNG_1PX), "photo.png"),
            "image_alt": "Un banc en bois sous un platane, au bord de l'Ill",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, page_text(response)
    proposal_id = int(response.location.rsplit("/", 1)[1])
    row = proposal_row(papp, tenant, proposal_id)
    assert row["status"] == "received"
    assert (row["latitude"], row["longitude"]) == (47.7508, 7.33591)
    assert re.fullmatch(r"[0-9a-f]{32}\.png", row["image_path"])
    assert [e["kind"] for e in events_of(papp, tenant, proposal_id)] == ["created"]

    shown = client.get(f"/propositions/{proposal_id}")
    text = page_text(shown)
    assert "Des bancs à l'ombre sur les berges" in text
    assert "<strong>ombragés</strong>" in text
    assert "Reçue" in text and "Camille Martin" in text
    assert "https://www.openstreetmap.org/?mlat=47.75080&mlon=7.33591" in text
    image = client.get(f"/medias/propositions/{row['image_path']}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert 'alt="Un banc en bois sous un platane, au bord de l\'Ill"' in text

    # The author follows it, and received a receipt.
    from participation.engagement.services import is_following

    assert read(papp, tenant, lambda: is_following(author.id, "proposal", proposal_id))
    mail = smtp.wait_for_message_to(author.email)
    assert "Votre proposition « Des bancs à l'ombre sur les berges » est publiée" in mail["Subject"]
    assert f"/propositions/{proposal_id}" in " ".join(smtp.links_in(mail))


def test_an_image_needs_a_description(papp, tenant, today):
    """The alt text is required with an image (French error, nothing stored), ignored
    without one, and removed with the image."""
    from io import BytesIO

    from participation.proposals.models import Proposal

    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    client = signed_in(papp, tenant, author)
    path = f"/demarches/{process_id}/propositions/nouvelle"
    title = f"Une fresque rue {uuid.uuid4().hex[:6]}"
    fields = {"title": title, "body": "Une fresque sur le mur du gymnase, avec les élèves."}

    def count_titled():
        return db.session.scalar(sa.select(sa.func.count()).where(Proposal.title == title))

    refused = post(
        client,
        path,
        {**fields, "image": (BytesIO(PNG_1PX), "mur.png"), "image_alt": "   "},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 200
    assert "Décrivez l'image en quelques mots" in page_text(refused)
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert read(papp, tenant, count_titled) == 0

    # Without an image, a description is not kept.
    plain = post(client, path, {**fields, "image_alt": "Rien"})
    assert plain.status_code == 303
    proposal_id = int(plain.location.rsplit("/", 1)[1])
    assert (
        read(
            papp,
            tenant,
            lambda: db.session.scalar(
                sa.select(Proposal.image_alt).where(Proposal.id == proposal_id)
            ),
        )
        is None
    )

    # Added at edit time with an image; removed with it.
    edit = f"/propositions/{proposal_id}/modifier"
    added = post(
        client,
        edit,
        {**fields, "image": (BytesIO(PNG_1PX), "mur.png"), "image_alt": "Le mur gris du gymnase"},
        content_type="multipart/form-data",
    )
    assert added.status_code == 303, page_text(added)
    assert 'alt="Le mur gris du gymnase"' in client.get(f"/propositions/{proposal_id}").get_data(
        as_text=True
    )
    removed = post(client, edit, {**fields, "remove_image": "y", "image_alt": "Le mur"})
    assert removed.status_code == 303
    row = read(
        papp,
        tenant,
        lambda: db.session.execute(
            sa.select(Proposal.image_path, Proposal.image_alt).where(Proposal.id == proposal_id)
        ).one(),
    )
    assert tuple(row) == (None, None)


def test_submission_is_checked_and_nothing_is_saved_on_error(papp, tenant, today):
    from participation.proposals.models import Proposal

    process_id = make_process(papp, tenant)
    client = signed_in(papp, tenant, citizen(papp, tenant))
    path = f"/demarches/{process_id}/propositions/nouvelle"
    cases = [
        ({"title": "", "body": "Une description assez longue."}, "Donnez un titre"),
        ({"title": "Titre valable", "body": "Trop court"}, "20 caractères au moins"),
        (
            {"title": "Titre valable", "body": "Une description assez longue.", "latitude": "47"},
            "la latitude et la longitude, ou aucune des deux",
        ),
        (
            {
                "title": "Titre valable",
                "body": "Une description assez longue.",
                "latitude": "91",
                "longitude": "7",
            },
            "entre -90 et 90",
        ),
        (
            {
                "title": "Titre valable",
                "body": "Une description assez longue.",
                "latitude": "abc",
                "longitude": "7",
            },
            "nombre décimal",
        ),
    ]
    for data, message in cases:
        response = post(client, path, data)
        assert response.status_code == 200, data
        assert message in page_text(response), (data, message)
    from io import BytesIO

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = post(
        client,
        path,
        {
            "title": "Titre valable",
            "body": "Une description assez longue.",
            "image": (BytesIO(svg), "logo.png"),
        },
        content_type="multipart/form-data",
    )
    assert "PNG ou JPEG" in page_text(response)
    count = read(
        papp,
        tenant,
        lambda: db.session.scalar(
            sa.select(sa.func.count()).where(Proposal.process_id == process_id)
        ),
    )
    assert count == 0


def test_the_honeypot_refuses_a_bot(papp, tenant, today):
    process_id = make_process(papp, tenant)
    client = signed_in(papp, tenant, citizen(papp, tenant))
    response = post(
        client,
        f"/demarches/{process_id}/propositions/nouvelle",
        {
            "title": "Gagnez un iPhone",
            "body": "Cliquez ici pour gagner un iPhone gratuit.",
            "website": "http://spam.example",
        },
    )
    assert response.status_code == 200
    assert "n'a pas pu être enregistré" in page_text(response)
    assert ids_in(app_client_list(papp, tenant, process_id)) == []


def app_client_list(papp, tenant, process_id, query=""):
    return client_on(papp, tenant).get(f"/demarches/{process_id}/propositions{query}")


def test_proposing_needs_an_open_phase_and_an_account(papp, tenant, today):
    closed = make_process(papp, tenant, actions=("comment",))
    draft = make_process(papp, tenant, state="draft")
    person = citizen(papp, tenant)
    client = signed_in(papp, tenant, person)
    response = client.get(f"/demarches/{closed}/propositions/nouvelle")
    assert response.status_code == 403
    assert "n'accepte pas de nouvelles propositions" in page_text(response)
    assert client.get(f"/demarches/{draft}/propositions/nouvelle").status_code == 404
    assert client.get(f"/demarches/{draft}/propositions").status_code == 404
    assert client.get("/demarches/987654/propositions").status_code == 404
    anonymous = client_on(papp, tenant)
    response = anonymous.get(f"/demarches/{closed}/propositions/nouvelle")
    assert response.status_code == 302 and "/connexion" in response.location
    # Out of the phase on another day.
    with pytest.raises(Exception) as refused:
        make_proposal(papp, tenant, closed, person)
    assert "n'accepte pas" in str(refused.value)


# --------------------------------------------------------------------------- edition


def test_the_author_edits_within_the_window_while_received(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author, title="Premier titre")
    client = signed_in(papp, tenant, author)
    path = f"/propositions/{proposal_id}/modifier"
    assert client.get(path).status_code == 200
    response = post(
        client, path, {"title": "Titre corrigé", "body": "Une description corrigée et complète."}
    )
    assert response.status_code == 303
    row = proposal_row(papp, tenant, proposal_id)
    assert row["title"] == "Titre corrigé" and row["edited_at"] is not None

    # Someone else may not.
    other = signed_in(papp, tenant, citizen(papp, tenant))
    response = other.get(path)
    assert response.status_code == 403
    assert "Seul l'auteur" in page_text(response)
    assert post(other, path, {"title": "Piraté", "body": "x" * 30}).status_code == 403

    # Past the window (the tenant's setting), nobody may.
    from tests.support.participation import backdate

    backdate(papp, tenant, proposal_id, minutes=61)
    response = client.get(path)
    assert response.status_code == 403 and "délai de modification" in page_text(response)
    set_setting(papp, tenant, "proposal_edit_window_minutes", 120)
    try:
        assert client.get(path).status_code == 200
    finally:
        set_setting(papp, tenant, "proposal_edit_window_minutes", 60)


def test_no_edit_once_the_collectivite_studies_it(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author)
    moderator, _person = staff(papp, tenant, "moderator")
    post(moderator, f"/gestion/propositions/{proposal_id}", {"status": "studying"})
    assert proposal_row(papp, tenant, proposal_id)["status"] == "studying"
    client = signed_in(papp, tenant, author)
    response = client.get(f"/propositions/{proposal_id}/modifier")
    assert response.status_code == 403 and "étudie déjà" in page_text(response)


# --------------------------------------------------------------------------- withdrawal


def test_the_author_withdraws_the_proposal(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    follower = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author, title="À retirer")
    from participation.engagement.services import follow

    read(papp, tenant, lambda: (follow(follower.id, "proposal", proposal_id), db.session.commit()))
    other = signed_in(papp, tenant, citizen(papp, tenant))
    assert post(other, f"/propositions/{proposal_id}/retirer").status_code == 403

    client = signed_in(papp, tenant, author)
    response = post(client, f"/propositions/{proposal_id}/retirer")
    assert response.status_code == 303
    assert proposal_row(papp, tenant, proposal_id)["withdrawn_at"] is not None
    assert events_of(papp, tenant, proposal_id)[-1]["kind"] == "withdrawn"
    assert proposal_id not in ids_in(app_client_list(papp, tenant, process_id))
    page = client.get(f"/propositions/{proposal_id}")
    assert page.status_code == 200 and "a été retirée" in page_text(page)
    assert [n["kind"] for n in notifications_of(papp, tenant, follower.id)] == [
        "status.proposal_withdrawn"
    ]
    assert post(client, f"/propositions/{proposal_id}/retirer").status_code == 403


# --------------------------------------------------------------------------- supports


def support(client, proposal_id: int, intent: str | None = "support"):
    data = {"intent": intent} if intent else {}
    return post(client, f"/propositions/{proposal_id}/soutien", data)


def test_support_and_withdraw_a_support(papp, tenant, today):
    process_id = make_process(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))
    client = signed_in(papp, tenant, citizen(papp, tenant))
    assert support(client, proposal_id).status_code == 303
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 1
    assert "Vous soutenez cette proposition" in page_text(
        client.get(f"/propositions/{proposal_id}")
    )
    # Supporting again changes nothing (a double click).
    support(client, proposal_id)
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 1
    # Without an intent the button toggles.
    support(client, proposal_id, intent=None)
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 0
    support(client, proposal_id, intent=None)
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 1
    support(client, proposal_id, intent="withdraw")
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 0
    assert support_rows(papp, tenant, proposal_id) == 0


def test_supports_follow_the_rules(papp, tenant, today):
    process_id = make_process(papp, tenant)
    no_support = make_process(papp, tenant, actions=("propose",))
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author)
    closed_id = make_proposal(papp, tenant, no_support, author)

    own = signed_in(papp, tenant, author)
    response = support(own, proposal_id)
    assert response.status_code == 403 and "votre propre proposition" in page_text(response)

    client = signed_in(papp, tenant, citizen(papp, tenant))
    response = support(client, closed_id)
    assert response.status_code == 403 and "phase de soutien" in page_text(response)

    anonymous = client_on(papp, tenant)
    response = anonymous.post(
        f"/propositions/{proposal_id}/soutien", data={"csrf_token": csrf_for(anonymous)}
    )
    assert response.status_code == 303 and "/connexion" in response.location
    assert parse_qs(urlsplit(response.location).query)["next"] == [f"/propositions/{proposal_id}"]

    # No CSRF token: refused.
    assert client.post(f"/propositions/{proposal_id}/soutien").status_code == 400
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 0
    assert proposal_row(papp, tenant, closed_id)["supports_count"] == 0


def _in_threads(calls) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_supports_give_an_exact_count(papp, tenant, today):
    process_id = make_process(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))
    clients = [signed_in(papp, tenant, citizen(papp, tenant)) for _ in range(20)]
    tokens = [csrf_for(client) for client in clients]

    def call(client, token):
        return lambda: (
            client.post(
                f"/propositions/{proposal_id}/soutien",
                data={"csrf_token": token, "intent": "support"},
            ).status_code
        )

    results = _in_threads([call(c, t) for c, t in zip(clients, tokens, strict=True)])
    assert results == [303] * 20, results
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 20
    assert support_rows(papp, tenant, proposal_id) == 20

    # And 20 concurrent withdrawals bring it back to zero.
    def undo(client, token):
        return lambda: (
            client.post(
                f"/propositions/{proposal_id}/soutien",
                data={"csrf_token": token, "intent": "withdraw"},
            ).status_code
        )

    results = _in_threads([undo(c, t) for c, t in zip(clients, tokens, strict=True)])
    assert results == [303] * 20, results
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 0


def test_the_same_person_supporting_twice_at_once_counts_once(papp, tenant, today):
    process_id = make_process(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))
    person = citizen(papp, tenant)
    clients = [signed_in(papp, tenant, person) for _ in range(4)]
    tokens = [csrf_for(client) for client in clients]
    results = _in_threads(
        [
            (
                lambda c=c, t=t: (
                    c.post(
                        f"/propositions/{proposal_id}/soutien",
                        data={"csrf_token": t, "intent": "support"},
                    ).status_code
                )
            )
            for c, t in zip(clients, tokens, strict=True)
        ]
    )
    assert results == [303] * 4, results
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 1
    assert support_rows(papp, tenant, proposal_id) == 1


def test_the_count_is_kept_by_the_database_whatever_the_code_path(papp, tenant, today):
    """The trigger, not the application, keeps the count: raw SQL keeps it exact too."""
    from participation.proposals.models import Support

    process_id = make_process(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))
    people = [citizen(papp, tenant) for _ in range(3)]

    def raw():
        for person in people:
            db.session.add(Support(proposal_id=proposal_id, user_id=person.id))
        db.session.flush()
        db.session.execute(
            sa.delete(Support).where(
                Support.proposal_id == proposal_id, Support.user_id == people[0].id
            )
        )
        db.session.commit()

    read(papp, tenant, raw)
    assert proposal_row(papp, tenant, proposal_id)["supports_count"] == 2


def test_the_threshold_sends_the_proposal_to_study_once(papp, tenant, today):
    process_id = make_process(papp, tenant, threshold=3)
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author)
    clients = [signed_in(papp, tenant, citizen(papp, tenant)) for _ in range(4)]
    support(clients[0], proposal_id)
    support(clients[1], proposal_id)
    assert proposal_row(papp, tenant, proposal_id)["status"] == "received"
    support(clients[2], proposal_id)
    assert proposal_row(papp, tenant, proposal_id)["status"] == "studying"
    kinds = [e["kind"] for e in events_of(papp, tenant, proposal_id)]
    assert kinds == ["created", "threshold"]
    assert [n["kind"] for n in notifications_of(papp, tenant, author.id)] == ["status.proposal"]
    assert "3 soutiens" in notifications_of(papp, tenant, author.id)[0]["body"]

    # Below and above the threshold again: no second move, no second event.
    support(clients[2], proposal_id, intent="withdraw")
    support(clients[2], proposal_id)
    support(clients[3], proposal_id)
    assert [e["kind"] for e in events_of(papp, tenant, proposal_id)] == ["created", "threshold"]
    page = page_text(clients[0].get(f"/propositions/{proposal_id}"))
    assert "Seuil de 3 soutiens atteint" in page and "À l'étude" in page


def test_the_threshold_is_crossed_once_under_concurrency(papp, tenant, today):
    process_id = make_process(papp, tenant, threshold=5)
    proposal_id = make_proposal(papp, tenant, process_id, citizen(papp, tenant))
    clients = [signed_in(papp, tenant, citizen(papp, tenant)) for _ in range(12)]
    tokens = [csrf_for(c) for c in clients]
    _in_threads(
        [
            (
                lambda c=c, t=t: (
                    c.post(
                        f"/propositions/{proposal_id}/soutien",
                        data={"csrf_token": t, "intent": "support"},
                    ).status_code
                )
            )
            for c, t in zip(clients, tokens, strict=True)
        ]
    )
    row = proposal_row(papp, tenant, proposal_id)
    assert row["supports_count"] == 12 and row["status"] == "studying"
    assert [e["kind"] for e in events_of(papp, tenant, proposal_id)].count("threshold") == 1


# --------------------------------------------------------------------------- lists


def test_filters_sorts_and_pagination(papp, tenant, today):
    from participation.accounts.models import Neighbourhood
    from participation.processes.models import Theme

    def refs():
        theme = Theme(name=f"Thème {uuid.uuid4().hex[:12]}")
        place = Neighbourhood(name=f"Quartier {uuid.uuid4().hex[:12]}")
        db.session.add_all([theme, place])
        db.session.commit()
        return theme.id, place.id

    theme_id, place_id = read(papp, tenant, refs)
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    plain = bulk_proposals(papp, tenant, process_id, author.id, 25)
    themed = bulk_proposals(
        papp, tenant, process_id, author.id, 3, theme_id=theme_id, title="Thématique {i}"
    )
    placed = bulk_proposals(
        papp,
        tenant,
        process_id,
        author.id,
        2,
        neighbourhood_id=place_id,
        status="accepted",
        supports_count=0,
        title="Localisée {i}",
    )
    # supports_count is the trigger's: give the placed ones real supports.
    from participation.proposals.models import Support

    supporters = [citizen(papp, tenant) for _ in range(3)]

    def give_supports():
        for person in supporters:
            db.session.add(Support(proposal_id=placed[1], user_id=person.id))
        db.session.add(Support(proposal_id=placed[0], user_id=supporters[0].id))
        db.session.commit()

    read(papp, tenant, give_supports)
    client = signed_in(papp, tenant, supporters[0])
    base = f"/demarches/{process_id}/propositions"

    first = client.get(base)
    assert first.status_code == 200
    assert "30 propositions" in page_text(first)
    assert len(ids_in(first)) == 20
    # Most recent first: bulk rows are one minute apart, the first of each batch newest.
    newest = ids_in(first)[0]
    assert newest in (plain[0], themed[0], placed[0])
    second = client.get(base + "?page=2")
    assert len(ids_in(second)) == 10
    assert not set(ids_in(first)) & set(ids_in(second))
    assert client.get(base + "?page=3").status_code == 404
    assert len(ids_in(client.get(base + "?per_page=50"))) == 30

    assert sorted(ids_in(client.get(f"{base}?theme={theme_id}"))) == sorted(themed)
    assert sorted(ids_in(client.get(f"{base}?neighbourhood={place_id}"))) == sorted(placed)
    # The filter form shows the choice it applied (shared choice_filter macro).
    chosen = client.get(f"{base}?theme={theme_id}&neighbourhood={place_id}").get_data(as_text=True)
    assert f'<option value="{theme_id}" selected>' in chosen
    assert f'<option value="{place_id}" selected>' in chosen
    unfiltered = client.get(base).get_data(as_text=True)
    assert f'<option value="{theme_id}" selected>' not in unfiltered
    assert sorted(ids_in(client.get(f"{base}?status=accepted"))) == sorted(placed)
    assert ids_in(client.get(f"{base}?sort=supports"))[:2] == [placed[1], placed[0]]
    page = page_text(client.get(f"{base}?sort=supports"))
    assert "3 soutiens" in page and "Vous soutenez cette proposition" in page
    # Nonsense falls back to the defaults instead of failing.
    assert client.get(f"{base}?sort=drop&status=nope&theme=x&page=-1").status_code == 200


def test_the_random_order_is_stable_with_its_seed(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    created = bulk_proposals(papp, tenant, process_id, author.id, 30)
    client = signed_in(papp, tenant, author)
    base = f"/demarches/{process_id}/propositions"
    response = client.get(base + "?sort=random")
    assert response.status_code == 302
    seed = parse_qs(urlsplit(response.location).query)["seed"][0]
    first = ids_in(client.get(f"{base}?sort=random&seed={seed}"))
    again = ids_in(client.get(f"{base}?sort=random&seed={seed}"))
    second = ids_in(client.get(f"{base}?sort=random&seed={seed}&page=2"))
    assert first == again
    assert sorted(first + second) == sorted(created)
    recent = ids_in(client.get(base))
    other_seed = ids_in(client.get(f"{base}?sort=random&seed=zzzz9999"))
    assert first != recent or other_seed != recent
    # The pagination links keep the seed.
    assert f"seed={seed}" in client.get(f"{base}?sort=random&seed={seed}").get_data(as_text=True)


def test_french_full_text_search(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    bike = make_proposal(
        papp,
        tenant,
        process_id,
        author,
        title="Des pistes cyclables sécurisées",
        body="Pour que les enfants aillent à l'école à vélo en sécurité.",
    )
    body_only = make_proposal(
        papp,
        tenant,
        process_id,
        author,
        title="Réaménager la place du marché",
        body="Moins de voitures, plus de pistes cyclables et de vélos autour du marché.",
    )
    trees = make_proposal(
        papp,
        tenant,
        process_id,
        author,
        title="Planter des arbres fruitiers",
        body="Des pommiers et des poiriers en libre cueillette.",
    )
    client = signed_in(papp, tenant, author)
    base = f"/demarches/{process_id}/propositions"
    # French stemming ("cyclable" finds "cyclables"); a title match ranks first.
    assert ids_in(client.get(base + "?q=cyclable")) == [bike, body_only]
    assert ids_in(client.get(base + "?q=arbre fruitier")) == [trees]
    # websearch syntax: quotes and minus.
    assert ids_in(client.get(base + '?q="libre cueillette"')) == [trees]
    assert ids_in(client.get(base + "?q=cyclables -marché")) == [bike]
    response = client.get(base + "?q=hélicoptère")
    assert ids_in(response) == [] and "Aucune proposition ne correspond" in page_text(response)
    # Only stop words, or SQL-looking text: no error.
    assert client.get(base + "?q=le la les").status_code == 200
    assert client.get(base + "?q=' OR 1=1 --").status_code == 200
    assert "Pertinence" in page_text(client.get(base + "?q=cyclable"))


def test_withdrawn_hidden_and_blocked_authors_leave_the_lists(papp, tenant, today):
    from participation.accounts.models import User
    from participation.proposals.models import Proposal

    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    blocked = citizen(papp, tenant)
    kept = make_proposal(papp, tenant, process_id, author)
    hidden = make_proposal(papp, tenant, process_id, author)
    from_blocked = make_proposal(papp, tenant, process_id, blocked)

    def moderate():
        db.session.get(Proposal, hidden).hidden_at = sa.func.now()
        db.session.get(User, blocked.id).blocked_at = sa.func.now()
        db.session.commit()

    read(papp, tenant, moderate)
    client = signed_in(papp, tenant, citizen(papp, tenant))
    assert ids_in(client.get(f"/demarches/{process_id}/propositions")) == [kept]
    response = client.get(f"/propositions/{hidden}")
    assert response.status_code == 404 and "masquée par la modération" in page_text(response)
    assert client.get(f"/propositions/{from_blocked}").status_code == 404
    moderator, _ = staff(papp, tenant, "moderator")
    page = moderator.get(f"/propositions/{hidden}")
    assert page.status_code == 200 and "pas visible du public" in page_text(page)


# --------------------------------------------------------------------------- process page


def test_the_process_page_shows_the_proposals_section(papp, tenant, today):
    open_id = make_process(papp, tenant, title="Démarche ouverte aux idées")
    closed_id = make_process(papp, tenant, actions=("comment",))
    author = citizen(papp, tenant)
    make_proposal(papp, tenant, open_id, author, title="La plus soutenue des idées")
    client = signed_in(papp, tenant, author)
    page = page_text(client.get(f"/demarches/{open_id}"))
    assert "Propositions" in page and "La plus soutenue des idées" in page
    assert "Déposer une proposition" in page
    assert "Reçue : 1" in page
    page = page_text(client.get(f"/demarches/{closed_id}"))
    assert "Déposer une proposition" not in page


def test_the_section_renders_alone(papp, tenant, today):
    """The include contract: only ``process`` in the context."""
    from flask import render_template

    from participation.processes.models import Process
    from tenants.context import tenant_context

    process_id = make_process(papp, tenant)
    with papp.test_request_context("/", base_url=f"http://{tenant.primary_host}"):
        from flask import g

        from tenants.context import current_tenant

        with tenant_context(tenant):
            g.site = None
            assert current_tenant() is not None
            process = db.session.get(Process, process_id)
            out = render_template("proposals/_process_section.html", process=process)
    assert "Déposer une proposition" in out and "soyez la première" in html.unescape(out)


# --------------------------------------------------------------------------- demo


def test_the_demo_seeder_is_idempotent(papp, make_tenant, monkeypatch):
    """Run the accounts, staff, processes and proposals seeders on a tenant named like a
    demo one: proposals in every status, and the same demo on the second run."""
    from participation.proposals import demo as proposals_demo
    from participation.proposals.models import Proposal, ProposalStatus
    from tenants.context import tenant_context
    from tests.support import ensure_legal_documents

    slug = "saillans"
    from tenants.models import Tenant

    existing = read_public(
        papp, lambda: db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    )
    if existing is None:
        ref = make_tenant(slug=slug)
        ensure_legal_documents(papp, ref)
    monkeypatch.setattr(proposals_demo, "PROPOSALS", {slug: proposals_demo.PROPOSALS[slug]})
    from participation.accounts import demo as accounts_demo
    from participation.processes import demo as processes_demo
    from participation.staff import demo as staff_demo

    monkeypatch.setattr(accounts_demo, "DEMO_CITIZENS", {slug: accounts_demo.DEMO_CITIZENS[slug]})
    monkeypatch.setattr(staff_demo, "NEIGHBOURHOODS", {slug: staff_demo.NEIGHBOURHOODS[slug]})
    monkeypatch.setattr(processes_demo, "PROCESSES", {slug: processes_demo.PROCESSES[slug]})

    def seed():
        with papp.app_context():
            papp.config.setdefault("PLATFORM_DOMAIN", "pnyx.test")
            lines = []
            for seeder in (
                accounts_demo.seed_citizens,
                staff_demo.seed_staff,
                processes_demo.seed_processes,
                proposals_demo.seed_proposals,
            ):
                lines += list(seeder())
            return lines

    lines = seed()
    assert any("propositions" in line for line in lines), lines
    tenant_id = read_public(
        papp, lambda: db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug))
    )

    def snapshot():
        with papp.app_context(), tenant_context(tenant_id):
            rows = db.session.execute(
                sa.select(Proposal.title, Proposal.status, Proposal.supports_count).order_by(
                    Proposal.title
                )
            ).all()
            return [tuple(r) for r in rows]

    first = snapshot()
    assert len(first) == sum(len(v) for v in proposals_demo.PROPOSALS[slug].values())
    assert {status for _title, status, _n in first} >= {
        ProposalStatus.RECEIVED,
        ProposalStatus.STUDYING,
        ProposalStatus.ACCEPTED,
        ProposalStatus.REJECTED,
        ProposalStatus.DONE,
    }
    assert any(n > 0 for _t, _s, n in first)
    seed()
    assert snapshot() == first


def read_public(papp, func):
    with papp.app_context():
        return func()


def test_the_author_sees_what_they_can_still_do(papp, tenant, today):
    process_id = make_process(papp, tenant)
    author = citizen(papp, tenant)
    proposal_id = make_proposal(papp, tenant, process_id, author)
    page = page_text(signed_in(papp, tenant, author).get(f"/propositions/{proposal_id}"))
    assert "Modifier ma proposition" in page and "Retirer ma proposition" in page
    assert "Vous ne pouvez pas soutenir votre propre proposition." in page
    other = page_text(
        signed_in(papp, tenant, citizen(papp, tenant)).get(f"/propositions/{proposal_id}")
    )
    assert "Modifier ma proposition" not in other and "Soutenir cette proposition" in other


def test_default_status_labels_are_translated_and_admin_labels_win(papp, own_tenant, today):
    author = citizen(papp, own_tenant)
    process_id = make_process(papp, own_tenant)
    proposal_id = make_proposal(papp, own_tenant, process_id, author)
    client = signed_in(papp, own_tenant, citizen(papp, own_tenant))
    english = {"Accept-Language": "en"}
    assert "Received" in page_text(client.get(f"/propositions/{proposal_id}", headers=english))
    assert "Reçue" in page_text(client.get(f"/propositions/{proposal_id}"))
    # The collectivité's own label is shown as written, whatever the language.
    set_setting(papp, own_tenant, "proposal_status_labels", {"received": "Enregistrée"})
    shown = page_text(client.get(f"/propositions/{proposal_id}", headers=english))
    assert "Enregistrée" in shown and "Received" not in shown
