"""Only the real collectivité gets its space (issue 13 §1): a self-service sign-up waits,
hidden from citizens, until the operator approves it or the requester confirms an address
at an official domain; rejections and requests for more are mailed; disputes reach the
operator only; the operator console is for operators, with CSRF on every action.

Real PostgreSQL, Redis and SMTP; jobs run synchronously (RQ_ASYNC=False).
"""

from __future__ import annotations

import io
import re
import uuid

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from tests.billing.test_signup import (
    add_staff,
    csrf_token,
    free_commune,
    seed_plans,
    signup_data,
    signup_path,
    tenant_for,
    text,
)
from tests.support import PASSWORD, PLATFORM, client_on, host_client
from tests.support.billing import operator_client

QUEUE = "/operateur/verifications"


@pytest.fixture(scope="module")
def vapp(app):
    seed_plans(app)
    return app


@pytest.fixture
def client(vapp):
    return client_on(vapp, PLATFORM)


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_up(client, commune, email: str, **extra) -> tuple[int, str, str]:
    """Sign ``commune`` up through the form; returns (tenant id, slug, progress URL)."""
    page = text(client.get(signup_path(commune)))
    data = signup_data(page, email=email, **extra)
    response = client.post(signup_path(commune), data=data, content_type="multipart/form-data")
    assert response.status_code == 303, text(response)[:3000]
    with client.application.app_context():
        tenant_id = db.session.scalar(
            sa.text("SELECT id FROM public.tenants WHERE kind = :k AND code = :c"),
            {"k": commune.kind, "c": commune.code},
        )
    return tenant_id, data["slug"], response.headers["Location"]


def status_of(app, tenant_id: int) -> str | None:
    with app.app_context():
        return db.session.scalar(
            sa.text("SELECT status FROM public.tenants WHERE id = :id"), {"id": tenant_id}
        )


def request_id_for(app, tenant_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.text(
                "SELECT id FROM public.tenant_verification_requests WHERE tenant_id = :id"
                " ORDER BY id DESC LIMIT 1"
            ),
            {"id": tenant_id},
        )


def post_action(client, page_path: str, path: str, data: dict | None = None):
    page = client.get(page_path)
    assert page.status_code == 200, page.text[:2000]
    return client.post(path, data={"csrf_token": csrf_token(page.text), **(data or {})})


# --------------------------------------------------------------------------- pending


def test_signup_is_pending_until_the_operator_approves(vapp, client, mailbox):
    from tenants.listing import active_tenant_ids

    commune = free_commune(vapp, "mont")
    email = f"dgs.{uuid.uuid4().hex[:8]}@wanadoo.fr"
    tenant_id, slug, _progress = sign_up(
        client,
        commune,
        email,
        proof_kind="bon_de_commande",
        proof=(io.BytesIO(pdf_bytes()), "bon de commande signé.pdf"),
    )
    assert status_of(vapp, tenant_id) == "pending_verification"
    # The operator is told; the requester gets the invitation and the confirmation link.
    notice = mailbox.wait_for_message_to("contact@pnyx.test")
    assert commune.name in mailbox.text_of(notice)
    assert mailbox.wait_for_message_to(email)

    public = host_client(vapp, f"{slug}.{PLATFORM}")
    home = public.get("/")
    assert home.status_code == 200
    assert "Espace en cours de vérification" in text(home)
    assert home.headers["X-Robots-Tag"].startswith("noindex")
    assert '<meta name="robots" content="noindex, nofollow">' in home.text
    assert home.headers["Cache-Control"] == "no-store"
    # Citizens can neither sign up nor write; staff pages still answer (log-in first).
    assert "Espace en cours de vérification" in text(public.get("/inscription"))
    assert public.post("/inscription", data={"email": "x@exemple.fr"}).status_code == 403
    staff_home = public.get("/gestion/")
    assert staff_home.status_code == 302 and "/connexion" in staff_home.headers["Location"]
    assert public.get("/connexion").status_code == 200
    # Nothing is sent to citizens: the digests skip the space.
    with vapp.app_context():
        assert tenant_id not in active_tenant_ids()

    # The operator's queue shows who asked, their role, phone and proof.
    operator, _operator_id = operator_client(vapp)
    queue = text(operator.get(QUEUE))
    assert commune.name in queue and "Camille Martin" in queue
    assert "Chargée de mission participation" in queue and "03 89 32 58 58" in queue
    proof_link = re.search(r'href="(/operateur/justificatifs/\d+)"', queue).group(1)
    proof = operator.get(proof_link)
    assert proof.status_code == 200 and proof.data.startswith(b"%PDF-")
    assert proof.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in proof.headers["Cache-Control"]

    request_id = request_id_for(vapp, tenant_id)
    detail = f"{QUEUE}/{request_id}"
    response = post_action(operator, detail, f"{detail}/approuver")
    assert response.status_code == 303
    assert status_of(vapp, tenant_id) == "active"
    approved = [m for m in mailbox.messages_to(email) if "vérifié" in m["Subject"]]
    assert approved, [m["Subject"] for m in mailbox.messages_to(email)]

    home = public.get("/")
    assert home.status_code == 200
    assert "Espace en cours de vérification" not in text(home)
    assert "X-Robots-Tag" not in home.headers
    with vapp.app_context():
        assert tenant_id in active_tenant_ids()


def test_an_address_at_an_official_domain_approves_at_once(vapp, client, mailbox):
    from billing import verification

    commune = free_commune(vapp, "val")
    domain = f"ville-{uuid.uuid4().hex[:6]}.fr"
    with vapp.app_context():
        verification.add_official_domain(commune.kind, commune.code, domain, actor_id=None)
        db.session.commit()
    email = f"accueil@services.{domain}"
    tenant_id, _slug, _progress = sign_up(client, commune, email)
    assert status_of(vapp, tenant_id) == "pending_verification"

    message = next(
        m for m in _wait_all(mailbox, email, 2) if "Confirmez votre adresse" in m["Subject"]
    )
    link = next(
        u for u in mailbox.links_in(message) if "/inscription-collectivite/verification/" in u
    )
    path = link.split(PLATFORM, 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and status_of(vapp, tenant_id) == "pending_verification"
    # Opening the link confirms nothing (mail scanners open links): the button does.
    response = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 200
    assert "votre espace est vérifié et ouvert au public" in text(response)
    assert status_of(vapp, tenant_id) == "active"
    with vapp.app_context():
        method = db.session.scalar(
            sa.text("SELECT method FROM public.tenant_verification_requests WHERE tenant_id = :i"),
            {"i": tenant_id},
        )
    assert method == "official_domain"


def test_a_confirmed_address_elsewhere_still_waits(vapp, client, mailbox):
    commune = free_commune(vapp, "pont")
    email = f"mairie.{uuid.uuid4().hex[:6]}@orange.fr"
    tenant_id, _slug, _progress = sign_up(client, commune, email)
    message = next(
        m for m in _wait_all(mailbox, email, 2) if "Confirmez votre adresse" in m["Subject"]
    )
    link = next(u for u in mailbox.links_in(message) if "/verification/" in u)
    path = link.split(PLATFORM, 1)[1]
    page = client.get(path)
    client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert status_of(vapp, tenant_id) == "pending_verification"
    assert client.get("/inscription-collectivite/verification/forged").status_code == 404


def _wait_all(mailbox, address: str, count: int, timeout: float = 5):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = mailbox.messages_to(address)
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    return mailbox.messages_to(address)


def test_free_webmail_is_never_an_official_domain(vapp):
    from billing import verification

    with vapp.app_context():
        with pytest.raises(verification.VerificationError, match="ouverte à tous"):
            verification.add_official_domain("commune", "68224", "orange.fr", actor_id=None)
        with pytest.raises(verification.VerificationError, match="pas un nom de domaine"):
            verification.add_official_domain("commune", "68224", "pas un domaine", actor_id=None)
        db.session.rollback()


# --------------------------------------------------------------------------- decisions


def test_reject_mails_the_reason_and_frees_the_code(vapp, client, mailbox):
    commune = free_commune(vapp, "bourg")
    email = f"squat.{uuid.uuid4().hex[:8]}@exemple.fr"
    tenant_id, slug, _progress = sign_up(client, commune, email)
    operator, _ = operator_client(vapp)
    detail = f"{QUEUE}/{request_id_for(vapp, tenant_id)}"

    empty = post_action(operator, detail, f"{detail}/refuser", {"reason": "  "})
    assert empty.status_code == 400 and "Indiquez la raison du refus." in text(empty)

    reason = "Nous n'avons pas pu joindre la mairie au numéro indiqué."
    response = post_action(operator, detail, f"{detail}/refuser", {"reason": reason})
    assert response.status_code == 303
    refused = next(
        m for m in _wait_all(mailbox, email, 4) if "n'a pas été acceptée" in m["Subject"]
    )
    assert reason in mailbox.text_of(refused)
    # The space is gone (archived first), the collectivité can sign up again.
    assert status_of(vapp, tenant_id) is None
    assert host_client(vapp, f"{slug}.{PLATFORM}").get("/").status_code == 404
    assert "Inscrire" in text(client.get(signup_path(commune)))
    # The decision stays on record.
    assert "Refusée" in text(operator.get(detail))


def test_ask_for_more_then_the_requester_adds_a_proof(vapp, client, mailbox):
    commune = free_commune(vapp, "lac")
    email = f"agent.{uuid.uuid4().hex[:8]}@exemple.fr"
    tenant_id, _slug, progress = sign_up(client, commune, email)
    operator, _ = operator_client(vapp)
    detail = f"{QUEUE}/{request_id_for(vapp, tenant_id)}"
    ask = "Merci de joindre la délibération du conseil municipal."
    assert (
        post_action(operator, detail, f"{detail}/complement", {"message": ask}).status_code == 303
    )
    asked = next(m for m in _wait_all(mailbox, email, 4) if "complément" in m["Subject"])
    assert ask in mailbox.text_of(asked)

    page = client.get(progress)
    assert ask in text(page)
    bad = client.post(
        progress + "/justificatif",
        data={
            "csrf_token": csrf_token(page.text),
            "proof_kind": "deliberation",
            "proof": (io.BytesIO(b"<html>pas un pdf</html>"), "deliberation.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert "Le fichier doit être un PDF ou une image" in text(bad)
    good = client.post(
        progress + "/justificatif",
        data={
            "csrf_token": csrf_token(page.text),
            "proof_kind": "deliberation",
            "proof": (io.BytesIO(pdf_bytes()), "deliberation.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert good.status_code == 303
    queue = text(operator.get(QUEUE))
    assert "Délibération" in queue
    assert "À vérifier" in text(operator.get(detail))  # back in the queue


# --------------------------------------------------------------------------- disputes


def test_a_dispute_reaches_the_operator_never_the_admins(vapp, client, mailbox):
    commune = free_commune(vapp, "font")
    tenant = tenant_for(vapp, commune)
    squatter = f"squatter.{uuid.uuid4().hex[:8]}@exemple.fr"
    add_staff(vapp, tenant, squatter, "admin")
    page = text(client.get(signup_path(commune)))
    assert "Contester l'attribution de cet espace" in page

    form_page = client.get(f"{signup_path(commune)}/contestation")
    assert form_page.status_code == 200
    claimant = f"dgs.{uuid.uuid4().hex[:8]}@mairie-exemple.fr"
    data = {
        "csrf_token": csrf_token(form_page.text),
        "name": "Dominique Durand",
        "role": "Directrice générale des services",
        "phone": "04 75 21 51 60",
        "email": claimant,
        "message": "Cet espace a été ouvert sans l'accord de la mairie.",
        "site_internet": "",
    }
    no_csrf = dict(data, csrf_token="")
    assert client.post(f"{signup_path(commune)}/contestation", data=no_csrf).status_code == 400
    response = client.post(f"{signup_path(commune)}/contestation", data=data)
    assert response.status_code == 303
    operator_mail = mailbox.wait_for_message_to("contact@pnyx.test")
    assert "sans l'accord de la mairie" in mailbox.text_of(operator_mail)
    assert mailbox.wait_for_message_to(claimant)  # acknowledged
    assert mailbox.messages_to(squatter) == []

    # The operator hands the space over: the claimant is invited, the squatter removed.
    operator, _ = operator_client(vapp)
    queue = text(operator.get(QUEUE))
    dispute_path = re.search(r'href="(/operateur/contestations/\d+)"', queue).group(1)
    assert "Dominique Durand" in text(operator.get(dispute_path))
    response = post_action(operator, dispute_path, f"{dispute_path}/confier", {"note": ""})
    assert response.status_code == 303
    invitation = mailbox.wait_for_message_to(claimant.lower(), timeout=5)
    assert invitation is not None
    assert any(
        "/gestion/invitation/" in u
        for m in mailbox.messages_to(claimant)
        for u in mailbox.links_in(m)
    )
    from participation.accounts.models import User
    from tenants.context import tenant_context

    with vapp.app_context(), tenant_context(tenant.id):
        role = db.session.scalar(sa.select(User.staff_role).where(User.email == squatter))
    assert role is None
    assert mailbox.messages_to(squatter) == []


# --------------------------------------------------------------------------- slugs


@pytest.mark.parametrize(
    ("code", "kind", "allowed", "refused"),
    [
        (
            "42218",
            "commune",
            ["saint-etienne", "st-etienne", "ville-saint-etienne", "saint-etienne-42"],
            ["saint-etienne-officiel", "etienne", "mairie-de-paris", "www"],
        ),
        (
            "76351",
            "commune",
            ["le-havre", "havre", "lehavre", "le-havre-76351"],
            ["lehavre-officiel"],
        ),
        ("68", "departement", ["haut-rhin", "departement-haut-rhin", "cd68"], ["alsace"]),
        ("200066009", "epci", ["mulhouse-alsace-agglomeration", "cmaa"], ["m2a-officiel"]),
    ],
)
def test_slug_variants(vapp, code, kind, allowed, refused):
    from tenants import official
    from tenants.services import RESERVED_SLUGS, slug_variants

    with vapp.app_context():
        variants = slug_variants(official.lookup(code, kind=kind))
    assert all(len(v) <= 40 for v in variants)
    assert not set(variants) & RESERVED_SLUGS
    for slug in allowed:
        assert slug in variants, (slug, variants)
    for slug in refused:
        assert slug not in variants


# --------------------------------------------------------------------------- authorisation


def test_only_operators_act_on_the_queue(vapp, client, make_tenant):
    from core.security.auth import SESSION_RECORD_KEY, issue_session_token
    from tenants.platform.services import create_platform_user, enable_totp_with_secret

    commune = free_commune(vapp, "roche")
    tenant_id, _slug, _progress = sign_up(client, commune, f"a.{uuid.uuid4().hex[:6]}@exemple.fr")
    detail = f"{QUEUE}/{request_id_for(vapp, tenant_id)}"
    urls = [QUEUE, detail, "/operateur/domaines-officiels"]
    posts = [
        f"{detail}/approuver",
        f"{detail}/refuser",
        f"/operateur/espaces/{tenant_id}/suspendre",
    ]

    anonymous = host_client(vapp, PLATFORM)
    for url in urls + posts:
        method = anonymous.get if url in urls else anonymous.post
        response = method(url)
        assert response.status_code in (302, 400), url
        if response.status_code == 302:
            assert "/connexion" in response.headers["Location"]

    with vapp.app_context():
        user = create_platform_user(
            f"coord-{uuid.uuid4().hex[:6]}@exemple.fr",
            "Coordination",
            "coordinator",
            password=PASSWORD,
        )
        enable_totp_with_secret(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        db.session.commit()
        user_id, version = user.id, user.session_version
        token = issue_session_token("platform", user_id)
    coordinator = host_client(vapp, PLATFORM)
    with coordinator.session_transaction(base_url=coordinator.base_url) as sess:
        sess.update(
            {
                "_user_id": f"p:{user_id}:{version}",
                SESSION_RECORD_KEY: token,
                "_fresh": True,
                "pnyx_2fa": True,
            }
        )
    for url in urls:
        assert coordinator.get(url).status_code == 403, url
    page = coordinator.get("/connexion")
    token_value = csrf_token(page.text) if 'name="csrf_token"' in page.text else ""
    for url in posts:
        assert coordinator.post(url, data={"csrf_token": token_value}).status_code in (400, 403)
    assert status_of(vapp, tenant_id) == "pending_verification"

    # The operator without the CSRF token: refused too.
    operator, _ = operator_client(vapp)
    assert operator.post(f"{detail}/approuver").status_code == 400
    assert status_of(vapp, tenant_id) == "pending_verification"


def test_suspend_now_from_the_console(vapp, client, make_tenant):
    tenant = make_tenant()
    operator, _ = operator_client(vapp)
    home = operator.get("/operateur")
    assert home.status_code == 200
    assert "Suspendre maintenant" in text(home) and "Signataire" in text(home)
    response = post_action(operator, "/operateur", f"/operateur/espaces/{tenant.id}/suspendre")
    assert response.status_code == 303
    assert status_of(vapp, tenant.id) == "suspended"
    site = host_client(vapp, tenant.primary_host)
    assert site.post("/inscription", data={}).status_code == 403
    response = post_action(operator, "/operateur", f"/operateur/espaces/{tenant.id}/retablir")
    assert status_of(vapp, tenant.id) == "active"


def test_pending_state_survives_a_suspension(vapp):
    from datetime import UTC, datetime

    from tenants.models import Tenant, TenantStatus

    tenant = Tenant(status=TenantStatus.PENDING_VERIFICATION, verification_required=True)
    tenant.suspend()
    tenant.activate()
    assert tenant.status == TenantStatus.PENDING_VERIFICATION  # never skips verification
    tenant.mark_verified(datetime.now(UTC))
    assert tenant.status == TenantStatus.ACTIVE


def test_demo_seed_is_idempotent(vapp):
    from billing.verification.demo import seed_verification

    with vapp.app_context():
        first = list(seed_verification())
        second = list(seed_verification())
        assert first == second
        rows = db.session.execute(
            sa.text(
                "SELECT t.status, r.requester_name, count(p.id) AS proofs"
                "  FROM public.tenants t"
                "  JOIN public.tenant_verification_requests r ON r.tenant_id = t.id"
                "  LEFT JOIN public.tenant_verification_proofs p ON p.request_id = r.id"
                " WHERE t.slug = 'colmar' GROUP BY t.status, r.requester_name"
            )
        ).all()
        domains = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM public.official_email_domains WHERE domain = 'mulhouse.fr'"
            )
        )
    assert [tuple(r) for r in rows] == [("pending_verification", "Claire Dubois", 1)]
    assert domains == 1


def test_personal_data_is_anonymised_after_the_retention_period(vapp, client):
    from datetime import timedelta

    from billing import verification
    from tenants.verification import VerificationRequest

    commune = free_commune(vapp, "fort")
    email = f"agent.{uuid.uuid4().hex[:8]}@exemple.fr"
    tenant_id, _slug, _progress = sign_up(
        client,
        commune,
        email,
        proof_kind="courrier_officiel",
        proof=(io.BytesIO(pdf_bytes()), "courrier.pdf"),
    )
    with vapp.app_context():
        assert verification.personal_data_for(email)[0]["phone"] == "03 89 32 58 58"
        row = db.session.get(VerificationRequest, request_id_for(vapp, tenant_id))
        verification.approve(row, actor_id=None)
        db.session.commit()
        assert verification.anonymise_expired() == 0  # decided today: kept
        later = clock.utcnow() + timedelta(days=verification.retention_days() + 1)
        assert verification.anonymise_expired(now=later) >= 1
        db.session.commit()
        row = db.session.get(VerificationRequest, row.id)
        assert row.requester_email is None and row.requester_phone is None
        assert row.requester_name is None and row.proofs == []
        assert row.state == "approved"  # the decision stays
        assert verification.personal_data_for(email) == []
