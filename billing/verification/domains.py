"""Official e-mail domains of the collectivités (``mulhouse.fr``): an address there proves
that its owner works for the collectivité, and approves its sign-up at once."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from billing.verification.common import VerificationError
from core.db import db
from tenants import official
from tenants.platform.services import record_platform_action
from tenants.verification import OfficialEmailDomain

#: Anyone can open an address there: never an official domain, whatever the operator types.
WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.fr",
        "hotmail.com",
        "hotmail.fr",
        "live.fr",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.fr",
        "icloud.com",
        "me.com",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "neuf.fr",
        "laposte.net",
        "bbox.fr",
        "aol.com",
        "gmx.fr",
        "gmx.com",
        "protonmail.com",
        "proton.me",
    }
)
_DOMAIN_RE = re.compile(
    r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def normalise_domain(domain: str | None) -> str:
    value = (domain or "").strip().lower().lstrip("@").rstrip(".")
    if not _DOMAIN_RE.fullmatch(value):
        raise VerificationError(
            _("« %(domain)s » n'est pas un nom de domaine valide.", domain=domain)
        )
    if value in WEBMAIL_DOMAINS:
        raise VerificationError(
            _(
                "« %(domain)s » est une messagerie ouverte à tous : elle ne prouve pas "
                "l'appartenance à une collectivité.",
                domain=value,
            )
        )
    return value


def official_domains(kind: str, code: str) -> list[OfficialEmailDomain]:
    return list(
        db.session.scalars(
            sa.select(OfficialEmailDomain)
            .where(OfficialEmailDomain.kind == kind, OfficialEmailDomain.code == code)
            .order_by(OfficialEmailDomain.domain)
        )
    )


def all_official_domains() -> list[OfficialEmailDomain]:
    return list(
        db.session.scalars(
            sa.select(OfficialEmailDomain).order_by(
                OfficialEmailDomain.kind, OfficialEmailDomain.code, OfficialEmailDomain.domain
            )
        )
    )


def add_official_domain(
    kind: str, code: str, domain: str, actor_id: int | None, source: str = "operator"
) -> OfficialEmailDomain:
    try:
        collectivite = official.lookup(code, kind=kind)
    except (official.UnknownCollectivite, ValueError) as error:
        raise VerificationError(str(error)) from error
    value = normalise_domain(domain)
    if any(d.domain == value for d in official_domains(collectivite.kind, collectivite.code)):
        raise VerificationError(
            _(
                "« %(domain)s » est déjà dans la liste de %(name)s.",
                domain=value,
                name=collectivite.name,
            )
        )
    row = OfficialEmailDomain(
        kind=collectivite.kind,
        code=collectivite.code,
        domain=value,
        source=source,
        created_by=actor_id,
    )
    db.session.add(row)
    db.session.flush()
    record_platform_action(
        "verification.domain_added",
        actor_id,
        "collectivite",
        f"{collectivite.kind}:{collectivite.code}",
        domain=value,
        source=source,
    )
    return row


def remove_official_domain(row: OfficialEmailDomain, actor_id: int | None) -> None:
    record_platform_action(
        "verification.domain_removed",
        actor_id,
        "collectivite",
        f"{row.kind}:{row.code}",
        domain=row.domain,
    )
    db.session.delete(row)
    db.session.flush()


def is_official_address(kind: str, code: str, email: str | None) -> bool:
    """``agent@mulhouse.fr`` or ``agent@services.mulhouse.fr`` for a list holding
    ``mulhouse.fr``."""
    domain = (email or "").strip().lower().rpartition("@")[2]
    if not domain:
        return False
    return any(
        domain == row.domain or domain.endswith("." + row.domain)
        for row in official_domains(kind, code)
    )
