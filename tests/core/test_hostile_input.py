"""Hostile input never gives a 500 or loses what was typed (issue 13 §5): one test per rule,
each failing on the code before core.routing/core.forms/core.errors handled it.
The route sweep (test_route_sweep.py) checks the same rules over every route."""

from __future__ import annotations

import html
import socket
from datetime import date
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    PLATFORM,
    base_config,
    create_person,
    csrf_for,
    ensure_legal_documents,
    forge_session,
    host_client,
    random_address,
)

ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
BIG = "1" + "0" * 20


@pytest.fixture(scope="module")
def world(app, make_tenant):
    from tests.api.seed import seed_tenant

    tenant = make_tenant()
    ensure_legal_documents(app, tenant)
    seeded = seed_tenant(app, tenant, bulk=2)
    citizen = create_person(app, tenant)
    admin = create_person(app, tenant, "admin")
    return seeded, citizen, admin


def _client(app, world, who: str | None = "citizen"):
    seeded, citizen, admin = world
    client = host_client(app, seeded.tenant.primary_host)
    client.environ_base["REMOTE_ADDR"] = random_address()
    if who:
        forge_session(client, seeded.tenant, citizen if who == "citizen" else admin)
    return client


def _comments(app, tenant, body_like: str) -> list[str]:
    from participation.engagement.comments import Comment
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        return list(db.session.scalars(sa.select(Comment.body).where(Comment.body.like(body_like))))


def _comment(client, seeded, body: str, token: str | None = None):
    return client.post(
        "/commentaires",
        data={
            "csrf_token": token or csrf_for(client),
            "target_type": "debate",
            "target_id": str(seeded.debate_id),
            "body": body,
            "next": f"/debats/{seeded.debate_id}",
            "website": "",
        },
    )


def test_ids_are_ascii_digits_within_postgresql_range(app, world):
    seeded = world[0]
    client = _client(app, world, None)
    debate = seeded.debate_id
    assert client.get(f"/debats/{debate}").status_code == 200
    # Werkzeug's \d matched Arabic-Indic digits and int() read them: the same debate, twice.
    assert client.get(f"/debats/{quote(str(debate).translate(ARABIC_DIGITS))}").status_code == 404
    assert client.get(f"/debats/{BIG}").status_code == 404
    assert client.get(f"/debats/{2**31}").status_code == 404


def test_integer_query_parameters_are_bounded(app, world):
    seeded = world[0]
    client = _client(app, world)
    debate = seeded.debate_id
    # Each of these was a 500 (integer/bigint out of range in PostgreSQL).
    for path in (
        f"/debats/{debate}?commentaires={BIG}",
        f"/notifications?page={BIG}",
        f"/demarches/{seeded.process_ids['open']}/propositions?theme={BIG}&neighbourhood={BIG}",
        f"/signalements?categorie={BIG}",
    ):
        response = client.get(path)
        assert response.status_code < 500, path
    unicode_page = client.get(f"/debats/{debate}?commentaires={quote('١')}")
    assert unicode_page.status_code == 200


def test_nul_bytes_are_removed_from_queries_and_forms(app, world):
    seeded = world[0]
    client = _client(app, world)
    listing = f"/demarches/{seeded.process_ids['open']}/propositions?q=a%00b"
    assert client.get(listing).status_code == 200
    response = _comment(client, seeded, "Avant\x00après le NUL kqzv")
    assert response.status_code == 303  # was a 500: PostgreSQL refuses NUL in text
    assert _comments(app, seeded.tenant, "%NUL kqzv") == ["Avantaprès le NUL kqzv"]


def test_a_comment_refused_for_its_length_comes_back_filled(app, world):
    from participation.debates.services import COMMENT_MAX

    seeded = world[0]
    client = _client(app, world)
    too_long = "Mon long commentaire wpxt " + "a" * COMMENT_MAX
    response = _comment(client, seeded, too_long)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400  # was a 303 to the debate, the text lost
    assert too_long in page
    assert "caractères au plus" in page
    assert _comments(app, seeded.tenant, "Mon long commentaire wpxt%") == []


def test_newlines_are_counted_as_the_browser_counts_them(app, world):
    from participation.debates.services import COMMENT_MAX

    seeded = world[0]
    client = _client(app, world)
    # A textarea with maxlength=COMMENT_MAX lets this through (CRLF counts as one character)
    # and the browser sends it with CRLF: COMMENT_MAX characters, more bytes.
    lines = ["Ligne jmvq"] + ["b" * 9] * (COMMENT_MAX // 10 - 1)
    typed = "\n".join(lines)
    assert len(typed) <= COMMENT_MAX < len(typed.replace("\n", "\r\n"))
    response = _comment(client, seeded, typed.replace("\n", "\r\n"))
    assert response.status_code == 303
    assert _comments(app, seeded.tenant, "Ligne jmvq%") == [typed]


def test_an_expired_csrf_token_shows_the_form_again_with_the_text(app, world):
    seeded = world[0]
    client = _client(app, world)
    client.get(f"/debats/{seeded.debate_id}")
    text = "Un texte long et réfléchi, écrit pendant une heure xqrb."
    response = _comment(client, seeded, text, token="expired-or-forged-token")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Erreur 400" not in page
    assert "Votre formulaire a expiré" in page
    assert text in page  # in the comment box, ready to be sent again
    assert response.headers["Cache-Control"] == "no-store"
    assert _comments(app, seeded.tenant, "%xqrb.") == []
    # The re-rendered page carries a fresh token: sending again works.
    token = csrf_for(client)
    assert _comment(client, seeded, text, token=token).status_code == 303
    assert _comments(app, seeded.tenant, "%xqrb.") == [text]


def test_dates_are_bounded_and_far_dates_already_stored_do_not_break_pages(app, world):
    from participation.processes.models import Phase
    from tenants.context import tenant_context

    seeded = world[0]
    client = _client(app, world, "admin")
    process_id = seeded.process_ids["open"]
    path = f"/gestion/demarches/{process_id}/phases"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_for(client),
            "kind": "contributions",
            "title": "Phase sans fin",
            "starts_on": "2030-01-01",
            "ends_on": "9999-12-31",
        },
    )
    assert response.status_code == 200
    assert "Saisissez une date entre 1900 et 2100." in html.unescape(
        response.get_data(as_text=True)
    )
    # A date stored before the forms were bounded: every page of the process still answers.
    with app.app_context(), tenant_context(seeded.tenant):
        phase = db.session.scalar(sa.select(Phase).where(Phase.process_id == process_id))
        phase.ends_on = date(9999, 12, 31)
        db.session.commit()
    for url in (path, f"/demarches/{process_id}", "/demarches", "/"):
        assert client.get(url).status_code == 200, url


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postgresql_down_answers_503_with_the_french_maintenance_page(
    app, world, database_url, redis_url
):
    from core import create_app

    seeded = world[0]
    down = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/pnyx"
    broken = create_app(
        base_config(
            down,
            redis_url,
            PAGE_CACHE=True,
            RATELIMIT_STORAGE_URI=app.config.get("RATELIMIT_STORAGE_URI") or redis_url,
        )
    )
    answers = {}
    for host, path in (
        (PLATFORM, "/"),
        (PLATFORM, "/connexion"),
        (PLATFORM, "/inscription-collectivite"),
        (seeded.tenant.primary_host, "/"),
        (seeded.tenant.primary_host, "/demarches"),
        (seeded.tenant.primary_host, "/connexion"),
        (seeded.tenant.primary_host, "/api/v1/processes"),
    ):
        response = host_client(broken, host).get(path)
        body = response.get_data(as_text=True)
        answers[(host, path)] = response.status_code
        # A page that needs no database (the platform's home) may still answer.
        assert response.status_code in (200, 503), (host, path, response.status_code, body[:300])
        assert "Internal Server Error" not in body
        if response.status_code == 503:
            assert "indisponible" in body, (host, path, body[:300])
            assert response.headers["Retry-After"] == "30"
    assert all(status == 503 for (host, _path), status in answers.items() if host != PLATFORM), (
        answers
    )
