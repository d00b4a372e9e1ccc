"""Networks and memberships: the operator creates a network and names its coordination,
the coordinator invites, the tenant's admin accepts, declines or leaves on its own host."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db
from tests.support import logged_in, logged_platform, platform_client, platform_user, post, text
from tests.support import post as post_platform
from tests.support.network import make_network, membership_status, platform_audit
from tests.support.staff import audit_rows


def test_operator_creates_a_network_and_names_a_coordinator(net_app):
    client, operator_id = logged_platform(net_app, "operator")
    response = post_platform(
        client,
        "/operateur/reseaux/nouveau",
        {
            "name": "Réseau des Vosges participatives",
            "description": "Des **communes**",
            "charter": "",
        },
    )
    assert response.status_code == 302
    slug = response.headers["Location"].rsplit("/", 1)[-1]
    assert slug.startswith("reseau-des-vosges-participatives")
    created = [
        r for r in platform_audit(net_app, "network.created") if r["details"]["slug"] == slug
    ]
    assert created and created[0]["actor_id"] == operator_id

    coordinator_id, _ = platform_user(net_app, "coordinator", name="Alix Coordination")
    response = post_platform(
        client,
        f"/operateur/reseaux/{slug}/roles",
        {"user_id": coordinator_id, "role": "coordinator"},
    )
    assert response.status_code == 302
    page = text(client.get(f"/operateur/reseaux/{slug}"))
    assert "Alix Coordination" in page

    # Twice the same role: refused with a French message, one row only.
    post_platform(
        client,
        f"/operateur/reseaux/{slug}/roles",
        {"user_id": coordinator_id, "role": "coordinator"},
    )
    with net_app.app_context():
        count = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM public.network_roles r JOIN public.networks n "
                "ON n.id = r.network_id WHERE n.slug = :s"
            ),
            {"s": slug},
        )
    assert count == 1
    # The public page shows the network and its coordination.
    public = text(platform_client(net_app).get(f"/reseaux/{slug}"))
    assert "Réseau des Vosges participatives" in public and "<strong>communes</strong>" in public


def test_a_member_account_cannot_be_coordinator(net_app, member_tenant):
    client, _ = logged_platform(net_app, "operator")
    network = make_network(net_app)
    member_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    post_platform(
        client,
        f"/operateur/reseaux/{network['slug']}/roles",
        {"user_id": member_id, "role": "coordinator"},
    )
    with net_app.app_context():
        assert not db.session.scalar(
            sa.text("SELECT count(*) FROM public.network_roles WHERE network_id = :n"),
            {"n": network["id"]},
        )


def test_invitation_accept_leave_reinvite_decline(net_app, member_tenant):
    coordinator_id, _ = platform_user(net_app, "coordinator")
    network = make_network(net_app, coordinator_id=coordinator_id)
    coordinator = platform_client(net_app, coordinator_id)

    # Search finds the tenant by name; the invitation is recorded.
    found = text(coordinator.get(f"/reseaux/{network['slug']}/coordination?q={member_tenant.name}"))
    assert f"Inviter {member_tenant.name}" in found
    response = post_platform(
        coordinator,
        f"/reseaux/{network['slug']}/coordination/inviter",
        {"tenant_id": member_tenant.id},
    )
    assert response.status_code == 302
    assert membership_status(net_app, network["id"], member_tenant.id) == "invited"
    assert any(
        r["details"].get("tenant_id") == member_tenant.id
        for r in platform_audit(net_app, "network.tenant_invited")
    )
    # Not yet a member: the members page does not list it.
    members_page = text(platform_client(net_app).get(f"/reseaux/{network['slug']}/membres"))
    assert member_tenant.name not in members_page

    # A moderator of the tenant sees the invitation but may not answer it.
    moderator, _ = logged_in(net_app, member_tenant, "moderator")
    page = text(moderator.get("/gestion/reseaux"))
    assert network["name"] in page and "Accepter" not in page
    with net_app.app_context():
        membership_id = db.session.scalar(
            sa.text(
                "SELECT id FROM public.network_memberships WHERE network_id = :n AND tenant_id = :t"
            ),
            {"n": network["id"], "t": member_tenant.id},
        )
    assert post(moderator, f"/gestion/reseaux/{membership_id}/accepter").status_code == 403
    assert membership_status(net_app, network["id"], member_tenant.id) == "invited"

    admin, admin_person = logged_in(net_app, member_tenant, "admin")
    assert "Accepter l'invitation" in text(admin.get("/gestion/reseaux"))
    assert post(admin, f"/gestion/reseaux/{membership_id}/accepter").status_code == 302
    assert membership_status(net_app, network["id"], member_tenant.id) == "active"
    rows = audit_rows(net_app, member_tenant, "network.invitation_accepted")
    assert rows and rows[-1]["actor_id"] == admin_person.id
    members_page = text(platform_client(net_app).get(f"/reseaux/{network['slug']}/membres"))
    assert member_tenant.name in members_page and "<svg" in members_page

    # Accepting twice: a French message, nothing changes.
    response = post(admin, f"/gestion/reseaux/{membership_id}/accepter", follow_redirects=True)
    assert "n'est plus en attente" in text(response)

    assert post(admin, f"/gestion/reseaux/{membership_id}/quitter").status_code == 302
    assert membership_status(net_app, network["id"], member_tenant.id) == "left"
    assert audit_rows(net_app, member_tenant, "network.left")

    post_platform(
        coordinator,
        f"/reseaux/{network['slug']}/coordination/inviter",
        {"tenant_id": member_tenant.id},
    )
    assert membership_status(net_app, network["id"], member_tenant.id) == "invited"
    assert post(admin, f"/gestion/reseaux/{membership_id}/refuser").status_code == 302
    assert membership_status(net_app, network["id"], member_tenant.id) == "declined"


def test_a_tenant_can_be_in_several_networks(net_app, member_tenant):
    first = make_network(net_app, members=[member_tenant])
    second = make_network(net_app, invited=[member_tenant])
    admin, _ = logged_in(net_app, member_tenant, "admin")
    page = text(admin.get("/gestion/reseaux"))
    assert first["name"] in page and second["name"] in page
    with net_app.app_context():
        membership_id = db.session.scalar(
            sa.text(
                "SELECT id FROM public.network_memberships WHERE network_id = :n AND tenant_id = :t"
            ),
            {"n": second["id"], "t": member_tenant.id},
        )
    post(admin, f"/gestion/reseaux/{membership_id}/accepter")
    assert membership_status(net_app, first["id"], member_tenant.id) == "active"
    assert membership_status(net_app, second["id"], member_tenant.id) == "active"


def test_another_tenant_cannot_answer_for_mine(net_app, member_tenant, make_tenant):
    network = make_network(net_app, invited=[member_tenant])
    other = make_tenant()
    from tests.support import ensure_legal_documents

    ensure_legal_documents(net_app, other)
    with net_app.app_context():
        membership_id = db.session.scalar(
            sa.text(
                "SELECT id FROM public.network_memberships WHERE network_id = :n AND tenant_id = :t"
            ),
            {"n": network["id"], "t": member_tenant.id},
        )
    stranger, _ = logged_in(net_app, other, "admin")
    assert post(stranger, f"/gestion/reseaux/{membership_id}/accepter").status_code == 404
    assert membership_status(net_app, network["id"], member_tenant.id) == "invited"


def test_coordinator_sets_public_sections(net_app):
    coordinator_id, _ = platform_user(net_app, "coordinator")
    network = make_network(net_app, coordinator_id=coordinator_id, public_sections=())
    anonymous = platform_client(net_app)
    assert anonymous.get(f"/reseaux/{network['slug']}/membres").status_code == 403
    coordinator = platform_client(net_app, coordinator_id)
    response = post_platform(
        coordinator,
        f"/reseaux/{network['slug']}/coordination/rubriques",
        {"sections": ["members", "forum", "nonsense"]},
    )
    assert response.status_code == 302
    # An unknown key makes the form invalid: nothing saved.
    assert anonymous.get(f"/reseaux/{network['slug']}/membres").status_code == 403
    post_platform(
        coordinator,
        f"/reseaux/{network['slug']}/coordination/rubriques",
        {"sections": ["members", "forum"]},
    )
    assert anonymous.get(f"/reseaux/{network['slug']}/membres").status_code == 200
    rows = [
        r
        for r in platform_audit(net_app, "network.public_sections_set")
        if r["target_id"] == str(network["id"])
    ]
    assert rows[-1]["details"]["sections"] == ["members", "forum"]
