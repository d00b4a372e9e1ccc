"""Sign-up of a collectivité on the platform site (issue 7), without JavaScript.

Real PostgreSQL, Redis and SMTP; jobs run synchronously (RQ_ASYNC=False), so provisioning,
the trial and the first-admin invitation are done by the time the sign-up answers.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import PLATFORM, client_on, host_client, text
from tests.support import csrf_in as csrf_token

NARROW_NBSP = "\u202f"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def signup_app(app):
    seed_plans(app)
    return app


def seed_plans(app) -> None:
    """The trial needs the plans (seeded once by ``flask billing seed-plans`` in real life)."""
    from billing.catalogue import seed_plans

    with app.app_context():
        seed_plans()
        db.session.commit()


@pytest.fixture
def client(signup_app):
    """A platform client with an address of its own (rate-limit counters never mix)."""
    return client_on(signup_app, PLATFORM)


def _taken_codes(app) -> set[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT kind, code FROM public.tenants")).all()
    return {(row.kind, row.code) for row in rows}


def free_commune(app, word: str = "bois"):
    """A real commune with no space yet in this test database."""
    from tenants import official

    taken = _taken_codes(app)
    for commune in official.search(word, limit=300):
        if commune.kind == "commune" and (commune.kind, commune.code) not in taken:
            return commune
    raise LookupError(f"no free commune matching {word!r}")


def tenant_for(app, commune, *, provision: bool = True, slug: str | None = None):
    """A space for ``commune`` (as another sign-up would have made it)."""
    from tenants.context import load_tenant_ref
    from tenants.provisioning import provision_now
    from tenants.services import create_tenant

    with app.app_context():
        tenant = create_tenant(
            commune.code, PLATFORM, slug=slug or f"s-{uuid.uuid4().hex[:10]}", kind=commune.kind
        )
        db.session.commit()
        tenant_id = tenant.id
        if provision:
            provision_now(db.engine, tenant_id)
        return load_tenant_ref(tenant_id)


def add_staff(app, tenant, email: str, role: str) -> None:
    from participation.accounts.models import StaffRole, User
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        db.session.add(User(email=email, display_name=f"Agent {role}", staff_role=StaffRole(role)))
        db.session.commit()


def signup_path(commune) -> str:
    return f"/inscription-collectivite/{commune.kind}/{commune.code}"


def slug_choices(page_html: str) -> list[str]:
    """The subdomains the form offers: variants of the official name (issue 13)."""
    return re.findall(r'type="radio" name="slug" id="slug-\d+" value="([^"]+)"', page_html) or [
        value for value in re.findall(r'name="slug"[^>]*value="([^"]+)"', page_html)
    ]


def signup_data(page_html: str, **overrides) -> dict:
    choices = slug_choices(page_html)
    data = {
        "csrf_token": csrf_token(page_html),
        "agent_name": "Camille Martin",
        "agent_role": "Chargée de mission participation",
        "agent_phone": "03 89 32 58 58",
        "email": f"camille.{uuid.uuid4().hex[:8]}@mairie-exemple.fr",
        "slug": choices[-1] if choices else "",
        "accept_terms": "y",
        "site_internet": "",
    }
    data.update(overrides)
    return data


def tenant_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT count(*) FROM public.tenants"))


# --------------------------------------------------------------------------- finding


def radio_values(html: str) -> list[str]:
    return re.findall(r'type="radio" name="choix" id="choix-\d+" value="([^"]+)"', html)


def test_search_by_name_without_javascript(client):
    response = client.get("/inscription-collectivite?q=mulh")
    assert response.status_code == 200
    html = text(response)
    assert "commune:68224" in radio_values(html)
    assert f"Mulhouse (68) — commune, 104{NARROW_NBSP}978 hab." in html
    assert len(radio_values(html)) <= 10
    # Each result is a labelled radio button.
    index = radio_values(html).index("commune:68224") + 1
    assert f'<label for="choix-{index}" class="label-inline">Mulhouse (68)' in html


def test_search_by_postal_code(client):
    html = text(client.get("/inscription-collectivite?q=68100"))
    assert radio_values(html)[:2] == ["commune:68224", "commune:68100"]  # Mulhouse, Fulleren


@pytest.mark.parametrize(
    ("query", "expected", "label"),
    [
        ("68224", "commune:68224", "Mulhouse (68) — commune"),
        ("200066009", "epci:200066009", "CA Mulhouse Alsace Agglomération (68)"),
    ],
)
def test_search_by_official_code(client, query, expected, label):
    html = text(client.get(f"/inscription-collectivite?q={query}"))
    assert radio_values(html)[0] == expected
    assert label in html


def test_search_without_result_or_too_short(client):
    html = text(client.get("/inscription-collectivite?q=zzzqqq"))
    assert "Aucune collectivité ne correspond à « zzzqqq »" in html
    assert radio_values(html) == []
    html = text(client.get("/inscription-collectivite?q=m"))
    assert "Saisissez au moins deux caractères." in html


def test_the_start_page_has_the_combobox_hooks_but_no_inline_script(client):
    response = client.get("/inscription-collectivite")
    html = text(response)
    assert 'role="search"' in html and 'id="q-listbox"' in html and 'role="listbox"' in html
    assert 'role="status"' in html
    assert "/static/signup.js" in html
    assert "<script>" not in html and "style=" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_choosing_a_result_leads_to_the_collectivite(client):
    response = client.get("/inscription-collectivite?q=mulh&choix=commune:68224")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/inscription-collectivite/commune/68224")
    html = text(client.get("/inscription-collectivite?q=mulh&choix="))
    assert "Choisissez votre collectivité dans la liste." in html


def test_json_search_for_the_combobox(client):
    data = client.get("/inscription-collectivite/recherche?q=mulh").get_json()
    assert data["count"] == len(data["results"]) <= 10
    mulhouse = next(r for r in data["results"] if r["value"] == "commune:68224")
    assert mulhouse["label"].startswith("Mulhouse (68) — commune")
    assert mulhouse["url"] == "/inscription-collectivite/commune/68224"
    assert client.get("/inscription-collectivite/recherche?q=m").get_json() == {
        "count": 0,
        "results": [],
    }


def test_the_json_search_is_rate_limited(client):
    statuses = [
        client.get("/inscription-collectivite/recherche?q=68100").status_code for _ in range(61)
    ]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_collectivite_page(signup_app, client):
    commune = free_commune(signup_app)
    html = text(client.get(signup_path(commune)))
    assert f"Inscrire {commune.name}" in html
    assert "Commune" in html and commune.code in html
    population = f"{commune.population:,}".replace(",", NARROW_NBSP)
    assert f"{population} habitant" in html
    from tenants.official import suggest_slug

    # The subdomain: the official name's variants, the plain name first and chosen.
    assert slug_choices(html)[0] == suggest_slug(commune)
    assert re.search(
        rf'value="{suggest_slug(commune)}"\s+checked|checked[^>]*value="{suggest_slug(commune)}"',
        html,
    )
    assert 'href="/conditions-plateforme"' in html
    assert 'name="site_internet"' in html  # the honeypot, in a hidden block
    assert re.search(r"<div hidden>\s*<label for=\"site_internet\"", html)


def test_unknown_collectivite_is_a_french_404(client):
    response = client.get("/inscription-collectivite/commune/00000")
    assert response.status_code == 404
    assert "Aucune collectivité ne correspond à cette adresse." in text(response)
    assert client.get("/inscription-collectivite/canton/68224").status_code == 404


def test_platform_terms_page(client):
    response = client.get("/conditions-plateforme")
    assert response.status_code == 200
    assert "Conditions d'utilisation de la plateforme Pnyx" in text(response)


def test_signup_pages_are_on_the_platform_site_only(signup_app, make_tenant):
    tenant = make_tenant()
    tenant_client = host_client(signup_app, tenant.primary_host)
    assert tenant_client.get("/inscription-collectivite").status_code == 404


# --------------------------------------------------------------------------- subdomain


def check(client, slug: str) -> dict:
    response = client.get("/inscription-collectivite/sous-domaine", query_string={"slug": slug})
    assert response.status_code == 200
    return response.get_json()


def test_subdomain_check(signup_app, client):
    free = f"libre-{uuid.uuid4().hex[:6]}"
    result = check(client, free.upper())
    assert result["available"] is True and result["slug"] == free
    assert result["message"] == f"L'adresse {free}.{PLATFORM} est disponible."

    reserved = check(client, "admin")
    assert reserved["available"] is False
    assert reserved["message"] == "L'adresse « admin » est réservée. Merci d'en choisir une autre."

    for bad in ("mul house", "écolo", "-mulhouse", "a--b", "x" * 41, "ville_1"):
        result = check(client, bad)
        assert result["available"] is False, bad
        assert "lettres minuscules sans accent" in result["message"]

    taken = tenant_for(signup_app, free_commune(signup_app), provision=False)
    result = check(client, taken.slug)
    assert result["available"] is False
    assert result["message"] == f"L'adresse « {taken.slug} » est déjà utilisée."


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("www", "est réservée"),
        ("Mul House!", "L'adresse doit reprendre le nom de"),
        ("mairie-de-paris", "L'adresse doit reprendre le nom de"),
    ],
)
def test_the_form_refuses_a_bad_subdomain(signup_app, client, slug, message):
    commune = free_commune(signup_app)
    before = tenant_count(signup_app)
    page = text(client.get(signup_path(commune)))
    response = client.post(signup_path(commune), data=signup_data(page, slug=slug))
    assert response.status_code == 200
    html = text(response)
    assert message in html
    # The radio group says what is wrong (its fieldset is described by the error).
    assert 'aria-describedby="slug-hint slug-error"' in html
    assert "Le formulaire contient des erreurs" in html
    assert tenant_count(signup_app) == before


def test_the_form_refuses_a_taken_subdomain(signup_app, client):
    from tenants.services import slug_variants

    commune = free_commune(signup_app)
    page = text(client.get(signup_path(commune)))
    # A homonym (or a sign-up racing this one) takes one of the offered variants meanwhile.
    variant = slug_choices(page)[0]
    assert variant in slug_variants(commune)
    other = free_commune(signup_app, "ville")
    assert other != commune
    tenant_for(signup_app, other, provision=False, slug=variant)
    html = text(client.post(signup_path(commune), data=signup_data(page, slug=variant)))
    assert f"L'adresse « {variant} » est déjà utilisée." in html
    assert (commune.kind, commune.code) not in _taken_codes(signup_app)
    # Offered no more.
    assert variant not in slug_choices(text(client.get(signup_path(commune))))


def test_the_form_says_what_is_missing(signup_app, client):
    commune = free_commune(signup_app)
    page = text(client.get(signup_path(commune)))
    data = signup_data(page, agent_name="", agent_role="", email="pas-une-adresse")
    del data["accept_terms"]
    html = text(client.post(signup_path(commune), data=data))
    for message in (
        "Indiquez vos prénom et nom.",
        "Indiquez votre fonction dans la collectivité.",
        "Indiquez une adresse e-mail valide",
        "Vous devez accepter les conditions d'utilisation.",
    ):
        assert message in html
    assert (commune.kind, commune.code) not in _taken_codes(signup_app)


def test_honeypot(signup_app, client, mailbox):
    commune = free_commune(signup_app)
    page = text(client.get(signup_path(commune)))
    data = signup_data(page, site_internet="http://promo.example")
    response = client.post(signup_path(commune), data=data)
    assert response.status_code == 400
    assert "Votre demande n'a pas pu être enregistrée." in text(response)
    assert (commune.kind, commune.code) not in _taken_codes(signup_app)
    assert mailbox.messages_to(data["email"]) == []


def test_the_form_needs_the_csrf_token(signup_app, client):
    commune = free_commune(signup_app)
    page = text(client.get(signup_path(commune)))
    data = signup_data(page)
    del data["csrf_token"]
    assert client.post(signup_path(commune), data=data).status_code == 400
    assert (commune.kind, commune.code) not in _taken_codes(signup_app)


# --------------------------------------------------------------------------- the whole flow


def test_sign_up_creates_a_pending_space_with_a_trial_and_invites_the_agent(
    signup_app, client, mailbox
):
    from billing.models import Subscription
    from core.audit import AuditEntry
    from tenants.context import tenant_context
    from tenants.models import Tenant

    commune = free_commune(signup_app)
    # A free webmail address is accepted: many small town halls have nothing else.
    email = f"mairie.{uuid.uuid4().hex[:8]}@orange.fr"

    search = text(client.get(f"/inscription-collectivite?q={commune.code}"))
    assert f"commune:{commune.code}" in radio_values(search)
    chosen = client.get(f"/inscription-collectivite?choix=commune:{commune.code}")
    assert chosen.status_code == 303
    page = text(client.get(chosen.headers["Location"]))
    slug = slug_choices(page)[0]
    response = client.post(
        signup_path(commune), data=signup_data(page, email=email.upper(), slug=slug)
    )
    assert response.status_code == 303
    progress_url = response.headers["Location"]
    assert re.fullmatch(r"/inscription-collectivite/suivi/[\w.-]+", progress_url)

    with signup_app.app_context():
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
        assert tenant is not None and tenant.code == commune.code
        # Self-service: built, but hidden from citizens until verified (issue 13).
        assert tenant.status == "pending_verification"
        assert tenant.verification_required and tenant.verified_at is None
        assert tenant.primary_host == f"{slug}.{PLATFORM}"
        subscription = db.session.scalar(
            sa.select(Subscription).where(Subscription.tenant_id == tenant.id)
        )
        assert subscription is not None and subscription.state == "trialing"
        trial_days = (subscription.trial_ends_at - datetime.now(UTC)).days
        assert 28 <= trial_days <= 30
        tenant_id = tenant.id
    with signup_app.app_context(), tenant_context(tenant_id):
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "tenant.signed_up")
        )
        assert entry.actor_label == "Camille Martin"
        assert entry.details["agent_role"] == "Chargée de mission participation"
        assert entry.details["email"] == email
        assert entry.details["terms_version"]

    # The invitation to administer the space, to the agent.
    message = mailbox.wait_for_message_to(email)
    body = mailbox.text_of(message)
    assert "premier administrateur" in body
    link = next(u for u in mailbox.links_in(message) if "/gestion/invitation/" in u)
    assert link.startswith(f"http://{slug}.{PLATFORM}/")

    html = text(client.get(progress_url))
    assert "Espace créé : vérification en cours." in html
    assert re.search(r'data-progress-panel="ready" hidden', html)
    assert f'href="http://{slug}.{PLATFORM}/"' in html
    assert "Consultez votre messagerie." in html
    assert 'http-equiv="refresh"' not in html
    assert email not in html  # the page needs no log-in: it names nobody
    status = client.get(progress_url + "/etat").get_json()
    assert status == {
        "state": "pending_verification",
        "message": "Espace créé : vérification en cours.",
    }

    # The space answers on its subdomain, with the page saying it is being verified.
    public = host_client(signup_app, f"{slug}.{PLATFORM}").get("/")
    assert public.status_code == 200
    assert "Espace en cours de vérification" in text(public)


def token_for(app, tenant_id: int) -> str:
    from billing.signup import progress_token

    with app.test_request_context():
        return progress_token(tenant_id)


def test_progress_page_before_and_after_provisioning(signup_app, client):
    from tenants.provisioning import provision_now

    tenant = tenant_for(signup_app, free_commune(signup_app), provision=False)
    url = f"/inscription-collectivite/suivi/{token_for(signup_app, tenant.id)}"

    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = text(response)
    assert "Création de l'espace…" in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert re.search(r'data-progress-panel="ready" hidden', html)
    assert client.get(url + "/etat").get_json()["state"] == "provisioning"

    with signup_app.app_context():
        provision_now(db.engine, tenant.id)

    html = text(client.get(url))
    assert "Prêt : votre espace est en ligne." in html
    assert 'http-equiv="refresh"' not in html
    assert re.search(r'data-progress-panel="provisioning" hidden', html)
    assert client.get(url + "/etat").get_json()["state"] == "ready"


def test_progress_page_after_a_failed_provisioning(signup_app, client):
    from rq.job import Job, JobStatus

    from core.jobs import redis_connection
    from tenants.provisioning import provision_job_id

    tenant = tenant_for(signup_app, free_commune(signup_app), provision=False)
    url = f"/inscription-collectivite/suivi/{token_for(signup_app, tenant.id)}"
    with signup_app.app_context():
        job = Job.create(
            "tenants.provisioning.provision_tenant",
            args=(tenant.id,),
            id=provision_job_id(tenant.id),
            connection=redis_connection(),
        )
        job.save()
        job.set_status(JobStatus.FAILED)
    try:
        response = client.get(url)
        html = text(response)
        assert response.status_code == 200
        assert "La création de votre espace n'a pas abouti." in html
        assert re.search(r'data-progress-panel="failed">', html)
        assert 'href="mailto:contact@pnyx.test"' in html
        assert "Traceback" not in html and 'http-equiv="refresh"' not in html
        assert client.get(url + "/etat").get_json()["state"] == "failed"
    finally:
        with signup_app.app_context():
            job.delete()


def test_provisioning_stuck_for_too_long_counts_as_failed(signup_app, client):
    tenant = tenant_for(signup_app, free_commune(signup_app), provision=False)
    with signup_app.app_context():
        db.session.execute(
            sa.text("UPDATE public.tenants SET created_at = :at WHERE id = :id"),
            {"at": datetime.now(UTC) - timedelta(hours=1), "id": tenant.id},
        )
        db.session.commit()
    url = f"/inscription-collectivite/suivi/{token_for(signup_app, tenant.id)}/etat"
    assert client.get(url).get_json()["state"] == "failed"


def test_progress_links_are_signed(signup_app, client):
    from itsdangerous import URLSafeTimedSerializer

    assert client.get("/inscription-collectivite/suivi/1").status_code == 404
    forged = URLSafeTimedSerializer("not-the-key", salt="pnyx-signup-progress").dumps({"tenant": 1})
    response = client.get(f"/inscription-collectivite/suivi/{forged}")
    assert response.status_code == 404
    assert "Ce lien de suivi n'est pas valide ou a expiré." in text(response)
    assert client.get(f"/inscription-collectivite/suivi/{forged}/etat").status_code == 404


# --------------------------------------------------------------------------- duplicates


def test_duplicate_signup_is_refused_and_the_admins_can_be_contacted(signup_app, client, mailbox):
    commune = free_commune(signup_app)
    tenant = tenant_for(signup_app, commune)
    admins = [f"admin{i}.{uuid.uuid4().hex[:8]}@mairie-exemple.fr" for i in (1, 2)]
    moderator = f"moderation.{uuid.uuid4().hex[:8]}@mairie-exemple.fr"
    for address in admins:
        add_staff(signup_app, tenant, address, "admin")
    add_staff(signup_app, tenant, moderator, "moderator")

    # Found again, the collectivité's page says it has a space and offers the contact form.
    page = client.get(signup_path(commune))
    html = text(page)
    assert page.status_code == 200
    assert f"{commune.name} a déjà un espace de participation" in html
    assert "Contacter l'administrateur de cet espace" in html
    assert f'href="http://{tenant.primary_host}/"' in html
    assert 'name="agent_name"' not in html

    # Posting the sign-up form anyway (a page opened before) is refused too.
    before = tenant_count(signup_app)
    refused = client.post(signup_path(commune), data=signup_data(html))
    assert refused.status_code == 409
    assert "Contacter l'administrateur de cet espace" in text(refused)
    assert tenant_count(signup_app) == before

    visitor = f"visiteur.{uuid.uuid4().hex[:8]}@exemple.fr"
    response = client.post(
        f"{signup_path(commune)}/contact",
        data={
            "csrf_token": csrf_token(html),
            "name": "Dominique Durand",
            "email": visitor,
            "message": "Bonjour,\nje suis la nouvelle DGS, pouvez-vous m'inviter ?",
            "site_internet": "",
        },
    )
    assert response.status_code == 303
    confirmation = text(client.get(response.headers["Location"]))
    assert "Votre message a été transmis à l'administration de l'espace" in confirmation

    for address in admins:
        message = mailbox.wait_for_message_to(address)
        assert message["Reply-To"] == f"Dominique Durand <{visitor}>"
        body = mailbox.text_of(message)
        assert "je suis la nouvelle DGS" in body and "Dominique Durand" in body
        assert f"http://{tenant.primary_host}/" in body
        assert message.envelope_to == (address,)  # one mail each: no one sees the others
    assert mailbox.messages_to(moderator) == []
    assert mailbox.messages_to(visitor) == []
    # The visitor never sees the administrators' addresses.
    for html_seen in (html, text(refused), confirmation):
        for address in (*admins, moderator):
            assert address not in html_seen


def test_contact_without_admin_reaches_the_platform_support(signup_app, client, mailbox):
    commune = free_commune(signup_app)
    tenant_for(signup_app, commune)
    html = text(client.get(signup_path(commune)))
    response = client.post(
        f"{signup_path(commune)}/contact",
        data={
            "csrf_token": csrf_token(html),
            "name": "Dominique Durand",
            "email": "dominique@exemple.fr",
            "message": "Qui administre cet espace ?",
        },
    )
    assert response.status_code == 303
    message = mailbox.wait_for_message_to("contact@pnyx.test")
    assert "Qui administre cet espace ?" in mailbox.text_of(message)


def test_contact_form_errors_honeypot_and_rate_limit(signup_app, client, mailbox):
    commune = free_commune(signup_app)
    tenant = tenant_for(signup_app, commune)
    admin = f"admin.{uuid.uuid4().hex[:8]}@mairie-exemple.fr"
    add_staff(signup_app, tenant, admin, "admin")
    html = text(client.get(signup_path(commune)))
    path = f"{signup_path(commune)}/contact"
    token = csrf_token(html)

    invalid = client.post(path, data={"csrf_token": token, "name": "", "email": "x", "message": ""})
    assert invalid.status_code == 200
    assert "Écrivez votre message." in text(invalid)

    robot = {
        "csrf_token": token,
        "name": "Robot",
        "email": "robot@exemple.fr",
        "message": "Promotion",
        "site_internet": "http://promo.example",
    }
    assert client.post(path, data=robot).status_code == 400
    assert client.get(path).status_code == 303  # nothing to see there but the form's page

    statuses = [client.post(path, data={"csrf_token": token}).status_code for _ in range(2)]
    assert statuses == [200, 429]  # 3 per minute, the two above included
    assert mailbox.messages_to(admin) == []


def test_signup_post_is_rate_limited(signup_app, client):
    commune = free_commune(signup_app)
    page = text(client.get(signup_path(commune)))
    statuses = [
        client.post(signup_path(commune), data=signup_data(page, slug="www")).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
