"""Verification requests and disputes in the platform registry: the requester's name,
role, phone and e-mail are exported and erased by the address of the platform account
(and anonymised VERIFICATION_RETENTION_DAYS after the decision in any case)."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable, platform_registry


def _export(user):
    from tenants.verification_retention import personal_data_for

    rows = personal_data_for(user.email) if user.email else []
    return ("verification_des_collectivites.json", rows) if rows else None


def _erase(user):
    from tenants.verification import TenantDispute, VerificationRequest
    from tenants.verification_retention import erase_personal_data

    if not user.email:
        return
    email = user.email.lower()
    for model, column in (
        (VerificationRequest, VerificationRequest.requester_email),
        (TenantDispute, TenantDispute.claimant_email),
    ):
        for row in db.session.scalars(sa.select(model).where(sa.func.lower(column) == email)):
            erase_personal_data(row)


RETENTION = _l("Jusqu'à la décision, puis VERIFICATION_RETENTION_DAYS (un an par défaut).")

platform_registry.register(
    PersonalData(
        name="tenant_verification",
        export=_export,
        erase=_erase,
        order=10,  # before the account's address is cleared
        tables=(
            PersonalTable(
                "tenant_verification_requests",
                (
                    "requester_name",
                    "requester_role",
                    "requester_phone",
                    "requester_email",
                    "decided_by",
                    "decision_reason",
                ),
                Erasure.ANONYMISE,
                retention=RETENTION,
                reason=_l("La décision reste (qui a obtenu l'espace), pas la personne."),
            ),
            PersonalTable(
                "tenant_disputes",
                (
                    "claimant_name",
                    "claimant_role",
                    "claimant_phone",
                    "claimant_email",
                    "message",
                    "decided_by",
                    "decision_note",
                ),
                Erasure.ANONYMISE,
                retention=RETENTION,
                reason=_l("La décision reste, pas la personne."),
            ),
            PersonalTable(
                "tenant_verification_proofs",
                ("stored_name",),
                Erasure.DELETE,
                retention=RETENTION,
            ),
        ),
    )
)
