"""The OpenAPI 3.1 document, built from the endpoint registry (participation.api.registry)."""

from __future__ import annotations

import re

from flask import request

from participation.api.registry import OPERATIONS, SCHEMAS, ref
from tenants.context import current_tenant

API_VERSION = "1.0.0"
_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def openapi_path(rule: str) -> str:
    """``/api/v1/proposals/<int:proposal_id>`` → ``/api/v1/proposals/{proposal_id}``."""
    return _CONVERTER.sub(r"{\1}", rule)


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def _operation(op) -> dict:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": str(description),
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        }
        for name, description in op.path_params.items()
    ]
    parameters += [
        {
            "name": param.name,
            "in": "query",
            "required": False,
            "description": param.description,
            "schema": param.schema(),
        }
        for param in op.params
    ]
    responses = {
        "200": {"description": "OK", "content": {"application/json": {"schema": op.response}}},
        "404": _error("Introuvable."),
        "429": _error("Trop de requêtes depuis cette adresse : réessayez plus tard."),
    }
    if op.check_params:
        responses["400"] = _error("Paramètre inconnu ou valeur invalide.")
    return {
        "operationId": op.operation_id,
        "summary": str(op.summary),
        **({"description": str(op.description)} if op.description else {}),
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
    }


def build_document() -> dict:
    tenant = current_tenant()
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(openapi_path(op.rule), {})["get"] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"Pnyx — {tenant.name}" if tenant else "Pnyx",
            "version": API_VERSION,
            "description": (
                "API publique en lecture seule de l'espace de participation : démarches, "
                "propositions et réponses officielles, débats, commentaires. Aucune donnée "
                "personnelle : les auteur·es apparaissent sous leur nom d'affichage. "
                "Pagination par curseur (« next_cursor »), dates ISO 8601, erreurs en JSON "
                "avec un message en français. Les données sont publiées sous la Licence "
                "Ouverte / Open Licence version 2.0 (Etalab)."
            ),
            "license": {
                "name": "Licence Ouverte / Open Licence 2.0",
                "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
            },
        },
        "servers": [{"url": request.host_url.rstrip("/")}],
        "paths": paths,
        "components": {"schemas": dict(SCHEMAS)},
    }
