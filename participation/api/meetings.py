"""Public meetings in the API: published meetings, their places and their minutes once
published. Registrations are personal: only their counts are served."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask_babel import gettext as _

from core import clock
from core.errors import abort_with
from participation.api import cursor
from participation.api import schemas as s
from participation.api.registry import Param, api_get, schema
from participation.api.views import CURSOR, ID_DOC, LIMIT, PROCESS_FILTER, bp, iso
from participation.meetings import services, visibility
from participation.meetings.models import Meeting

MEETING = schema(
    "Meeting",
    s.obj(
        {
            "id": s.INTEGER,
            "process_id": s.nullable(s.INTEGER),
            "phase_id": s.nullable(s.INTEGER),
            "title": s.STRING,
            "description": {"type": "string", "description": "Markdown."},
            "starts_at": s.DATETIME,
            "ends_at": s.DATETIME,
            "address": s.nullable(s.STRING),
            "online_url": s.nullable(s.STRING),
            "capacity": s.nullable(s.INTEGER),
            "registered": {"type": "integer", "description": "Inscriptions confirmées."},
            "waiting": {"type": "integer", "description": "Personnes en liste d'attente."},
            "cancelled_at": s.nullable(s.DATETIME),
            "cancellation_reason": s.nullable(s.STRING),
            "minutes": s.nullable({"type": "string", "description": "Compte rendu (Markdown)."}),
            "minutes_published_at": s.nullable(s.DATETIME),
            "url": s.URL,
        }
    ),
)
MEETING_PAGE = schema("MeetingPage", s.page_of(MEETING, "Une page de réunions publiques."))


def meeting_json(meeting: Meeting, count) -> dict:
    published_minutes = visibility.minutes_are_public(meeting)
    return {
        "id": meeting.id,
        "process_id": meeting.process_id,
        "phase_id": meeting.phase_id,
        "title": meeting.title,
        "description": meeting.description or "",
        "starts_at": iso(meeting.starts_at),
        "ends_at": iso(meeting.ends_at),
        "address": meeting.address or None,
        "online_url": meeting.online_url or None,
        "capacity": meeting.capacity,
        "registered": count.confirmed,
        "waiting": count.waiting,
        "cancelled_at": iso(meeting.cancelled_at),
        "cancellation_reason": meeting.cancellation_reason if meeting.cancelled_at else None,
        "minutes": meeting.minutes if published_minutes else None,
        "minutes_published_at": iso(meeting.minutes_published_at),
        "url": url_for("meetings.show", meeting_id=meeting.id, _external=True),
    }


@api_get(
    bp,
    "/meetings",
    operation_id="listMeetings",
    summary="Réunions publiques publiées",
    tag="Réunions",
    response=MEETING_PAGE,
    params=(
        PROCESS_FILTER,
        Param("when", "enum", "À venir ou passées.", choices=("upcoming", "past")),
        LIMIT,
        CURSOR,
    ),
    description="Les plus récemment créées d'abord.",
)
def list_meetings(params: dict[str, Any]):
    query = visibility.published_meetings()
    query = cursor.of_process(query, Meeting, params)
    if params["when"] == "upcoming":
        query = query.where(Meeting.ends_at >= clock.utcnow())
    elif params["when"] == "past":
        query = query.where(Meeting.ends_at < clock.utcnow())
    result = cursor.by_id("meetings", query, Meeting.id, params)
    counts = services.counts([m.id for m in result["items"]])
    result["items"] = [meeting_json(m, counts[m.id]) for m in result["items"]]
    return jsonify(result)


@api_get(
    bp,
    "/meetings/<int:meeting_id>",
    operation_id="getMeeting",
    summary="Une réunion publique",
    tag="Réunions",
    response=MEETING,
    path_params={"meeting_id": ID_DOC},
)
def get_meeting(params: dict[str, Any], meeting_id: int):
    meeting = services.get_meeting(meeting_id)
    if meeting is None or not visibility.is_public(meeting):
        abort_with(404, _("Cette réunion n'existe pas."))
    return jsonify(meeting_json(meeting, services.counts([meeting.id])[meeting.id]))
