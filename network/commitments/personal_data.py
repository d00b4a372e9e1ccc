"""Network commitments in the platform registry: acts of a collectivité, kept."""

from flask_babel import lazy_gettext as _l

from core.personal_data import (
    Erasure,
    PersonalData,
    PersonalTable,
    combined,
    platform_registry,
    rows_of,
)

RETENTION = _l("Tant que le réseau existe.")

platform_registry.register(
    PersonalData(
        name="network_commitments",
        export=combined(
            "engagements.json",
            engagements=rows_of(
                "network_commitments", ("created_by_id", "updated_by_id"), ("id", "title")
            ),
            commentaires=rows_of(
                "network_commitment_comments",
                ("author_id",),
                ("commitment_id", "author_role", "body", "created_at"),
            ),
        ),
        tables=(
            PersonalTable(
                "network_commitments",
                ("created_by_id", "updated_by_id"),
                Erasure.KEEP,
                retention=RETENTION,
                reason=_l("Engagement public d'une collectivité ; l'agent devient anonyme."),
            ),
            PersonalTable(
                "network_commitment_comments",
                ("author_id", "author_role", "body"),
                Erasure.KEEP,
                retention=RETENTION,
                reason=_l("Suivi d'un engagement par la coordination du réseau."),
            ),
        ),
    )
)
