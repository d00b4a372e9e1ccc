"""RGPD right of access for platform accounts: « Télécharger mes données » on the network
home gives every section the features registered in the platform registry (profile, forum
posts…), for the signed-in account only."""

from __future__ import annotations

import io
import json
import zipfile

from tests.support import platform_client, platform_user
from tests.support import post as post_platform
from tests.support.network import make_network


def _files(response) -> dict[str, object]:
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "no-store" in response.headers["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist()}


def test_a_member_downloads_their_account_and_forum_posts(net_app, member_tenant):
    network = make_network(net_app, members=[member_tenant], public_sections=())
    member_id, member_email = platform_user(net_app, "member", tenant_id=member_tenant.id)
    other_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    member = platform_client(net_app, member_id)
    base = f"/reseaux/{network['slug']}/forum"
    post_platform(
        member, f"{base}/nouvelle-question", {"title": "Budget des quartiers ?", "body": "Qui ?"}
    )
    post_platform(
        platform_client(net_app, other_id),
        f"{base}/nouvelle-question",
        {"title": "Question d'un autre agent", "body": "…"},
    )

    home = member.get("/espace").get_data(as_text=True)
    assert "/espace/mes-donnees" in home and "Télécharger mes données" in home
    files = _files(member.get("/espace/mes-donnees"))
    assert files["compte_plateforme.json"]["email"] == member_email
    titles = [q["title"] for q in files["forum.json"]["questions"]]
    assert titles == ["Budget des quartiers ?"]  # the other agent's question is not theirs


def test_the_download_needs_a_signed_in_account_with_its_second_factor(net_app, member_tenant):
    anonymous = platform_client(net_app)
    assert anonymous.get("/espace/mes-donnees").status_code in (302, 303)
    user_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    unverified = platform_client(net_app, user_id, verified=False)
    response = unverified.get("/espace/mes-donnees")
    assert response.status_code in (302, 303)
    assert response.location.startswith("/connexion/verification")
