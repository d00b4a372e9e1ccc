"""Practice-library entries in the platform registry: kept, signed by the anonymised
account."""

from flask_babel import lazy_gettext as _l

from core.personal_data import (
    Erasure,
    PersonalData,
    PersonalTable,
    combined,
    platform_registry,
    rows_of,
)

REASON = _l("Pratique partagée par une collectivité : reste, signée « Compte supprimé ».")
RETENTION = _l("Tant que le réseau existe.")

platform_registry.register(
    PersonalData(
        name="network_library",
        export=combined(
            "bibliotheque_de_pratiques.json",
            pratiques=rows_of(
                "network_practices",
                ("author_id",),
                ("id", "title", "summary", "body", "lessons", "created_at"),
            ),
            commentaires=rows_of(
                "network_practice_comments", ("author_id",), ("practice_id", "body", "created_at")
            ),
            pieces_jointes=rows_of(
                "network_practice_attachments", ("uploaded_by_id",), ("practice_id", "filename")
            ),
            reprises=rows_of(
                "network_practice_adoptions", ("requested_by_id",), ("practice_id", "created_at")
            ),
        ),
        tables=(
            PersonalTable(
                "network_practices",
                (
                    "author_id",
                    "author_tenant_id",
                    "title",
                    "summary",
                    "body",
                    "lessons",
                    "tags_text",
                ),
                Erasure.KEEP,
                retention=RETENTION,
                reason=REASON,
            ),
            PersonalTable(
                "network_practice_comments",
                ("author_id", "author_tenant_id", "body"),
                Erasure.KEEP,
                retention=RETENTION,
                reason=REASON,
            ),
            PersonalTable(
                "network_practice_attachments",
                ("uploaded_by_id", "filename", "stored_name"),
                Erasure.KEEP,
                retention=RETENTION,
                reason=REASON,
            ),
            PersonalTable(
                "network_practice_adoptions",
                ("requested_by_id",),
                Erasure.KEEP,
                retention=RETENTION,
                reason=_l("Copie d'un modèle dans l'espace d'une collectivité."),
            ),
        ),
    )
)
