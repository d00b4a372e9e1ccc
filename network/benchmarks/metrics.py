"""The registry of benchmark metrics: one place for their names, definitions, units and
formulas. The definitions page, the comparison pages and the open-data files all read it."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

#: Below this many people (or items) a figure is not shown: « < 5 », null in exports.
SMALL_COUNT = 5

#: Share of each adult age bracket in the population of France, in %, used as the
#: reference of the representativeness index. No INSEE age pyramid per commune ships with
#: the repository, so every territory is compared with this national structure (rounded
#: shares, INSEE population estimates at 1 January 2024); the definitions page says so.
NATIONAL_ADULT_AGE_SHARES: dict[str, float] = {
    "18-24": 10.4,
    "25-39": 22.2,
    "40-54": 24.2,
    "55-64": 16.0,
    "65-79": 19.2,
    "80+": 8.0,
}
AGE_REFERENCE_SOURCE = _l(
    "Structure par âge approchée de la population adulte française (parts arrondies, d'après "
    "les estimations de population de l'INSEE au 1er janvier 2024) : une référence nationale "
    "indicative, faute de pyramide des âges par commune dans la plateforme."
)


@dataclass(frozen=True)
class Metric:
    key: str
    name: object  # lazy French string
    definition: object
    formula: object
    unit: object  # shown after the figure
    base: object  # what the small-count rule counts
    decimals: int = 0
    #: Tables (beyond proposals, supports, comments, arguments) the metric needs.
    needs: tuple[str, ...] = ()

    def format(self, value: float | None) -> str:
        if value is None:
            return "—"
        text = f"{value:,.{self.decimals}f}".replace(",", "\u202f").replace(".", ",")
        return text


METRICS: tuple[Metric, ...] = (
    Metric(
        "participants",
        _l("Participants"),
        _l(
            "Nombre de personnes inscrites, hors équipe de la collectivité, qui ont contribué "
            "au moins une fois sur la période : proposition, soutien, commentaire, argument "
            "de débat, réponse à une enquête ou vote à un budget participatif, quand la "
            "personne est identifiée (les réponses anonymes et les votes papier ne sont pas "
            "rattachés à un compte)."
        ),
        _l("nombre de comptes distincts ayant au moins une action sur la période"),
        _l("personnes"),
        _l("participants"),
    ),
    Metric(
        "contributions",
        _l("Contributions"),
        _l(
            "Nombre de propositions, commentaires, arguments et réponses à des enquêtes "
            "déposés sur la période (hors contenus masqués par la modération ou supprimés). "
            "Les soutiens et les votes ne sont pas des contributions."
        ),
        _l("propositions + commentaires + arguments + réponses aux enquêtes"),
        _l("contributions"),
        _l("personnes ayant contribué"),
    ),
    Metric(
        "participants_per_1000",
        _l("Participants pour 1 000 habitants"),
        _l(
            "Nombre de participants rapporté à la population légale de la collectivité "
            "(population municipale INSEE enregistrée pour l'espace)."
        ),
        _l("participants ÷ population × 1 000"),
        _l("‰"),
        _l("participants"),
        decimals=2,
    ),
    Metric(
        "answered_share",
        _l("Part des propositions avec une réponse officielle"),
        _l(
            "Parmi les propositions déposées sur la période (ni retirées ni masquées), part "
            "de celles qui ont reçu une réponse officielle publiée de la collectivité."
        ),
        _l("propositions avec réponse ÷ propositions déposées × 100"),
        _l("%"),
        _l("propositions"),
        decimals=1,
    ),
    Metric(
        "median_days_to_answer",
        _l("Délai médian de réponse"),
        _l(
            "Pour les propositions ayant reçu leur réponse officielle sur la période, délai "
            "médian entre le dépôt et la réponse, en jours."
        ),
        _l("médiane de (date de réponse − date de dépôt), en jours"),
        _l("jours"),
        _l("propositions ayant reçu une réponse"),
        decimals=1,
    ),
    Metric(
        "retained_share",
        _l("Part des propositions retenues"),
        _l(
            "Parmi les propositions déposées sur la période (ni retirées ni masquées), part "
            "de celles dont le statut est « Retenue » ou « Réalisée »."
        ),
        _l("propositions retenues ou réalisées ÷ propositions déposées × 100"),
        _l("%"),
        _l("propositions"),
        decimals=1,
    ),
    Metric(
        "realised_share",
        _l("Part des propositions retenues qui sont réalisées"),
        _l(
            "Parmi les propositions déposées sur la période et retenues (« Retenue » ou "
            "« Réalisée »), part de celles qui sont réalisées."
        ),
        _l("propositions réalisées ÷ propositions retenues ou réalisées × 100"),
        _l("%"),
        _l("propositions retenues"),
        decimals=1,
    ),
    Metric(
        "budget_turnout",
        _l("Participation au budget participatif"),
        _l(
            "Votants enregistrés sur la période (en ligne et sur papier) rapportés à la "
            "population admise à voter des budgets concernés, telle que la collectivité l'a "
            "déclarée dans le budget participatif."
        ),
        _l("votants ÷ population admise à voter × 100"),
        _l("%"),
        _l("votants"),
        decimals=2,
        needs=("budgets",),  # and budget_voters or budget_ballots (compute.py checks)
    ),
    Metric(
        "survey_responses",
        _l("Réponses aux enquêtes"),
        _l("Nombre de questionnaires d'enquête envoyés sur la période."),
        _l("nombre de réponses envoyées"),
        _l("réponses"),
        _l("réponses"),
        needs=("survey_responses",),
    ),
    Metric(
        "representativeness",
        _l("Représentativité par âge"),
        _l(
            "Ressemblance entre la structure par âge des participants adultes qui ont accepté "
            "d'indiquer leur tranche d'âge dans leur profil et celle de la population de "
            "référence : 100 = même répartition, 0 = aucune tranche en commun. Les mineurs "
            "ne sont pas comptés."
        ),
        _l(
            "100 − ½ × Σ |part des participants de la tranche − part de la population de la "
            "tranche| (indice de dissimilarité de Duncan), sur les tranches 18-24, 25-39, "
            "40-54, 55-64, 65-79 et 80 ans et plus"
        ),
        _l("sur 100"),
        _l("participants ayant indiqué leur âge"),
        decimals=1,
    ),
)

METRICS_BY_KEY: dict[str, Metric] = {metric.key: metric for metric in METRICS}
METRIC_KEYS: tuple[str, ...] = tuple(METRICS_BY_KEY)


def get_metric(key: str) -> Metric | None:
    return METRICS_BY_KEY.get(key)


def representativeness_index(counts: dict[str, int]) -> float | None:
    """Duncan's dissimilarity between participants' adult brackets and the reference,
    as a 0–100 likeness (100 = same structure). None without any adult participant."""
    total = sum(counts.get(bracket, 0) for bracket in NATIONAL_ADULT_AGE_SHARES)
    if total == 0:
        return None
    gap = sum(
        abs(100.0 * counts.get(bracket, 0) / total - share)
        for bracket, share in NATIONAL_ADULT_AGE_SHARES.items()
    )
    return round(100.0 - gap / 2.0, 4)


# -------------------------------------------------------------------------- peers

#: Population strata: (key, label, lowest, highest) — both bounds included.
STRATA: tuple[tuple[str, object, int, int | None], ...] = (
    ("lt3500", _l("moins de 3 500 habitants"), 0, 3_499),
    ("3500-20000", _l("de 3 500 à 20 000 habitants"), 3_500, 20_000),
    ("20000-100000", _l("de 20 001 à 100 000 habitants"), 20_001, 100_000),
    ("gt100000", _l("plus de 100 000 habitants"), 100_001, None),
)
STRATUM_LABELS = {key: label for key, label, _low, _high in STRATA}


def population_stratum(population: int | None) -> str:
    """The stratum key of a population: 3 499 → lt3500, 3 500 and 20 000 → 3500-20000,
    20 001 and 100 000 → 20000-100000, 100 001 → gt100000."""
    population = max(int(population or 0), 0)
    for key, _label, low, high in STRATA:
        if population >= low and (high is None or population <= high):
            return key
    raise AssertionError("unreachable: the strata cover every population")  # pragma: no cover
