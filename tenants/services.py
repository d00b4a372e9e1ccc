"""Creating tenants and changing their state. Services add and flush; callers commit."""

from __future__ import annotations

import ipaddress
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


# --------------------------------------------------------------------------- slug variants
#
# A self-service sign-up picks its subdomain among variants of the collectivité's official
# name, so no one can open "mairie-de-paris" for a commune of the Creuse or a misleading
# "officiel-mulhouse". The rule (docs/features/verification.md): from the folded name
# ("Saint-Étienne" -> "saint-etienne"), its forms are the name itself, the name with
# "saint(e)" shortened to "st"/"ste", and the name without a leading article; each form is
# allowed as is, without hyphens, with the prefix of its kind ("ville-", "mairie-" for a
# commune, "departement-" for a département, "region-" for a région) and followed by its
# département code (homonyms: "saint-denis-93"); an intercommunality may also use the
# initials of its name ("ca-mulhouse-alsace-agglomeration" -> "cmaa") and its name without
# its legal form ("mulhouse-alsace-agglomeration"); and a commune or an intercommunality may
# use its name followed by its official code ("saint-denis-93066"), which no other
# collectivité can claim. Reserved names and names over 40 characters are left out.

_ABBREVIATIONS = {"saint": "st", "sainte": "ste", "saints": "sts", "saintes": "stes"}
_ARTICLES = frozenset({"le", "la", "les", "l"})
_SMALL_WORDS = frozenset(
    {"de", "du", "des", "d", "la", "le", "les", "l", "et", "en", "sur", "sous", "a", "au", "aux"}
)
# "CA Mulhouse Alsace Agglomération" may drop its legal form: "mulhouse-alsace-agglomeration".
_EPCI_TYPE_PREFIXES = (
    "communaute-de-communes",
    "communaute-d-agglomeration",
    "communaute-urbaine",
    "metropole",
    "ca",
    "cc",
    "cu",
)
_KIND_PREFIXES = {
    "commune": ("ville", "mairie"),
    "epci": (),
    "departement": ("departement",),
    "region": ("region",),
}


def _fold_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", official._fold(text)).strip("-")


def slug_variants(collectivite: official.Collectivite) -> list[str]:
    """Every subdomain a self-service sign-up of ``collectivite`` may choose, best first."""
    base = _fold_slug(collectivite.name)
    words = base.split("-") if base else []
    forms = [base]
    shortened = "-".join(_ABBREVIATIONS.get(word, word) for word in words)
    forms.append(shortened)
    if len(words) > 1 and words[0] in _ARTICLES:
        forms.append("-".join(words[1:]))
    if collectivite.kind == "epci":
        for prefix in _EPCI_TYPE_PREFIXES:
            if base.startswith(prefix + "-"):
                forms.append(base[len(prefix) + 1 :])
                break
    candidates = [official.suggest_slug(collectivite)]
    code_suffix = (collectivite.departement or "").lower()
    for form in forms:
        candidates.append(form)
        candidates.append(form.replace("-", ""))
        candidates.extend(f"{prefix}-{form}" for prefix in _KIND_PREFIXES[collectivite.kind])
        if code_suffix and collectivite.kind in ("commune", "epci"):
            candidates.append(f"{form}-{code_suffix}")
    if collectivite.kind == "epci":
        initials = "".join(word[0] for word in words if word not in _SMALL_WORDS)
        if len(initials) >= 2:
            candidates.append(initials)
    if collectivite.kind == "departement":
        candidates.append(f"cd{collectivite.code.lower()}")
    if collectivite.kind in ("commune", "epci"):
        # The official code is the collectivité's own: the way out when homonyms took the rest.
        room = 39 - len(collectivite.code)
        stem = base if len(base) <= room else base[: room + 1].rsplit("-", 1)[0]
        candidates.append(f"{stem}-{collectivite.code.lower()}")
    variants: list[str] = []
    for candidate in candidates:
        if (
            candidate
            and SLUG_RE.fullmatch(candidate)
            and "--" not in candidate
            and candidate not in RESERVED_SLUGS
            and candidate not in variants
        ):
            variants.append(candidate)
    return variants


def taken_slugs(slugs: list[str]) -> set[str]:
    if not slugs:
        return set()
    return set(db.session.scalars(sa.select(Tenant.slug).where(Tenant.slug.in_(slugs))))


def validate_variant_slug(collectivite: official.Collectivite, slug: str) -> str:
    """``validate_slug`` for a self-service sign-up: the slug must be a variant of the
    collectivité's official name (see the rule above)."""
    normalised = (slug or "").strip().lower()
    variants = slug_variants(collectivite)
    if normalised not in variants:
        if normalised in RESERVED_SLUGS:
            validate_slug(normalised)  # says it is reserved
        raise TenantError(
            _(
                "L'adresse doit reprendre le nom de %(name)s. Adresses possibles : %(list)s.",
                name=collectivite.name,
                list=", ".join(variants[:8]),
            )
        )
    return validate_slug(normalised)


def validate_host(host: str, platform_domain: str | None = None) -> str:
    """A custom domain for a tenant: a real host name, no port, no IP address, never the
    platform's own domain or one of its subdomains (those belong to the platform and to the
    other tenants: a tenant's own subdomain is given to it anyway)."""
    raw = (host or "").strip()
    if ":" in raw or "/" in raw or "@" in raw:
        # Ports, URLs, IPv6 literals: normalise_host would silently drop a port.
        raise TenantError(
            _(
                "« %(host)s » n'est pas un nom de domaine valide : indiquez le nom seul, "
                "sans « http:// », sans port ni chemin (par exemple participez.ville.fr).",
                host=raw,
            )
        )
    normalised = normalise_host(raw)
    if not HOST_RE.fullmatch(normalised):
        raise TenantError(_("« %(host)s » n'est pas un nom de domaine valide.", host=host))
    if _is_ip_address(normalised) or normalised.rsplit(".", 1)[-1].isdigit():
        # No top-level domain is numeric: "127.0.0.1", "10.1" are addresses, not names.
        raise TenantError(
            _(
                "« %(host)s » est une adresse IP : indiquez un nom de domaine.",
                host=normalised,
            )
        )
    platform = normalise_host(platform_domain) if platform_domain else None
    if platform and (normalised == platform or normalised.endswith("." + platform)):
        raise TenantError(
            _(
                "« %(host)s » appartient au domaine de la plateforme (%(platform)s) : "
                "un domaine personnalisé est un domaine de la collectivité.",
                host=normalised,
                platform=platform,
            )
        )
    if db.session.scalar(sa.select(Domain.id).where(Domain.host == normalised)) is not None:
        raise TenantError(_("Le domaine « %(host)s » est déjà utilisé.", host=normalised))
    return normalised


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def platform_subdomain(slug: str, platform_domain: str) -> str:
    return f"{slug}.{normalise_host(platform_domain)}"


def create_tenant(
    code: str,
    platform_domain: str,
    slug: str | None = None,
    custom_domain: str | None = None,
    kind: str | None = None,
    verification_required: bool = False,
) -> Tenant:
    """Create a tenant in ``provisioning`` state from its official code.

    With ``verification_required`` (self-service sign-ups), provisioning ends in
    ``pending_verification`` instead of ``active``.

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
        verification_required=verification_required,
    )
    tenant.domains.append(Domain(host=platform_subdomain(slug, platform_domain), is_primary=True))
    if custom_domain:
        # A custom domain becomes the primary host: it is the one the city advertises.
        tenant.domains[0].is_primary = False
        host = validate_host(custom_domain, platform_domain)
        tenant.domains.append(Domain(host=host, is_primary=True))
    db.session.add(tenant)
    db.session.flush()
    return tenant


def get_tenant_by_slug(slug: str) -> Tenant:
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise TenantError(_("Aucun espace n'a l'adresse « %(slug)s ».", slug=slug))
    return tenant
