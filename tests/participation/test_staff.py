"""Staff side of a tenant: invitations by e-mail, acceptance, roles and services, removal,
services and quartiers, audit log, branding and settings, first admin, demo seeder."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    PASSWORD,
    client_on,
    create_person,
    csrf_in,
    ensure_legal_documents,
    logged_in,
    login_path,
    path_of,
    post,
    text,
    unique_email,
)
from tests.support.staff import audit_rows, fingerprint, fresh_code, read_user, setting

NEW_PASSWORD = "Girafe-Tamarin-Velours-2093"
#: A valid 1×1 PNG (core.uploads decodes and re-encodes every image: a file with a bad
#: checksum is refused as damaged).
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)


def _service_id(app, tenant, name: str) -> int:
    from participation.accounts.models import Service
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(sa.select(Service.id).where(Service.name == name))


def _invitation_link(smtp, email: str) -> str:
    message = smtp.wait_for_message_to(email)
    links = [url for url in smtp.links_in(message) if "/gestion/invitation/" in url]
    assert links, smtp.text_of(message)
    return links[0]


def _invite(client, email: str, role: str = "agent", services: tuple[int, ...] = ()):
    return post(
        client,
        "/gestion/equipe/inviter",
        {"email": email, "role": role, "services": [str(s) for s in services]},
    )


# --------------------------------------------------------------------------- invitations


def test_invitation_mail_acceptance_enrolment_then_staff_pages(staff_app, staff_smtp, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")

    created = post(admin_client, "/gestion/services", {"name": "Voirie", "email": ""})
    assert created.status_code == 302
    voirie = _service_id(app, tenant, "Voirie")

    email = unique_email("nouvel.agent")
    response = _invite(admin_client, email, "agent", (voirie,))
    assert response.status_code == 302 and path_of(response.location) == "/gestion/equipe"
    team = text(admin_client.get("/gestion/equipe"))
    assert email in team

    message = staff_smtp.wait_for_message_to(email)
    assert "Invitation à rejoindre l'équipe" in str(message["Subject"])
    body = staff_smtp.text_of(message)
    assert admin.display_name in body and "Agent d'un service" in body
    link = _invitation_link(staff_smtp, email)
    assert link.startswith(f"http://{tenant.primary_host}/gestion/invitation/")
    token = link.rsplit("/", 1)[1]

    # Only the digest of the token is stored.
    from participation.accounts.models import Invitation
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        invitation = db.session.scalar(sa.select(Invitation).where(Invitation.email == email))
        assert invitation.token_digest != token and len(invitation.token_digest) == 64
        validity = invitation.expires_at - invitation.created_at
        assert timedelta(days=6, hours=23) < validity <= timedelta(days=7, minutes=1)
        invitation_id = invitation.id

    newcomer = client_on(app, tenant)
    page = newcomer.get(path_of(link))
    assert page.status_code == 200
    html = text(page)
    assert "Créer mon compte" in html and email in html
    accepted = newcomer.post(
        path_of(link),
        data={
            "csrf_token": csrf_in(html),
            "display_name": "Alex Nouvel",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
            "accept_terms": "y",
        },
    )
    assert accepted.status_code == 302
    assert path_of(accepted.location) == "/gestion/securite/double-authentification"

    # Until enrolled, every staff page sends to the enrolment.
    blocked = newcomer.get("/gestion/")
    assert blocked.status_code == 302
    assert path_of(blocked.location).startswith("/gestion/securite/double-authentification")

    enrol = newcomer.get("/gestion/securite/double-authentification")
    assert enrol.status_code == 200 and enrol.headers["Cache-Control"] == "no-store"
    html = text(enrol)
    assert "<svg" in html
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)
    # Reloading the page keeps the same secret (the one the app may already have scanned).
    again = text(newcomer.get("/gestion/securite/double-authentification"))
    assert secret in again

    wrong = newcomer.post(
        "/gestion/securite/double-authentification",
        data={"csrf_token": csrf_in(html), "code": "000000"},
    )
    assert wrong.status_code == 200
    assert "Ce code ne correspond pas" in text(wrong)

    confirmed = newcomer.post(
        "/gestion/securite/double-authentification",
        data={"csrf_token": csrf_in(html), "code": pyotp.TOTP(secret).now()},
    )
    assert confirmed.status_code == 200 and confirmed.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", text(confirmed))
    assert len(codes) == 10

    home = newcomer.get("/gestion/")
    assert home.status_code == 200
    assert "Tableau de bord" in text(home)
    assert newcomer.get("/gestion/equipe").status_code == 403  # an agent, not an admin

    users = {p["display_name"]: p for p in [read_user(app, tenant, _user_id(app, tenant, email))]}
    user = users["Alex Nouvel"]
    assert user["staff_role"] == "agent" and user["services"] == ["Voirie"]
    assert user["totp_enabled"] and user["email_confirmed"]
    assert len(user["recovery_codes"]) == 10 and codes[0] not in user["recovery_codes"]

    new_id = str(_user_id(app, tenant, email))
    actions = [(r["action"], r["actor_id"], r["target_id"]) for r in audit_rows(app, tenant)]
    assert ("staff.service_created", admin.id, str(voirie)) in actions
    assert ("staff.invitation_created", admin.id, str(invitation_id)) in actions
    assert ("staff.invitation_accepted", int(new_id), new_id) in actions
    assert ("staff.two_factor_enrolled", int(new_id), new_id) in actions

    # The link is single use.
    reused = client_on(app, tenant).get(path_of(link))
    assert reused.status_code == 410
    assert "déjà été utilisée" in text(reused)


def _user_id(app, tenant, email: str) -> int:
    from participation.accounts.models import User
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def test_invitation_of_an_existing_account_asks_its_password(staff_app, staff_smtp, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, _admin = logged_in(app, tenant, "admin")
    citizen = create_person(app, tenant, None)
    assert _invite(admin_client, citizen.email.upper(), "moderator").status_code == 302
    link = path_of(_invitation_link(staff_smtp, citizen.email))

    client = client_on(app, tenant)
    html = text(client.get(link))
    assert "Un compte existe déjà" in html
    wrong = client.post(link, data={"csrf_token": csrf_in(html), "password": "pas-le-bon"})
    assert wrong.status_code == 200 and "Mot de passe incorrect." in text(wrong)
    assert read_user(app, tenant, citizen.id)["staff_role"] is None

    right = client.post(link, data={"csrf_token": csrf_in(html), "password": PASSWORD})
    assert right.status_code == 302
    assert path_of(right.location) == "/gestion/securite/double-authentification"
    assert read_user(app, tenant, citizen.id)["staff_role"] == "moderator"
    assert client.get("/gestion/securite/double-authentification").status_code == 200


def test_logged_in_invitee_accepts_with_one_click(staff_app, staff_smtp, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, _admin = logged_in(app, tenant, "admin")
    client, citizen = logged_in(app, tenant, None)
    assert _invite(admin_client, citizen.email, "moderator").status_code == 302
    link = path_of(_invitation_link(staff_smtp, citizen.email))
    html = text(client.get(link))
    assert "Accepter l'invitation" in html
    response = client.post(link, data={"csrf_token": csrf_in(html)})
    assert response.status_code == 302
    assert read_user(app, tenant, citizen.id)["staff_role"] == "moderator"


def test_expired_revoked_and_unknown_invitations_are_refused_in_french(
    staff_app, staff_smtp, new_tenant
):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")
    assert client_on(app, tenant).get("/gestion/invitation/nimporte-quoi").status_code == 404

    expired_email, revoked_email = unique_email("expire"), unique_email("revoque")
    assert _invite(admin_client, expired_email, "moderator").status_code == 302
    assert _invite(admin_client, revoked_email, "moderator").status_code == 302
    expired_link = path_of(_invitation_link(staff_smtp, expired_email))
    revoked_link = path_of(_invitation_link(staff_smtp, revoked_email))

    from participation.accounts.models import Invitation
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        db.session.execute(
            sa.update(Invitation)
            .where(Invitation.email == expired_email)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        revoked_id = db.session.scalar(
            sa.select(Invitation.id).where(Invitation.email == revoked_email)
        )
        db.session.commit()

    page = client_on(app, tenant).get(expired_link)
    assert page.status_code == 410 and "Cette invitation a expiré" in text(page)

    revoked = post(admin_client, f"/gestion/equipe/invitations/{revoked_id}/revoquer")
    assert revoked.status_code == 302
    page = client_on(app, tenant).get(revoked_link)
    assert page.status_code == 410 and "a été annulée" in text(page)
    # Posting to a revoked link creates nothing either.
    before = fingerprint(app, tenant)
    client = client_on(app, tenant)
    response = post(
        client,
        revoked_link,
        {
            "display_name": "Intrus",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
            "accept_terms": "y",
        },
    )
    assert response.status_code == 410 and fingerprint(app, tenant) == before

    rows = audit_rows(app, tenant, "staff.invitation_revoked")
    assert [(r["actor_id"], r["target_id"]) for r in rows] == [(admin.id, str(revoked_id))]


def test_invitation_rules(staff_app, staff_smtp, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")

    no_service = _invite(admin_client, unique_email(), "agent")
    assert no_service.status_code == 200
    assert "Un agent doit appartenir à au moins un service." in text(no_service)

    member = _invite(admin_client, admin.email, "moderator")
    assert "fait déjà partie de l'équipe" in text(member)

    email = unique_email()
    assert _invite(admin_client, email, "moderator").status_code == 302
    twice = _invite(admin_client, email, "moderator")
    assert "déjà en attente" in text(twice)
    assert len(staff_smtp.messages_to(email)) == 1

    bad = _invite(admin_client, "pas-une-adresse", "moderator")
    assert "adresse e-mail valide" in text(bad)


# --------------------------------------------------------------------------- members


def test_change_role_and_services_is_audited(staff_app, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")
    agent = create_person(app, tenant, "agent", services=("Voirie",))
    culture = post(admin_client, "/gestion/services", {"name": "Culture"})
    assert culture.status_code == 302
    culture_id = _service_id(app, tenant, "Culture")
    voirie_id = _service_id(app, tenant, "Voirie")

    page = admin_client.get(f"/gestion/equipe/{agent.id}")
    assert page.status_code == 200 and agent.email in text(page)
    response = post(
        admin_client,
        f"/gestion/equipe/{agent.id}",
        {"role": "agent", "services": [str(voirie_id), str(culture_id)]},
    )
    assert response.status_code == 302
    assert read_user(app, tenant, agent.id)["services"] == ["Culture", "Voirie"]

    response = post(admin_client, f"/gestion/equipe/{agent.id}", {"role": "moderator"})
    assert response.status_code == 302
    user = read_user(app, tenant, agent.id)
    assert user["staff_role"] == "moderator" and user["services"] == []

    rows = audit_rows(app, tenant, "staff.member_updated")
    assert [(r["actor_id"], r["target_id"]) for r in rows] == [
        (admin.id, str(agent.id)),
        (admin.id, str(agent.id)),
    ]
    assert rows[1]["details"]["role_before"] == "agent"
    assert rows[1]["details"]["role"] == "moderator"
    assert rows[0]["details"]["services"] == ["Culture", "Voirie"]


def test_the_last_admin_cannot_step_down(staff_app, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")
    before = fingerprint(app, tenant)
    response = post(admin_client, f"/gestion/equipe/{admin.id}", {"role": "moderator"})
    assert response.status_code == 200
    assert "Il doit rester au moins un administrateur" in text(response)
    removal = post(admin_client, f"/gestion/equipe/{admin.id}/retirer")
    assert removal.status_code == 302
    assert read_user(app, tenant, admin.id)["staff_role"] == "admin"
    assert fingerprint(app, tenant) == before


def test_removing_a_member_ends_their_sessions(staff_app, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")
    agent_client, agent = logged_in(app, tenant, "agent", services=("Voirie",))
    assert agent_client.get("/gestion/").status_code == 200

    response = post(admin_client, f"/gestion/equipe/{agent.id}/retirer")
    assert response.status_code == 302

    user = read_user(app, tenant, agent.id)
    assert user["staff_role"] is None and user["services"] == []
    assert user["session_version"] == agent.session_version + 1
    assert not user["totp_enabled"]
    after = agent_client.get("/gestion/")
    assert after.status_code == 302
    assert path_of(after.location).startswith(login_path(app, tenant))
    # The account itself stays: a citizen account now.
    assert user["display_name"] == agent.display_name

    rows = audit_rows(app, tenant, "staff.member_removed")
    assert [(r["actor_id"], r["actor_label"], r["target_id"]) for r in rows] == [
        (admin.id, admin.display_name, str(agent.id))
    ]
    assert rows[0]["details"] == {"role": "agent", "services": ["Voirie"]}


# --------------------------------------------------------------------------- services, quartiers


def test_services_crud_is_audited(staff_app, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")
    assert post(admin_client, "/gestion/services", {"name": "Voirie"}).status_code == 302
    duplicate = post(admin_client, "/gestion/services", {"name": "voirie"})
    assert "Un service porte déjà ce nom." in text(duplicate)
    service_id = _service_id(app, tenant, "Voirie")

    renamed = post(
        admin_client,
        f"/gestion/services/{service_id}",
        {"name": "Voirie et espaces publics", "email": "voirie@ville.example.fr"},
    )
    assert renamed.status_code == 302
    listing = text(admin_client.get("/gestion/services"))
    assert "Voirie et espaces publics" in listing and "voirie@ville.example.fr" in listing

    agent = create_person(app, tenant, "agent", services=("Voirie et espaces publics",))
    refused = post(admin_client, f"/gestion/services/{service_id}/supprimer")
    assert refused.status_code == 302
    assert _service_id(app, tenant, "Voirie et espaces publics") == service_id
    post(admin_client, f"/gestion/equipe/{agent.id}", {"role": "moderator"})
    deleted = post(admin_client, f"/gestion/services/{service_id}/supprimer")
    assert deleted.status_code == 302
    assert _service_id(app, tenant, "Voirie et espaces publics") is None

    actions = [
        (r["action"], r["target_id"])
        for r in audit_rows(app, tenant)
        if r["action"].startswith("staff.service_")
    ]
    assert actions == [
        ("staff.service_created", str(service_id)),
        ("staff.service_updated", str(service_id)),
        ("staff.service_deleted", str(service_id)),
    ]
    assert all(
        r["actor_id"] == admin.id
        for r in audit_rows(app, tenant)
        if r["action"].startswith("staff.service_")
    )


def test_neighbourhoods_crud_is_audited(staff_app, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")
    for name in ("Dornach", "Rebberg", "Centre-ville"):
        assert post(admin_client, "/gestion/quartiers", {"name": name}).status_code == 302
    from participation.accounts.models import Neighbourhood
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        rows = db.session.execute(
            sa.select(Neighbourhood.id, Neighbourhood.name, Neighbourhood.position).order_by(
                Neighbourhood.position
            )
        ).all()
    assert [r.name for r in rows] == ["Dornach", "Rebberg", "Centre-ville"]
    centre = rows[2].id
    moved = post(
        admin_client, f"/gestion/quartiers/{centre}", {"name": "Centre-ville", "position": "0"}
    )
    assert moved.status_code == 302
    table = text(admin_client.get("/gestion/quartiers")).split("<tbody>", 1)[1]
    assert table.index("Centre-ville") < table.index("Dornach")
    assert post(admin_client, f"/gestion/quartiers/{rows[0].id}/supprimer").status_code == 302
    table = text(admin_client.get("/gestion/quartiers")).split("<tbody>", 1)[1]
    assert "Dornach" not in table and "Rebberg" in table

    actions = [
        r["action"]
        for r in audit_rows(app, tenant)
        if r["action"].startswith("staff.neighbourhood")
    ]
    assert actions == ["staff.neighbourhood_created"] * 3 + [
        "staff.neighbourhood_updated",
        "staff.neighbourhood_deleted",
    ]


# --------------------------------------------------------------------------- audit log page


def test_audit_log_page_is_paginated_newest_first(staff_app, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")
    from core.audit import record_action
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        for i in range(60):
            record_action(
                "staff.service_created",
                actor_id=admin.id,
                actor_label=admin.display_name,
                target_type="service",
                target_id=1000 + i,
                name=f"Service {i}",
            )
        db.session.commit()

    first = admin_client.get("/gestion/journal")
    assert first.status_code == 200
    html = text(first)
    assert "Service créé" in html and admin.display_name in html
    assert html.index("n° 1059") < html.index("n° 1058")  # newest first
    assert "n° 1000" not in html and "Page 1 sur 2" in html
    second = text(admin_client.get("/gestion/journal?page=2"))
    assert "n° 1000" in second and "n° 1059" not in second
    assert admin_client.get("/gestion/journal?page=3").status_code == 404


# --------------------------------------------------------------------------- settings, branding


def _settings(client, **values):
    data = {
        "site_name": "Ville de Test",
        "primary_colour": "#1d4e89",
        "logo_url": "",
        "dpo_contact": "",
    }
    data.update(values)
    return post(client, "/gestion/parametres", data, content_type="multipart/form-data")


def test_contrast_ratio_follows_wcag():
    from participation.staff.branding import contrast_ratio

    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#1d4e89", "#ffffff") == pytest.approx(8.39, abs=0.01)
    assert contrast_ratio("#ffcc00", "#ffffff") == pytest.approx(1.51, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # just enough
    assert contrast_ratio("#777777", "#ffffff") < 4.5  # just too light


def test_primary_colour_contrast_and_theme_css(staff_app, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, admin = logged_in(app, tenant, "admin")
    visitor = client_on(app, tenant)

    theme = visitor.get("/theme.css")
    assert theme.status_code == 200 and theme.mimetype == "text/css"
    assert "--primary: #1d4e89;" in text(theme)
    assert theme.headers["ETag"] and "max-age=60" in theme.headers["Cache-Control"]
    unchanged = visitor.get("/theme.css", headers={"If-None-Match": theme.headers["ETag"]})
    assert unchanged.status_code == 304

    refused = _settings(admin_client, primary_colour="#FFCC00")
    assert refused.status_code == 200
    html = text(refused)
    assert "pas assez de contraste avec le texte blanc" in html and "1,5:1" in html
    assert setting(app, tenant, "primary_colour") == "#1d4e89"
    bad_format = _settings(admin_client, primary_colour="bleu")
    assert "au format #rrggbb" in text(bad_format)

    accepted = _settings(admin_client, primary_colour="#2B5F2E", site_name="Ma ville participe")
    assert accepted.status_code == 302
    assert setting(app, tenant, "primary_colour") == "#2b5f2e"
    theme2 = visitor.get("/theme.css", headers={"If-None-Match": theme.headers["ETag"]})
    assert theme2.status_code == 200 and "--primary: #2b5f2e;" in text(theme2)
    assert theme2.headers["ETag"] != theme.headers["ETag"]

    home = text(visitor.get("/"))
    assert "Ma ville participe" in home
    assert re.search(r'href="/theme\.css\?v=[0-9a-f]+"', home)

    rows = audit_rows(app, tenant, "staff.settings_updated")
    assert len(rows) == 1 and rows[0]["actor_id"] == admin.id
    assert rows[0]["details"]["changes"]["primary_colour"] == {
        "before": "#1d4e89",
        "after": "#2b5f2e",
    }
    assert rows[0]["details"]["changes"]["site_name"]["after"] == "Ma ville participe"


def test_logo_upload_refuses_svg_and_serves_png(staff_app, new_tenant, tmp_path):
    app, tenant = staff_app, new_tenant
    admin_client, _admin = logged_in(app, tenant, "admin")
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    try:
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        before = fingerprint(app, tenant)
        for name in ("logo.svg", "logo.png"):  # the content decides, not the name
            refused = _settings(admin_client, logo_file=(io.BytesIO(svg), name))
            assert refused.status_code == 200
            assert "Les logos SVG ne sont pas acceptés" in text(refused)
        not_image = _settings(admin_client, logo_file=(io.BytesIO(b"GIF89a..."), "logo.gif"))
        assert "PNG ou JPEG" in text(not_image)
        too_big = _settings(
            admin_client, logo_file=(io.BytesIO(PNG_1PX + b"\0" * (1024 * 1024)), "big.png")
        )
        assert "1 Mo" in text(too_big)
        huge = _settings(
            admin_client, logo_file=(io.BytesIO(PNG_1PX + b"\0" * (3 * 1024 * 1024)), "big.png")
        )
        assert huge.status_code == 413 and "trop volumineux" in text(huge)
        http_url = _settings(admin_client, logo_url="http://example.fr/logo.png")
        assert "https://" in text(http_url)
        assert fingerprint(app, tenant) == before
        assert not list(tmp_path.rglob("*.*"))

        accepted = _settings(admin_client, logo_file=(io.BytesIO(PNG_1PX), "logo.png"))
        assert accepted.status_code == 302
        stored = setting(app, tenant, "logo_file")
        assert re.fullmatch(r"[0-9a-f]{32}\.png", stored)
        # Re-encoded by core.uploads into the tenant's images folder: same pixels.
        kept = tmp_path / f"t{tenant.id}" / "images" / stored
        assert kept.read_bytes().startswith(b"\x89PNG")

        home = text(client_on(app, tenant).get("/"))
        match = re.search(r'<img class="site-logo" src="([^"]+)" alt="Logo de ([^"]+)"', home)
        assert match and match.group(1) == f"/medias/logo/{stored}"
        served = client_on(app, tenant).get(match.group(1))
        assert served.status_code == 200 and served.mimetype == "image/png"
        assert served.data == kept.read_bytes()
        assert client_on(app, tenant).get("/medias/logo/../../etc.png").status_code == 404

        replaced = _settings(admin_client, logo_url="https://www.example.fr/logo.png")
        assert replaced.status_code == 302
        assert setting(app, tenant, "logo_file") is None
        assert not (tmp_path / f"t{tenant.id}" / "images" / stored).exists()
        home = text(client_on(app, tenant).get("/"))
        assert 'src="https://www.example.fr/logo.png"' in home
    finally:
        app.config.pop("UPLOAD_FOLDER", None)


def test_dpo_contact_setting(staff_app, new_tenant):
    app, tenant = staff_app, new_tenant
    admin_client, _admin = logged_in(app, tenant, "admin")
    contact = "Délégué à la protection des données\ndpo@ville.example.fr"
    assert _settings(admin_client, site_name=tenant.name, dpo_contact=contact).status_code == 302
    assert setting(app, tenant, "dpo_contact") == contact
    form = text(admin_client.get("/gestion/parametres"))
    assert "dpo@ville.example.fr" in form
    if "accounts.privacy" in app.view_functions:
        privacy = text(client_on(app, tenant).get("/confidentialite"))
        assert "dpo@ville.example.fr" in privacy
    rows = audit_rows(app, tenant, "staff.settings_updated")
    assert list(rows[-1]["details"]["changes"]) == ["dpo_contact"]


# --------------------------------------------------------------------------- first admin


def test_first_admin_invitation_from_the_cli_is_sent_once(staff_app, staff_smtp):
    from participation.staff.tasks import invite_first_admin
    from tenants import official
    from tenants.context import load_tenant_ref

    app = staff_app
    with app.app_context():
        used = set(db.session.scalars(sa.text("SELECT code FROM public.tenants")))
    commune = next(
        c for c in official.search("sur", limit=300) if c.kind == "commune" and c.code not in used
    )
    slug = f"adm-{uuid.uuid4().hex[:8]}"
    email = unique_email("maire")
    result = app.test_cli_runner().invoke(
        args=["tenants", "create", "--code", commune.code, "--slug", slug, "--admin-email", email]
    )
    assert result.exit_code == 0, result.output
    message = staff_smtp.wait_for_message_to(email)
    body = staff_smtp.text_of(message)
    assert "premier administrateur" in body
    link = [u for u in staff_smtp.links_in(message) if "/gestion/invitation/" in u][0]
    assert link.startswith(f"http://{slug}.pnyx.test/")

    with app.app_context():
        tenant_id = db.session.scalar(
            sa.text("SELECT id FROM public.tenants WHERE slug = :s"), {"s": slug}
        )
        assert invite_first_admin(tenant_id, email) == "pending"  # the job, run again
        assert invite_first_admin(tenant_id, email.upper()) == "pending"
        tenant = load_tenant_ref(tenant_id)
    assert len(staff_smtp.messages_to(email)) == 1
    rows = audit_rows(app, tenant, "staff.invitation_created")
    assert len(rows) == 1 and rows[0]["actor_id"] is None
    assert rows[0]["actor_label"] == "Plateforme Pnyx" and rows[0]["details"]["role"] == "admin"

    # The link works: the first admin creates the account and lands on the enrolment.
    ensure_legal_documents(app, tenant)
    client = client_on(app, tenant)
    html = text(client.get(path_of(link)))
    created = client.post(
        path_of(link),
        data={
            "csrf_token": csrf_in(html),
            "display_name": "Claude Maire",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
            "accept_terms": "y",
        },
    )
    assert created.status_code == 302
    assert read_user(app, tenant, _user_id(app, tenant, email))["staff_role"] == "admin"


def test_cli_refuses_an_invalid_admin_email_before_creating_anything(staff_app):
    from tenants import official

    with staff_app.app_context():
        used = set(db.session.scalars(sa.text("SELECT code FROM public.tenants")))
        count = db.session.scalar(sa.text("SELECT count(*) FROM public.tenants"))
    commune = next(
        c for c in official.search("sur", limit=300) if c.kind == "commune" and c.code not in used
    )
    result = staff_app.test_cli_runner().invoke(
        args=["tenants", "create", "--code", commune.code, "--admin-email", "pas-une-adresse"]
    )
    assert result.exit_code == 2 and "--admin-email" in result.output
    with staff_app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM public.tenants")) == count


# --------------------------------------------------------------------------- demo


def test_demo_seeder_is_idempotent_and_its_accounts_work(staff_app, make_tenant):
    from participation.accounts.models import Neighbourhood, Service, User
    from participation.staff.demo import DEMO_PASSWORD, seed_staff
    from tenants.context import load_tenant_ref, tenant_context

    app = staff_app
    with app.app_context():
        tenant_id = db.session.scalar(
            sa.text("SELECT id FROM public.tenants WHERE slug = 'saillans'")
        )
    with app.app_context():
        tenant = load_tenant_ref(tenant_id) if tenant_id else None
    tenant = tenant or make_tenant(slug="saillans")
    ensure_legal_documents(app, tenant)

    def counts():
        with app.app_context(), tenant_context(tenant):
            return tuple(
                db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Service, Neighbourhood, User)
            )

    with app.app_context():
        first = list(seed_staff())
    after_first = counts()
    with app.app_context():
        second = list(seed_staff())
    assert counts() == after_first and first == second
    lines = "\n".join(first)
    assert "admin@saillans.example.fr" in lines and "TOTP secret" in lines
    with app.app_context(), tenant_context(tenant):
        names = set(db.session.scalars(sa.select(Neighbourhood.name)))
        assert {"Bourg", "Les Chapelains", "Les Samarins", "Rive gauche"} <= names
        agent = db.session.scalar(sa.select(User).where(User.email == "voirie@saillans.example.fr"))
        assert [s.name for s in agent.services] == ["Voirie et espaces publics"]
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@saillans.example.fr"))
        secret = admin.totp_secret
    assert secret in lines

    # A developer logs in with the printed password and secret.
    client = client_on(app, tenant)
    html = text(client.get("/connexion"))
    response = client.post(
        "/connexion",
        data={
            "csrf_token": csrf_in(html),
            "email": "admin@saillans.example.fr",
            "password": DEMO_PASSWORD,
        },
    )
    assert path_of(response.location).startswith("/gestion/securite/verification")
    page = text(client.get("/gestion/securite/verification"))
    last_step = read_user(app, tenant, _user_id(app, tenant, "admin@saillans.example.fr"))[
        "totp_last_step"
    ]
    done = client.post(
        "/gestion/securite/verification",
        data={"csrf_token": csrf_in(page), "code": fresh_code(secret, last_step)},
    )
    assert done.status_code == 302
    assert client.get("/gestion/equipe").status_code == 200
