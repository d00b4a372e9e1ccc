"""Reports of local problems (signalements) in the API: the public ones, their status and
public timeline. A reporter who asked for anonymity is "Participant·e anonyme"."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core.errors import abort_with
from participation.api import cursor
from participation.api import schemas as s
from participation.api.registry import Param, api_get, schema
from participation.api.views import CURSOR, ID_DOC, LIMIT, bp, iso, labelled
from participation.problems import services
from participation.problems.models import ProblemEventKind, ProblemReport, ProblemStatus

STATUSES = [status.value for status in ProblemStatus]
PUBLIC_EVENT_KINDS = (ProblemEventKind.CREATED, ProblemEventKind.STATUS)

PROBLEM_FIELDS = {
    "id": s.INTEGER,
    "category": s.LABELLED,
    "description": {"type": "string", "description": "Texte brut."},
    "address": s.nullable(s.STRING),
    "latitude": s.nullable({"type": "number"}),
    "longitude": s.nullable({"type": "number"}),
    "status": {"type": "string", "enum": STATUSES},
    "status_label": s.STRING,
    "status_reason": s.nullable(s.STRING),
    "reporter": s.AUTHOR,
    "created_at": s.DATETIME,
    "resolved_at": s.nullable(s.DATETIME),
    "url": s.URL,
}
PROBLEM = schema("Problem", s.obj(PROBLEM_FIELDS))
PROBLEM_DETAIL = schema(
    "ProblemDetail",
    s.obj(
        {
            **PROBLEM_FIELDS,
            "timeline": {
                "type": "array",
                "items": s.obj(
                    {
                        "kind": {"type": "string", "enum": ["created", "status"]},
                        "from_status": s.nullable(s.STRING),
                        "to_status": s.nullable(s.STRING),
                        "body": s.nullable(s.STRING),
                        "created_at": s.DATETIME,
                    }
                ),
            },
        }
    ),
)
PROBLEM_PAGE = schema("ProblemPage", s.page_of(PROBLEM, "Une page de signalements."))


def problem_json(report: ProblemReport) -> dict:
    reporter = report.reporter
    return {
        "id": report.id,
        "category": labelled(report.category),
        "description": report.description,
        "address": report.address or None,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "status": report.status.value,
        "status_label": services.status_label(report.status),
        "status_reason": (
            report.status_reason if report.status == ProblemStatus.REJECTED else None
        ),
        "reporter": {
            "name": services.public_name(report),
            "staff": bool(not report.is_anonymous and reporter is not None and reporter.is_staff),
        },
        "created_at": iso(report.created_at),
        "resolved_at": iso(report.resolved_at),
        "url": url_for("problems.show", report_id=report.id, _external=True),
    }


@api_get(
    bp,
    "/problems",
    operation_id="listProblems",
    summary="Signalements de problèmes dans l'espace public",
    tag="Signalements",
    response=PROBLEM_PAGE,
    params=(
        Param("status", "enum", "Statut du signalement.", choices=tuple(STATUSES)),
        Param("category", "integer", "Identifiant d'une catégorie."),
        LIMIT,
        CURSOR,
    ),
    description="Les plus récents d'abord ; les signalements masqués n'y figurent pas.",
)
def list_problems(params: dict[str, Any]):
    query = (
        sa.select(ProblemReport)
        .where(services._public_clause())
        .options(joinedload(ProblemReport.category), joinedload(ProblemReport.reporter))
    )
    if params["status"]:
        query = query.where(ProblemReport.status == ProblemStatus(params["status"]))
    if params["category"]:
        query = query.where(ProblemReport.category_id == params["category"])
    result = cursor.by_id("problems", query, ProblemReport.id, params)
    result["items"] = [problem_json(r) for r in result["items"]]
    return jsonify(result)


@api_get(
    bp,
    "/problems/<int:report_id>",
    operation_id="getProblem",
    summary="Un signalement et son suivi public",
    tag="Signalements",
    response=PROBLEM_DETAIL,
    path_params={"report_id": ID_DOC},
)
def get_problem(params: dict[str, Any], report_id: int):
    report = services.get_report(report_id)
    if report is None or not services.is_public(report):
        abort_with(404, _("Ce signalement n'existe pas."))
    data = problem_json(report)
    data["timeline"] = [
        {
            "kind": event.kind.value,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "body": event.body,
            "created_at": iso(event.created_at),
        }
        for event in services.public_events(report)
        if event.kind in PUBLIC_EVENT_KINDS
    ]
    return jsonify(data)
