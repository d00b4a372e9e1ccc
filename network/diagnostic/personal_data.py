"""Self-diagnostic answers in the platform registry: a collectivité's answers, kept."""

from flask_babel import lazy_gettext as _l

from core.personal_data import Erasure, PersonalData, PersonalTable, platform_registry, rows_of


def _export(user):
    rows = rows_of(
        "network_diagnostic_responses", ("submitted_by_id",), ("network_id", "year", "comment")
    )(user)
    return ("autodiagnostic.json", rows) if rows else None


platform_registry.register(
    PersonalData(
        name="network_diagnostic",
        export=_export,
        tables=(
            PersonalTable(
                "network_diagnostic_responses",
                ("submitted_by_id", "comment"),
                Erasure.KEEP,
                retention=_l("Tant que le réseau existe."),
                reason=_l("Autodiagnostic de la collectivité ; l'agent devient anonyme."),
            ),
        ),
    )
)
