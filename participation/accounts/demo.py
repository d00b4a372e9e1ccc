"""Demo citizens in each demo collectivité (idempotent: existing accounts are kept)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa

from core import demo
from core.db import db
from participation.accounts import services
from participation.accounts.legal import insert_default_legal_documents
from participation.accounts.models import AgeBracket, Neighbourhood, User
from tenants.context import tenant_context

DEMO_PASSWORD = "Pnyx-demo-2026!"  # noqa: S105 - published demo password

DEMO_NEIGHBOURHOODS = {
    "mulhouse": ["Centre historique", "Rebberg", "Dornach", "Bourtzwiller", "Coteaux"],
    "saillans": ["Le Bourg", "Les Chapelains", "La Tour", "Rive gauche"],
    "angers": ["Centre-ville", "La Doutre", "Monplaisir", "Belle-Beille", "Justices"],
}

# (display name, age bracket or None, index of the neighbourhood or None)
DEMO_CITIZENS = {
    "mulhouse": [
        ("Camille Martin", AgeBracket.FROM_25, 0),
        ("Yasmine Benali", AgeBracket.FROM_40, 3),
        ("Lucas Weber", None, None),
        ("Mathilde Schmitt", AgeBracket.FROM_65, 1),
    ],
    "saillans": [
        ("Élise Roux", AgeBracket.FROM_55, 0),
        ("Thomas Faure", AgeBracket.FROM_25, 1),
        ("Nadia Chabert", None, None),
    ],
    "angers": [
        ("Camille Martin", AgeBracket.FROM_18, 1),
        ("Hugo Lemaire", AgeBracket.FROM_40, 2),
        ("Fatou Diallo", AgeBracket.FROM_25, 0),
        ("Jeanne Moreau", None, None),
    ],
}


def demo_email(display_name: str) -> str:
    """``Élise Roux`` -> ``elise.roux@example.fr``."""
    ascii_name = (
        unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode().lower()
    )
    return ".".join(ascii_name.split()) + "@example.fr"


def _tenant_ids() -> dict[str, int]:
    rows = db.session.execute(
        sa.text(
            "SELECT slug, id FROM public.tenants WHERE slug IN :slugs AND status = 'active'"
        ).bindparams(sa.bindparam("slugs", expanding=True)),
        {"slugs": list(DEMO_CITIZENS)},
    )
    ids = {slug: tenant_id for slug, tenant_id in rows}
    db.session.rollback()  # entering a tenant needs no open transaction
    return ids


def _neighbourhoods(slug: str) -> list[Neighbourhood]:
    existing = {n.name: n for n in db.session.scalars(sa.select(Neighbourhood))}
    for position, name in enumerate(DEMO_NEIGHBOURHOODS[slug]):
        if name not in existing:
            existing[name] = Neighbourhood(name=name, position=position)
            db.session.add(existing[name])
    db.session.flush()
    return [existing[name] for name in DEMO_NEIGHBOURHOODS[slug]]


def _seed_tenant(slug: str, tenant) -> tuple[int, int]:
    insert_default_legal_documents(db.session.connection(), tenant.name)
    places = _neighbourhoods(slug)
    created = 0
    for name, bracket, place in DEMO_CITIZENS[slug]:
        email = demo_email(name)
        if services.get_user_by_email(email) is not None:
            continue
        user = User(
            email=email,
            display_name=name,
            password_hash=None,
            email_confirmed_at=datetime.now(UTC),
            session_version=1,
        )
        db.session.add(user)
        services.set_password(user, DEMO_PASSWORD)
        services.accept_current_legal_documents(user)
        if bracket is not None:
            services.update_profile(
                user,
                display_name=name,
                demographics_consent=True,
                age_bracket=bracket,
                neighbourhood_id=places[place].id if place is not None else None,
            )
        created += 1
    db.session.commit()
    return created, len(DEMO_CITIZENS[slug])


@demo.register(order=30)
def seed_citizens():
    for slug, tenant_id in _tenant_ids().items():
        with tenant_context(tenant_id) as tenant:
            created, total = _seed_tenant(slug, tenant)
            first = demo_email(DEMO_CITIZENS[slug][0][0])
        yield (
            f"{tenant.name}: {total} habitant·es de démonstration ({created} créé·es), "
            f"par exemple {first} / {DEMO_PASSWORD}"
        )
