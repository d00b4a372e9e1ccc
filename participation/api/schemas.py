"""JSON Schemas of the API's responses (components of the OpenAPI document).

Field names are part of the contract: add fields, never rename or remove one within v1.
"""

from __future__ import annotations

from participation.api.registry import ref, schema

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
URL = {"type": "string", "format": "uri"}


def nullable(definition: dict) -> dict:
    if "$ref" in definition:
        return {"anyOf": [definition, {"type": "null"}]}
    kind = definition["type"]
    return {**definition, "type": [kind, "null"]}


def obj(properties: dict, description: str = "") -> dict:
    definition = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        definition["description"] = description
    return definition


def page_of(item: dict, description: str) -> dict:
    return obj(
        {
            "items": {"type": "array", "items": item},
            "next_cursor": nullable(
                {
                    "type": "string",
                    "description": "À passer dans « cursor » pour la page suivante ; "
                    "null sur la dernière page.",
                }
            ),
        },
        description,
    )


ERROR = schema(
    "Error",
    obj(
        {
            "error": obj(
                {
                    "status": INTEGER,
                    "message": {"type": "string", "description": "Message en français."},
                }
            )
        }
    ),
)

LABELLED = schema("Labelled", obj({"id": INTEGER, "name": STRING}))

AUTHOR = schema(
    "Author",
    obj(
        {
            "name": {
                "type": "string",
                "description": "Nom d'affichage, ou « Participant·e anonyme » pour un "
                "compte supprimé.",
            },
            "staff": {
                "type": "boolean",
                "description": "Membre de l'équipe de la collectivité.",
            },
        },
        "L'auteur·e tel·le que les pages l'affichent (jamais d'adresse e-mail).",
    ),
)

PHASE = schema(
    "Phase",
    obj(
        {
            "id": INTEGER,
            "position": INTEGER,
            "kind": {
                "type": "string",
                "enum": [
                    "information",
                    "contributions",
                    "analysis",
                    "vote",
                    "results",
                    "implementation",
                    "other",
                ],
            },
            "title": STRING,
            "description": {"type": "string", "description": "Markdown."},
            "starts_on": DATE,
            "ends_on": DATE,
            "state": {"type": "string", "enum": ["done", "current", "upcoming"]},
            "actions": {
                "type": "array",
                "items": {"type": "string", "enum": ["propose", "support", "comment", "debate"]},
            },
        }
    ),
)

PROCESS = schema(
    "Process",
    obj(
        {
            "id": INTEGER,
            "title": STRING,
            "summary": STRING,
            "description": {"type": "string", "description": "Markdown."},
            "state": {"type": "string", "enum": ["published", "archived"]},
            "status": {"type": "string", "enum": ["open", "upcoming", "finished"]},
            "theme": nullable(LABELLED),
            "neighbourhood": nullable(LABELLED),
            "support_threshold": nullable(INTEGER),
            "starts_on": nullable(DATE),
            "ends_on": nullable(DATE),
            "published_at": nullable(DATETIME),
            "created_at": DATETIME,
            "url": URL,
            "phases": {"type": "array", "items": PHASE},
        }
    ),
)

PROPOSAL_STATUSES = ["received", "studying", "accepted", "rejected", "done"]

PROPOSAL_FIELDS = {
    "id": INTEGER,
    "process_id": INTEGER,
    "title": STRING,
    "body": {"type": "string", "description": "Markdown."},
    "author": AUTHOR,
    "theme": nullable(LABELLED),
    "neighbourhood": nullable(LABELLED),
    "status": {"type": "string", "enum": PROPOSAL_STATUSES},
    "status_label": STRING,
    "status_reason": nullable(
        {"type": "string", "description": "Motif d'une proposition non retenue."}
    ),
    "answer": nullable({"type": "string", "description": "Réponse officielle (Markdown)."}),
    "answered_at": nullable(DATETIME),
    "supports_count": INTEGER,
    "comments_count": INTEGER,
    "latitude": nullable({"type": "number"}),
    "longitude": nullable({"type": "number"}),
    "created_at": DATETIME,
    "edited_at": nullable(DATETIME),
    "withdrawn_at": nullable(DATETIME),
    "url": URL,
}
PROPOSAL = schema("Proposal", obj(PROPOSAL_FIELDS))

PROPOSAL_EVENT = schema(
    "ProposalEvent",
    obj(
        {
            "kind": {
                "type": "string",
                "enum": ["created", "status", "answer", "threshold", "withdrawn"],
            },
            "from_status": nullable(STRING),
            "to_status": nullable(STRING),
            "body": nullable({"type": "string", "description": "Markdown."}),
            "created_at": DATETIME,
        }
    ),
)

PROPOSAL_DETAIL = schema(
    "ProposalDetail",
    obj({**PROPOSAL_FIELDS, "timeline": {"type": "array", "items": PROPOSAL_EVENT}}),
)

STATE = {
    "type": "string",
    "enum": ["visible", "deleted", "hidden"],
    "description": "« deleted » : supprimé par son auteur·e ; « hidden » : masqué par la "
    "modération. Dans ces deux cas, « author » et « body » sont null.",
}

ARGUMENT = schema(
    "Argument",
    obj(
        {
            "id": INTEGER,
            "parent_id": nullable(INTEGER),
            "side": {"type": "string", "enum": ["pour", "contre"]},
            "state": STATE,
            "author": nullable(AUTHOR),
            "body": nullable({"type": "string", "description": "Markdown."}),
            "created_at": DATETIME,
            "edited_at": nullable(DATETIME),
        }
    ),
)

DEBATE_FIELDS = {
    "id": INTEGER,
    "process_id": INTEGER,
    "question": STRING,
    "description": {"type": "string", "description": "Markdown."},
    "state": {"type": "string", "enum": ["open", "closed"]},
    "arguments_pour": {
        "type": "integer",
        "description": "Arguments pour visibles (hors réponses).",
    },
    "arguments_contre": {
        "type": "integer",
        "description": "Arguments contre visibles (hors réponses).",
    },
    "created_at": DATETIME,
    "url": URL,
}
DEBATE = schema("Debate", obj(DEBATE_FIELDS))
DEBATE_DETAIL = schema(
    "DebateDetail", obj({**DEBATE_FIELDS, "arguments": {"type": "array", "items": ARGUMENT}})
)

COMMENT = schema(
    "Comment",
    obj(
        {
            "id": INTEGER,
            "target_type": {"type": "string", "enum": ["process", "proposal", "debate"]},
            "target_id": INTEGER,
            "parent_id": nullable(INTEGER),
            "depth": INTEGER,
            "state": STATE,
            "author": nullable(AUTHOR),
            "body": nullable({"type": "string", "description": "Markdown."}),
            "created_at": DATETIME,
            "edited_at": nullable(DATETIME),
        }
    ),
)

TENANT = schema(
    "Tenant",
    obj(
        {
            "slug": STRING,
            "name": STRING,
            "kind": STRING,
            "code": STRING,
            "population": nullable(INTEGER),
            "status": STRING,
        },
        "La collectivité de cet espace de participation.",
    ),
)

PROCESS_PAGE = schema("ProcessPage", page_of(PROCESS, "Une page de démarches."))
PROPOSAL_PAGE = schema("ProposalPage", page_of(PROPOSAL, "Une page de propositions."))
DEBATE_PAGE = schema("DebatePage", page_of(DEBATE, "Une page de débats."))
COMMENT_PAGE = schema("CommentPage", page_of(COMMENT, "Une page de commentaires."))

__all__ = ["ref"]
