"""Commitments: declared and updated by the member territory's platform accounts, a board
for the network, comments by coordinators and evaluators only; evidence files checked."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import logged_platform, platform_client, platform_user
from tests.support import post as post_platform
from tests.support.network import make_network, platform_audit


def real_pdf(text: str = "preuve") -> bytes:
    """A small valid PDF (core.uploads parses and rewrites every PDF: a bare header is
    refused as damaged), with an author in its metadata that must not survive."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": f"Auteur {text}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = real_pdf()


@pytest.fixture
def setup(app, make_tenant):
    tenant = make_tenant()
    other = make_tenant()
    coord_client, coord_id = logged_platform(app, "coordinator")
    eval_client, eval_id = logged_platform(app, "coordinator")
    net = make_network(
        app,
        members=(tenant, other),
        coordinator_id=coord_id,
        evaluator_id=eval_id,
        public_sections=(),
    )
    member_client, member_id = logged_platform(app, "member", tenant_id=tenant.id)
    other_client, _ = logged_platform(app, "member", tenant_id=other.id)
    return {
        "tenant": tenant,
        "net": net,
        "base": f"/reseaux/{net['slug']}/engagements",
        "member": member_client,
        "member_id": member_id,
        "other": other_client,
        "coordinator": coord_client,
        "evaluator": eval_client,
    }


def _commitment(app, commitment_id):
    with app.app_context():
        return dict(
            db.session.execute(
                sa.text("SELECT * FROM public.network_commitments WHERE id = :id"),
                {"id": commitment_id},
            )
            .one()
            ._mapping
        )


def _declare(s, **extra):
    data = {
        "title": "Publier une réponse à chaque pétition sous 3 mois",
        "description": "Un **engagement** de transparence.",
        "status": "in_progress",
        "progress": "40",
        "starts_on": "2026-01-15",
        "due_on": "2026-12-31",
        "evidence_text": "Tableau de suivi publié.",
        "evidence_url": "https://www.exemple.fr/suivi",
        **extra,
    }
    return post_platform(
        s["member"], f"{s['base']}/nouveau", data, content_type="multipart/form-data"
    )


def test_a_member_declares_then_reports_progress_with_evidence(app, setup):
    s = setup
    response = _declare(s, evidence_file=(io.BytesIO(PDF), "suivi.pdf"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    commitment_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    row = _commitment(app, commitment_id)
    assert (row["tenant_id"], row["status"], row["progress"]) == (s["tenant"].id, "in_progress", 40)
    assert row["evidence_file"].endswith(".pdf") and row["evidence_filename"] == "suivi.pdf"
    # The file comes back, as an attachment.
    file = s["member"].get(f"{s['base']}/{commitment_id}/preuve")
    assert file.status_code == 200 and file.data.startswith(b"%PDF-")
    assert b"Auteur" not in file.data  # rewritten without its metadata (core.uploads)
    assert "attachment" in file.headers["Content-Disposition"]
    # Progress: done forces 100 %.
    response = post_platform(
        s["member"],
        f"{s['base']}/{commitment_id}/modifier",
        {"title": row["title"], "status": "done", "progress": "70", "completed_on": "2026-11-02"},
    )
    assert response.status_code == 302
    row = _commitment(app, commitment_id)
    assert (row["status"], row["progress"], str(row["completed_on"])) == ("done", 100, "2026-11-02")
    assert [a["target_id"] for a in platform_audit(app, "network.commitment_updated")][-1] == str(
        commitment_id
    )
    # The board shows it, with its territory.
    board = s["coordinator"].get(s["base"]).get_data(as_text=True)
    assert "Publier une réponse à chaque pétition" in board and s["tenant"].name in board


def test_evidence_must_be_a_pdf_or_an_image(app, setup):
    s = setup
    response = _declare(s, evidence_file=(io.BytesIO(b"<svg onload=alert(1)>"), "x.pdf"))
    assert response.status_code == 200
    assert "PDF ou une image PNG" in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalar(
            sa.text("SELECT count(*) FROM public.network_commitments WHERE network_id = :n"),
            {"n": s["net"]["id"]},
        )


def test_only_the_commitment_s_territory_updates_it(app, setup):
    s = setup
    commitment_id = int(_declare(s).headers["Location"].rsplit("/", 1)[-1])
    for client in (s["other"], s["coordinator"], s["evaluator"]):
        response = post_platform(
            client, f"{s['base']}/{commitment_id}/modifier", {"title": "Piraté", "status": "done"}
        )
        assert response.status_code == 403
    assert _commitment(app, commitment_id)["title"] != "Piraté"
    for client in (s["coordinator"], s["evaluator"]):
        assert post_platform(client, f"{s['base']}/nouveau", {"title": "X"}).status_code == 403


def test_coordinators_and_evaluators_comment_members_do_not(app, setup):
    s = setup
    commitment_id = int(_declare(s).headers["Location"].rsplit("/", 1)[-1])
    path = f"{s['base']}/{commitment_id}/commentaires"
    assert (
        post_platform(s["coordinator"], path, {"body": "Bravo, pensez aux quartiers."}).status_code
        == 302
    )
    assert post_platform(s["evaluator"], path, {"body": "Preuve à compléter."}).status_code == 302
    assert post_platform(s["member"], path, {"body": "Je me commente"}).status_code == 403
    assert post_platform(s["other"], path, {"body": "Moi aussi"}).status_code == 403
    with app.app_context():
        roles = list(
            db.session.scalars(
                sa.text(
                    "SELECT author_role FROM public.network_commitment_comments "
                    "WHERE commitment_id = :c ORDER BY id"
                ),
                {"c": commitment_id},
            )
        )
    assert roles == ["coordinator", "evaluator"]
    page = s["member"].get(f"{s['base']}/{commitment_id}").get_data(as_text=True)
    assert "Bravo, pensez aux quartiers." in page and "Preuve à compléter." in page


def test_board_access_follows_the_section_visibility(app, setup):
    s = setup
    commitment_id = int(_declare(s).headers["Location"].rsplit("/", 1)[-1])
    anonymous = platform_client(app)
    outsider_id, _ = platform_user(app, "coordinator")
    outsider = platform_client(app, outsider_id)
    for path in (s["base"], f"{s['base']}/{commitment_id}"):
        assert anonymous.get(path).status_code == 403
        assert outsider.get(path).status_code == 403
        assert s["member"].get(path).status_code == 200
        assert s["evaluator"].get(path).status_code == 200
    # Anonymous writers are sent to the log-in page; no CSRF token, no write.
    response = post_platform(anonymous, f"{s['base']}/nouveau", {"title": "X"})
    assert response.status_code == 302 and "connexion" in response.headers["Location"]
    response = s["member"].post(f"{s['base']}/nouveau", data={"title": "X", "status": "planned"})
    assert response.status_code == 400
    with app.app_context():
        assert (
            db.session.scalar(
                sa.text("SELECT count(*) FROM public.network_commitments WHERE network_id = :n"),
                {"n": s["net"]["id"]},
            )
            == 1
        )
    # A commitment of another network is not found here.
    other_net = make_network(app, members=(s["tenant"],), public_sections=("commitments",))
    assert (
        anonymous.get(f"/reseaux/{other_net['slug']}/engagements/{commitment_id}").status_code
        == 404
    )
    assert anonymous.get(f"/reseaux/{other_net['slug']}/engagements").status_code == 200


def test_get_pages_matrix(app, setup):
    s = setup
    commitment_id = int(
        _declare(s, evidence_file=(io.BytesIO(PDF), "p.pdf")).headers["Location"].rsplit("/", 1)[-1]
    )
    outsider_id, _ = platform_user(app, "coordinator")
    clients = {
        "anonymous": platform_client(app),
        "outsider": platform_client(app, outsider_id),
        "member": s["member"],
        "other_member": s["other"],
        "coordinator": s["coordinator"],
        "evaluator": s["evaluator"],
    }
    base = s["base"]
    expected = {
        # path: {actor: status}
        f"{base}/nouveau": {"anonymous": 302, "outsider": 403, "member": 200,
                            "other_member": 200, "coordinator": 403, "evaluator": 403},
        f"{base}/{commitment_id}/modifier": {"anonymous": 302, "outsider": 403, "member": 200,
                                             "other_member": 403, "coordinator": 403,
                                             "evaluator": 403},
        f"{base}/{commitment_id}/preuve": {"anonymous": 403, "outsider": 403, "member": 200,
                                           "other_member": 200, "coordinator": 200,
                                           "evaluator": 200},
    }  # fmt: skip
    for path, by_actor in expected.items():
        for actor, status in by_actor.items():
            assert clients[actor].get(path).status_code == status, (actor, path)
