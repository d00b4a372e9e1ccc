"""Creating tenants and changing their state. Services add and flush; callers commit."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from core.db import db
from tenants import official
from tenants.models import Domain, Tenant, TenantKind, TenantStatus
from tenants.resolver import normalise_host

SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$"
)
RESERVED_SLUGS = frozenset(
    [
        "www",
        "api",
        "app",
        "admin",
        "administration",
        "static",
        "assets",
        "media",
        "mail",
        "smtp",
        "imap",
        "webmail",
        "ftp",
        "status",
        "healthz",
        "docs",
        "doc",
        "aide",
        "help",
        "support",
        "blog",
        "pnyx",
        "billing",
        "facturation",
        "paiement",
        "reseau",
        "reseaux",
        "operateur",
        "operator",
        "platform",
        "plateforme",
        "compte",
        "comptes",
        "connexion",
        "login",
        "inscription",
        "signup",
        "demo",
        "test",
        "tests",
        "staging",
        "dev",
        "www1",
        "www2",
        "cdn",
        "ns",
        "ns1",
        "ns2",
        "mx",
    ]
)


class TenantError(ValueError):
    """A French, user-facing reason why a tenant cannot be created or changed."""


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.fullmatch(slug) or "--" in slug:
        raise TenantError(
            _(
                "L'adresse doit faire de 1 à 40 caractères : lettres minuscules sans accent, "
                "chiffres et tirets (ni au début ni à la fin)."
            )
        )
    if slug in RESERVED_SLUGS:
        raise TenantError(
            _("L'adresse « %(slug)s » est réservée. Merci d'en choisir une autre.", slug=slug)
        )
    if db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise TenantError(_("L'adresse « %(slug)s » est déjà utilisée.", slug=slug))
    return slug


def validate_host(host: str) -> str:
    normalised = normalise_host(host)
    if not HOST_RE.fullmatch(normalised):
        raise TenantError(_("« %(host)s » n'est pas un nom de domaine valide.", host=host))
    if db.session.scalar(sa.select(Domain.id).where(Domain.host == normalised)) is not None:
        raise TenantError(_("Le domaine « %(host)s » est déjà utilisé.", host=normalised))
    return normalised


def platform_subdomain(slug: str, platform_domain: str) -> str:
    return f"{slug}.{normalise_host(platform_domain)}"


def create_tenant(
    code: str,
    platform_domain: str,
    slug: str | None = None,
    custom_domain: str | None = None,
    kind: str | None = None,
) -> Tenant:
    """Create a tenant in ``provisioning`` state from its official code.

    The caller commits, then enqueues ``tenants.provisioning.provision_tenant``.
    """
    try:
        collectivite = official.lookup(code, kind=kind)
    except official.UnknownCollectivite as exc:
        raise TenantError(str(exc)) from exc
    existing = db.session.scalar(
        sa.select(Tenant).where(
            Tenant.kind == TenantKind(collectivite.kind), Tenant.code == collectivite.code
        )
    )
    if existing is not None:
        raise TenantError(
            _(
                "%(name)s dispose déjà d'un espace Pnyx (« %(slug)s »).",
                name=collectivite.name,
                slug=existing.slug,
            )
        )
    slug = validate_slug(slug or official.suggest_slug(collectivite))
    tenant = Tenant(
        slug=slug,
        name=collectivite.name,
        kind=TenantKind(collectivite.kind),
        code=collectivite.code,
        siren=collectivite.siren,
        population=collectivite.population,
        departement=collectivite.departement,
        region=collectivite.region,
        status=TenantStatus.PROVISIONING,
    )
    tenant.domains.append(Domain(host=platform_subdomain(slug, platform_domain), is_primary=True))
    if custom_domain:
        # A custom domain becomes the primary host: it is the one the city advertises.
        tenant.domains[0].is_primary = False
        tenant.domains.append(Domain(host=validate_host(custom_domain), is_primary=True))
    db.session.add(tenant)
    db.session.flush()
    return tenant


def get_tenant_by_slug(slug: str) -> Tenant:
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise TenantError(_("Aucun espace n'a l'adresse « %(slug)s ».", slug=slug))
    return tenant
