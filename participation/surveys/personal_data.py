"""What consultations hold about a person (registered in the tenant registry)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import registry
from participation.surveys import services
from participation.surveys.models import SurveyResponse

RESULTS = _l("Durée de la consultation et de ses résultats publiés.")


def erase(user: Any) -> None:
    # Identified answers become anonymous answers: the results do not change.
    db.session.execute(
        sa.update(SurveyResponse).where(SurveyResponse.user_id == user.id).values(user_id=None)
    )


registry.register(
    PersonalData(
        name="surveys",
        export=services.rgpd_section,
        erase=erase,
        tables=(
            PersonalTable(
                "survey_responses",
                ("user_id",),
                Erasure.ANONYMISE,
                retention=RESULTS,
                reason=_l("Les réponses restent dans les résultats, sans lien avec le compte."),
            ),
            PersonalTable(
                "survey_answers",
                ("text_value",),
                Erasure.ANONYMISE,
                retention=RESULTS,
                reason=_l("Réponses détachées du compte avec leur réponse (ci-dessus)."),
            ),
            PersonalTable(
                "survey_participations",
                ("user_id",),
                Erasure.KEEP,
                retention=RESULTS,
                reason=_l(
                    "Empêche de répondre deux fois à une consultation anonyme ; ne contient "
                    "aucune réponse."
                ),
            ),
            PersonalTable(
                "surveys",
                ("created_by_id", "title", "summary", "description"),
                Erasure.KEEP,
                retention=RESULTS,
                reason=_l("Consultation publiée par la collectivité ; l'agent devient anonyme."),
            ),
        ),
    )
)
