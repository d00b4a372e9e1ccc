"""Forum posts in the platform registry: kept, signed by the anonymised account."""

from flask_babel import lazy_gettext as _l

from core.personal_data import (
    Erasure,
    PersonalData,
    PersonalTable,
    combined,
    platform_registry,
    rows_of,
)

REASON = _l("Échange entre collectivités du réseau : reste, signé « Compte supprimé ».")
RETENTION = _l("Tant que le réseau existe.")

platform_registry.register(
    PersonalData(
        name="network_forum",
        export=combined(
            "forum.json",
            questions=rows_of(
                "network_forum_questions", ("author_id",), ("id", "title", "body", "created_at")
            ),
            reponses=rows_of(
                "network_forum_answers", ("author_id",), ("question_id", "body", "created_at")
            ),
        ),
        tables=(
            PersonalTable(
                "network_forum_questions",
                ("author_id", "author_tenant_id", "title", "body"),
                Erasure.KEEP,
                retention=RETENTION,
                reason=REASON,
            ),
            PersonalTable(
                "network_forum_answers",
                ("author_id", "author_tenant_id", "body"),
                Erasure.KEEP,
                retention=RETENTION,
                reason=REASON,
            ),
        ),
    )
)
