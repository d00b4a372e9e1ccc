"""The public read-only API, /api/v1 on the tenant host.

What it returns is exactly what the public pages show: published and archived processes,
proposals that are neither hidden by moderation nor withdrawn (lists) and whose author is
not blocked, debates of public processes; deleted and hidden arguments and comments keep
their place in the threads but lose their author and body. Authors appear by display name
("Participant·e anonyme" once the account is deleted), never by e-mail.

Lists use keyset cursors (participation.api.cursor); every endpoint is declared through
participation.api.registry, which validates the query string and feeds the OpenAPI
document at /api/v1/openapi.json. What is public is each feature's rule, written once in its
``visibility`` module (``participation.proposals.visibility``…) for its pages, this API and
the open data alike.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from core import clock
from core.db import db
from core.errors import abort_with
from core.security.limits import limiter
from participation.accounts.models import User
from participation.accounts.visibility import visible_clause
from participation.api import cursor
from participation.api import schemas as s
from participation.api.registry import Param, api_get, document
from participation.debates import visibility as debate_visibility
from participation.debates.models import Argument, Debate, Side
from participation.engagement.comments import Comment
from participation.processes import services as process_services
from participation.processes import visibility as process_visibility
from participation.processes.models import Process
from participation.proposals import services as proposal_services
from participation.proposals import visibility as proposal_visibility
from participation.proposals.models import Proposal, ProposalStatus

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DEFAULT_RATE_LIMIT = "300 per minute;5000 per hour"

LIMIT = Param("limit", "integer", "Nombre d'éléments par page (1 à 100).", default=20, maximum=100)
CURSOR = Param(
    "cursor",
    "cursor",
    "Curseur opaque renvoyé dans « next_cursor » de la page précédente.",
    max_length=500,
)
THEME = Param("theme", "integer", "Identifiant d'un thème.")
NEIGHBOURHOOD = Param("neighbourhood", "integer", "Identifiant d'un quartier.")
PROCESS_FILTER = Param("process", "integer", "Identifiant d'une démarche.")

ID_DOC = _l("Identifiant")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT


limiter.limit(_rate_limit)(bp)


@bp.after_request
def _open_to_everyone(response):
    # Public data: any web page may read it (no cookie is ever needed).
    response.headers["Access-Control-Allow-Origin"] = "*"
    if response.status_code == 200:
        response.headers.setdefault("Cache-Control", "public, max-age=60")
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- serialisation


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def labelled(item) -> dict | None:
    return {"id": item.id, "name": item.name} if item is not None else None


def author(user: User | None) -> dict:
    if user is None:
        return {"name": User.ANONYMOUS_NAME, "staff": False}
    return {"name": user.public_name, "staff": bool(user.is_staff and not user.is_deleted)}


def contribution_state(item) -> str:
    if item.deleted_at is not None:
        return "deleted"
    if item.hidden_at is not None:
        return "hidden"
    return "visible"


def process_json(process: Process, today: date) -> dict:
    overview = process_services.process_overview(process, today)
    return {
        "id": process.id,
        "title": process.title,
        "summary": process.summary or "",
        "description": process.description or "",
        "state": process.state.value,
        "status": overview.status.value,
        "theme": labelled(process.theme),
        "neighbourhood": labelled(process.neighbourhood),
        "support_threshold": process.support_threshold,
        "starts_on": iso(overview.starts_on),
        "ends_on": iso(overview.ends_on),
        "published_at": iso(process.published_at),
        "created_at": iso(process.created_at),
        "url": url_for("processes.show", process_id=process.id, _external=True),
        "phases": [
            {
                "id": step.phase.id,
                "position": step.phase.position,
                "kind": step.phase.kind.value,
                "title": step.phase.title,
                "description": step.phase.description or "",
                "starts_on": iso(step.phase.starts_on),
                "ends_on": iso(step.phase.ends_on),
                "state": step.state,
                "actions": list(step.actions),
            }
            for step in overview.steps
        ],
    }


def proposal_json(proposal: Proposal, comments: int, labels: dict) -> dict:
    return {
        "id": proposal.id,
        "process_id": proposal.process_id,
        "title": proposal.title,
        "body": proposal.body,
        "author": author(proposal.author),
        "theme": labelled(proposal.theme),
        "neighbourhood": labelled(proposal.neighbourhood),
        "status": proposal.status.value,
        "status_label": labels[proposal.status],
        "status_reason": (
            proposal.status_reason if proposal.status == ProposalStatus.REJECTED else None
        ),
        "answer": proposal.answer,
        "answered_at": iso(proposal.answered_at) if proposal.answer else None,
        "supports_count": proposal.supports_count,
        "comments_count": comments,
        "latitude": proposal.latitude,
        "longitude": proposal.longitude,
        "created_at": iso(proposal.created_at),
        "edited_at": iso(proposal.edited_at),
        "withdrawn_at": iso(proposal.withdrawn_at),
        "url": url_for("proposals.show", proposal_id=proposal.id, _external=True),
    }


def debate_json(debate: Debate, pour: int, contre: int) -> dict:
    return {
        "id": debate.id,
        "process_id": debate.process_id,
        "question": debate.question,
        "description": debate.description or "",
        "state": debate.state.value,
        "arguments_pour": pour,
        "arguments_contre": contre,
        "created_at": iso(debate.created_at),
        "url": url_for("debates.show", debate_id=debate.id, _external=True),
    }


def _thread_item(item) -> dict:
    state = contribution_state(item)
    visible = state == "visible"
    return {
        "state": state,
        "author": author(item.author) if visible else None,
        "body": item.body if visible else None,
        "created_at": iso(item.created_at),
        "edited_at": iso(item.edited_at) if visible else None,
    }


def argument_json(argument: Argument) -> dict:
    return {
        "id": argument.id,
        "parent_id": argument.parent_id,
        "side": argument.side.value,
        **_thread_item(argument),
    }


def comment_json(comment: Comment) -> dict:
    if comment.proposal_id is not None:
        target_type, target_id = "proposal", comment.proposal_id
    elif comment.debate_id is not None:
        target_type, target_id = "debate", comment.debate_id
    else:
        target_type, target_id = "process", comment.process_id
    return {
        "id": comment.id,
        "target_type": target_type,
        "target_id": target_id,
        "parent_id": comment.parent_id,
        "depth": comment.depth,
        **_thread_item(comment),
    }


# --------------------------------------------------------------------------- queries


def _visible_arguments(side: Side, label: str):
    return (
        sa.select(sa.func.count(Argument.id))
        .where(
            Argument.debate_id == Debate.id,
            Argument.side == side,
            Argument.parent_id.is_(None),
            visible_clause(Argument),
        )
        .correlate(Debate)
        .scalar_subquery()
        .label(label)
    )


# --------------------------------------------------------------------------- processes


@api_get(
    bp,
    "/processes",
    operation_id="listProcesses",
    summary="Démarches publiées et archivées, avec leurs phases",
    tag="Démarches",
    response=s.PROCESS_PAGE,
    params=(
        Param(
            "status",
            "enum",
            "En cours, à venir ou terminées (comme le filtre de la page /demarches).",
            choices=("open", "upcoming", "finished"),
        ),
        THEME,
        NEIGHBOURHOOD,
        LIMIT,
        CURSOR,
    ),
    description="Les plus récentes d'abord.",
)
def list_processes(params: dict[str, Any]):
    today = clock.paris_today()
    query = process_services.public_processes_of_status(today, params["status"])
    if params["theme"]:
        query = query.where(Process.theme_id == params["theme"])
    if params["neighbourhood"]:
        query = query.where(Process.neighbourhood_id == params["neighbourhood"])
    result = cursor.by_id("processes", query, Process.id, params)
    result["items"] = [process_json(p, today) for p in result["items"]]
    return jsonify(result)


@api_get(
    bp,
    "/processes/<int:process_id>",
    operation_id="getProcess",
    summary="Une démarche et ses phases",
    tag="Démarches",
    response=s.PROCESS,
    path_params={"process_id": ID_DOC},
)
def get_process(params: dict[str, Any], process_id: int):
    process = process_services.get_process(process_id)
    if not process_visibility.is_public(process):
        abort_with(404, _("Cette démarche n'existe pas."))
    return jsonify(process_json(process, clock.paris_today()))


# --------------------------------------------------------------------------- proposals


@api_get(
    bp,
    "/proposals",
    operation_id="listProposals",
    summary="Propositions, avec leur statut, la réponse officielle et leurs soutiens",
    tag="Propositions",
    response=s.PROPOSAL_PAGE,
    params=(
        PROCESS_FILTER,
        THEME,
        Param("status", "enum", "Statut de la proposition.", choices=tuple(s.PROPOSAL_STATUSES)),
        NEIGHBOURHOOD,
        Param("q", "string", "Recherche en texte intégral (titre et texte, en français)."),
        Param(
            "sort",
            "enum",
            "« recent » : les plus récentes d'abord ; « supports » : les plus soutenues.",
            choices=("recent", "supports"),
            default="recent",
        ),
        LIMIT,
        CURSOR,
    ),
    description="Les propositions retirées ou masquées par la modération n'y figurent pas, "
    "comme sur les pages.",
)
def list_proposals(params: dict[str, Any]):
    by_supports = params["sort"] == "supports"
    listing = "proposals-supports" if by_supports else "proposals"
    after = cursor.decode(listing, params["cursor"], 2 if by_supports else 1)
    comments = proposal_visibility.comment_count().label("comments_count")
    query = (
        proposal_visibility.public_proposals()
        .add_columns(comments)
        .options(
            joinedload(Proposal.author),
            joinedload(Proposal.theme),
            joinedload(Proposal.neighbourhood),
        )
        .limit(params["limit"] + 1)
    )
    query = cursor.of_process(query, Proposal, params)
    if params["theme"]:
        query = query.where(Proposal.theme_id == params["theme"])
    if params["neighbourhood"]:
        query = query.where(Proposal.neighbourhood_id == params["neighbourhood"])
    if params["status"]:
        query = query.where(Proposal.status == ProposalStatus(params["status"]))
    if params["q"] and params["q"].strip():
        tsquery = sa.func.websearch_to_tsquery(
            sa.literal_column("'french'::regconfig"), " ".join(params["q"].split())
        )
        query = query.where(Proposal.search_vector.op("@@")(tsquery))
    if by_supports:
        query = query.order_by(Proposal.supports_count.desc(), Proposal.id.desc())
        if after:
            query = query.where(
                sa.tuple_(Proposal.supports_count, Proposal.id) < (int(after[0]), int(after[1]))
            )
        key = lambda row: [row[0].supports_count, row[0].id]  # noqa: E731
    else:
        query = query.order_by(Proposal.id.desc())
        if after:
            query = query.where(Proposal.id < int(after[0]))
        key = lambda row: [row[0].id]  # noqa: E731
    rows = db.session.execute(query).unique().all()
    result = cursor.page(rows, params["limit"], listing, key)
    labels = proposal_services.status_labels()
    result["items"] = [proposal_json(row[0], row[1], labels) for row in result["items"]]
    return jsonify(result)


@api_get(
    bp,
    "/proposals/<int:proposal_id>",
    operation_id="getProposal",
    summary="Une proposition, sa réponse officielle et son historique public",
    tag="Propositions",
    response=s.PROPOSAL_DETAIL,
    path_params={"proposal_id": ID_DOC},
)
def get_proposal(params: dict[str, Any], proposal_id: int):
    proposal = proposal_services.get_proposal(proposal_id)
    if proposal is None or not process_visibility.is_public(proposal.process):
        abort_with(404, _("Cette proposition n'existe pas."))
    if not proposal_visibility.is_public(proposal):
        abort_with(404, _("Cette proposition a été masquée par la modération."))
    comments = db.session.scalar(
        sa.select(sa.func.count(Comment.id)).where(
            Comment.proposal_id == proposal.id, visible_clause(Comment)
        )
    )
    data = proposal_json(proposal, comments or 0, proposal_services.status_labels())
    data["timeline"] = [
        {
            "kind": event.kind.value,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "body": event.body,
            "created_at": iso(event.created_at),
        }
        for event in proposal_services.events_for(proposal)
        if event.kind in proposal_visibility.PUBLIC_EVENT_KINDS
    ]
    return jsonify(data)


# --------------------------------------------------------------------------- debates


def _public_debates():
    return debate_visibility.debates_of_public_processes().add_columns(
        _visible_arguments(Side.FOR, "pour"),
        _visible_arguments(Side.AGAINST, "contre"),
    )


@api_get(
    bp,
    "/debates",
    operation_id="listDebates",
    summary="Débats pour / contre des démarches publiées",
    tag="Débats",
    response=s.DEBATE_PAGE,
    params=(
        PROCESS_FILTER,
        Param("state", "enum", "Ouverts ou clos.", choices=("open", "closed")),
        LIMIT,
        CURSOR,
    ),
)
def list_debates(params: dict[str, Any]):
    query = _public_debates()
    query = cursor.of_process(query, Debate, params)
    if params["state"]:
        query = query.where(Debate.state == params["state"])
    result = cursor.by_id("debates", query, Debate.id, params, rows=True)
    result["items"] = [debate_json(*row) for row in result["items"]]
    return jsonify(result)


@api_get(
    bp,
    "/debates/<int:debate_id>",
    operation_id="getDebate",
    summary="Un débat et tous ses arguments (réponses comprises)",
    tag="Débats",
    response=s.DEBATE_DETAIL,
    path_params={"debate_id": ID_DOC},
)
def get_debate(params: dict[str, Any], debate_id: int):
    row = db.session.execute(_public_debates().where(Debate.id == debate_id)).first()
    if row is None:
        abort_with(404, _("Ce débat n'existe pas."))
    data = debate_json(*row)
    arguments = db.session.scalars(
        sa.select(Argument)
        .where(Argument.debate_id == debate_id)
        .options(joinedload(Argument.author))
        .order_by(Argument.created_at, Argument.id)
    )
    data["arguments"] = [argument_json(a) for a in arguments]
    return jsonify(data)


# --------------------------------------------------------------------------- comments


@api_get(
    bp,
    "/comments",
    operation_id="listComments",
    summary="Commentaires des démarches, propositions et débats publics",
    tag="Commentaires",
    response=s.COMMENT_PAGE,
    params=(
        Param("proposal", "integer", "Seulement les commentaires de cette proposition."),
        Param("debate", "integer", "Seulement les commentaires de ce débat."),
        Param("process", "integer", "Seulement les commentaires de cette démarche elle-même."),
        LIMIT,
        CURSOR,
    ),
    description="Dans l'ordre chronologique. Un commentaire supprimé ou masqué garde sa "
    "place dans le fil (« state »), sans auteur ni texte.",
)
def list_comments(params: dict[str, Any]):
    query = debate_visibility.comments_on_public_targets().options(joinedload(Comment.author))
    if params["proposal"]:
        query = query.where(Comment.proposal_id == params["proposal"])
    if params["debate"]:
        query = query.where(Comment.debate_id == params["debate"])
    query = cursor.of_process(query, Comment, params)
    result = cursor.by_id("comments", query, Comment.id, params, newest_first=False)
    result["items"] = [comment_json(c) for c in result["items"]]
    return jsonify(result)


# --------------------------------------------------------------------------- documentation


@api_get(
    bp,
    "/openapi.json",
    operation_id="getOpenApiDocument",
    summary="Ce document OpenAPI 3",
    tag="Documentation",
    response={"type": "object"},
)
def openapi_document(params: dict[str, Any]):
    from participation.api.openapi import build_document

    response = jsonify(build_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


document(
    "tenant_api.tenant_identity",
    "/api/v1/tenant",
    operation_id="getTenant",
    summary="La collectivité de cet espace de participation",
    description="",
    tag="Collectivité",
    response=s.TENANT,
)
