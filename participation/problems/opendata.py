"""The open-data dataset of the reports of local problems: ``signalements.csv``, the public
ones (``participation.problems.visibility``), never who reported them."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from core.db import db
from participation.opendata import services as opendata
from participation.opendata.services import ID, Dataset, Field
from participation.problems import visibility
from participation.problems.models import ProblemReport, ProblemStatus

PROBLEM_FIELDS = (
    ID,
    Field("categorie", "texte", "Catégorie."),
    Field("description", "texte", "Description du problème."),
    Field("adresse", "texte", "Adresse indiquée."),
    Field("latitude", "décimal", "Latitude WGS 84."),
    Field("longitude", "décimal", "Longitude WGS 84."),
    Field("statut", "texte", "new, acknowledged, in_progress, resolved ou rejected."),
    Field("motif", "texte", "Motif d'un signalement rejeté."),
    Field("cree_le", "date-heure", "Date du signalement."),
    Field("resolu_le", "date-heure", "Date de résolution."),
    Field("url", "url", "Page du signalement."),
)


def problem_rows():
    reports = db.session.scalars(
        visibility.visible_reports()
        .options(joinedload(ProblemReport.category))
        .order_by(ProblemReport.id)
        .execution_options(yield_per=1000)
    )
    for report in reports:
        yield (
            report.id,
            report.category.name,
            report.description,
            report.address or "",
            "" if report.latitude is None else report.latitude,
            "" if report.longitude is None else report.longitude,
            report.status.value,
            report.status_reason if report.status == ProblemStatus.REJECTED else "",
            opendata.iso(report.created_at),
            opendata.iso(report.resolved_at),
            opendata.page_url("problems.show", report_id=report.id),
        )


opendata.register_dataset(
    Dataset(
        "signalements.csv",
        "Signalements de problèmes dans l'espace public",
        PROBLEM_FIELDS,
        problem_rows,
    )
)
