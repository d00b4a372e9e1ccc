"""Demo of the verification of sign-ups: official domains, a pending request with its
proof, a dispute (French content; registered with ``flask demo seed``)."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import current_app

from core import demo
from core.db import db
from tenants.models import Tenant
from tenants.verification import (
    PROOF_FOLDER,
    OfficialEmailDomain,
    ProofKind,
    TenantDispute,
    VerificationProof,
)

# Hand-seeded: no copy of Service-Public.fr's annuaire de l'administration is available
# from this machine's package registries (docs/features/verification.md).
DEMO_DOMAINS = [
    ("commune", "68224", "mulhouse.fr"),
    ("commune", "68224", "mulhouse-alsace.fr"),
    ("epci", "200066009", "mulhouse-alsace.fr"),
    ("commune", "49007", "angers.fr"),
    ("commune", "68066", "colmar.fr"),
]
PENDING_CODE, PENDING_SLUG = "68066", "colmar"  # Colmar asks, with a purchase order


def _proof_image() -> bytes:
    """A scanned-looking purchase order (a PNG drawn here: no real document ships)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (620, 420), "white")
    draw = ImageDraw.Draw(image)
    lines = [
        "VILLE DE COLMAR — Direction de la démocratie locale",
        "",
        "BON DE COMMANDE n° 2026-0412",
        "Objet : abonnement à la plateforme de participation Pnyx",
        "Offre : communes de 50 000 à 100 000 habitants, 12 mois",
        "",
        "Fait à Colmar, le 2 décembre 2026",
        "Pour le maire et par délégation,",
        "la directrice générale des services",
        "[signature]",
    ]
    for index, line in enumerate(lines):
        draw.text((30, 30 + 34 * index), line, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@demo.register(order=25)
def seed_verification():
    from billing.verification.requests import create_request
    from core.uploads import store_document
    from tenants import invalidate_host_cache
    from tenants.provisioning import provision_now
    from tenants.services import create_tenant

    for kind, code, domain in DEMO_DOMAINS:
        exists = db.session.scalar(
            sa.select(OfficialEmailDomain.id).where(
                OfficialEmailDomain.kind == kind,
                OfficialEmailDomain.code == code,
                OfficialEmailDomain.domain == domain,
            )
        )
        if exists is None:
            db.session.add(OfficialEmailDomain(kind=kind, code=code, domain=domain, source="demo"))
    db.session.commit()
    yield f"Official e-mail domains: {len(DEMO_DOMAINS)} (mulhouse.fr, angers.fr…)"

    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == PENDING_SLUG))
    if tenant is None:
        tenant = create_tenant(
            PENDING_CODE,
            current_app.config["PLATFORM_DOMAIN"],
            slug=PENDING_SLUG,
            verification_required=True,
        )
        request = create_request(
            tenant,
            name="Claire Dubois",
            role="Chargée de mission démocratie participative",
            phone="03 89 20 68 68",
            email="claire.dubois@gmail.com",
        )
        image = _proof_image()
        db.session.add(
            VerificationProof(
                request_id=request.id,
                kind=ProofKind.PURCHASE_ORDER,
                stored_name=store_document(image, "png", folder=PROOF_FOLDER),
                content_type="image/png",
                size=len(image),
            )
        )
        db.session.commit()
        provision_now(db.engine, tenant.id)
        invalidate_host_cache()
    yield "Pending verification: Colmar (Claire Dubois, purchase order) in /operateur/verifications"

    saillans = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "saillans"))
    if saillans is not None and not db.session.scalar(
        sa.select(TenantDispute.id).where(TenantDispute.tenant_id == saillans.id)
    ):
        db.session.add(
            TenantDispute(
                tenant_id=saillans.id,
                kind=saillans.kind.value,
                code=saillans.code,
                collectivite_name=saillans.name,
                claimant_name="Agnès Morel",
                claimant_role="Secrétaire générale de mairie",
                claimant_email="secretariat.mairie.saillans@orange.fr",
                claimant_phone="04 75 21 51 60",
                message=(
                    "Bonjour,\nla mairie de Saillans n'a jamais demandé l'ouverture de cet "
                    "espace : personne à la mairie ne connaît l'adresse qui l'administre. "
                    "Le maire peut vous confirmer notre demande par téléphone.\n"
                    "Cordialement,\nAgnès Morel"
                ),
            )
        )
        db.session.commit()
    yield "Dispute: Saillans (Agnès Morel) in /operateur/verifications"
