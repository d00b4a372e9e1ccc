"""``tenants create --domain``: a custom domain is a real host name of the collectivité
(issue 13 §6). The platform domain, its subdomains, IP addresses, ports and invalid names
are refused with a French reason and a non-zero exit; nothing is created."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from core.db import db
from tenants import official

PLATFORM = "pnyx.test"


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=["tenants", *args])


def _free_commune(app) -> official.Collectivite:
    with app.app_context():
        used = set(db.session.scalars(sa.text("SELECT code FROM public.tenants")))
    return next(
        c for c in official.search("ville", limit=400) if c.kind == "commune" and c.code not in used
    )


def _tenant_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT count(*) FROM public.tenants"))


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        (PLATFORM, "domaine de la plateforme"),
        ("PNYX.test.", "domaine de la plateforme"),
        (f"angers.{PLATFORM}", "domaine de la plateforme"),
        (f"participez.mulhouse.{PLATFORM}", "domaine de la plateforme"),
        ("127.0.0.1", "adresse IP"),
        ("10.1", "adresse IP"),
        ("[::1]", "pas un nom de domaine valide"),
        ("participez.ville.fr:8443", "sans port"),
        (f"{PLATFORM}:5000", "sans port"),
        ("https://participez.ville.fr/", "pas un nom de domaine valide"),
        ("localhost", "pas un nom de domaine valide"),
        ("participez_ville.fr", "pas un nom de domaine valide"),
        ("-participez.ville.fr", "pas un nom de domaine valide"),
    ],
)
def test_create_refuses_domains_that_are_not_the_collectivites(app, domain, reason):
    commune = _free_commune(app)
    before = _tenant_count(app)
    slug = f"dom-{uuid.uuid4().hex[:8]}"
    result = _invoke(app, "create", "--code", commune.code, "--slug", slug, "--domain", domain)
    assert result.exit_code == 1, result.output
    assert reason in result.output
    assert _tenant_count(app) == before


def test_a_real_domain_of_the_collectivite_is_accepted(app):
    commune = _free_commune(app)
    slug = f"dom-{uuid.uuid4().hex[:8]}"
    domain = f"Participez.{slug}-Ville.FR"
    result = _invoke(app, "create", "--code", commune.code, "--slug", slug, "--domain", domain)
    assert result.exit_code == 0, result.output
    with app.app_context():
        hosts = dict(
            db.session.execute(
                sa.text(
                    "SELECT d.host, d.is_primary FROM public.domains d"
                    " JOIN public.tenants t ON t.id = d.tenant_id WHERE t.slug = :slug"
                ),
                {"slug": slug},
            ).all()
        )
    assert hosts == {f"participez.{slug}-ville.fr": True, f"{slug}.{PLATFORM}": False}


def test_the_service_refuses_the_platform_domain_with_its_port(app):
    from tenants.services import TenantError, validate_host

    with app.test_request_context():
        with pytest.raises(TenantError, match="plateforme"):
            validate_host("mulhouse.pnyx.localhost", "pnyx.localhost:5000")
        assert validate_host("participez.mulhouse.fr", "pnyx.localhost:5000") == (
            "participez.mulhouse.fr"
        )
