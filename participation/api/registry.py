"""The API's endpoint registry: each endpoint is declared once, with its query parameters
and its response schema (JSON Schema), and both the route and the OpenAPI document come
from that declaration, so the document cannot drift from the code.

``@api_get(bp, "/proposals", ...)`` registers the route on the blueprint, refuses unknown
query parameters and invalid values (400, French message) before the view runs, and calls
the view with the parsed values in ``params``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, request
from flask_babel import gettext as _

from core.errors import abort_with

MAX_INT = 2**31 - 1
#: Characters PostgreSQL refuses in text, or that have no business in a filter.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CURSOR_PATTERN = "^[A-Za-z0-9_.-]*$"


@dataclass(frozen=True)
class Param:
    """A query parameter: ``kind`` is "integer", "string", "enum" or "cursor"."""

    name: str
    kind: str
    description: str
    choices: tuple[str, ...] = ()
    default: Any = None
    minimum: int = 1
    maximum: int = MAX_INT
    max_length: int = 200

    def schema(self) -> dict:
        if self.kind == "integer":
            schema = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        elif self.kind == "enum":
            schema = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "cursor":
            schema = {"type": "string", "maxLength": self.max_length, "pattern": CURSOR_PATTERN}
        else:
            schema = {
                "type": "string",
                "maxLength": self.max_length,
                "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$",
            }
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def parse(self, raw: str) -> Any:
        if self.kind == "integer":
            if not re.fullmatch(r"[0-9]{1,10}", raw or ""):
                abort_with(
                    400,
                    _("Le paramètre « %(name)s » doit être un nombre entier.", name=self.name),
                )
            value = int(raw)
            if not self.minimum <= value <= self.maximum:
                abort_with(
                    400,
                    _(
                        "Le paramètre « %(name)s » doit être compris entre %(low)d et %(high)d.",
                        name=self.name,
                        low=self.minimum,
                        high=self.maximum,
                    ),
                )
            return value
        if self.kind == "enum":
            if raw not in self.choices:
                abort_with(
                    400,
                    _(
                        "Valeur inconnue pour « %(name)s ». Valeurs possibles : %(choices)s.",
                        name=self.name,
                        choices=", ".join(self.choices),
                    ),
                )
            return raw
        if len(raw) > self.max_length or _CONTROL.search(raw):
            abort_with(
                400,
                _(
                    "Le paramètre « %(name)s » est trop long ou contient des caractères "
                    "non permis.",
                    name=self.name,
                ),
            )
        return raw


@dataclass
class Operation:
    """One documented GET endpoint."""

    endpoint: str  # Flask endpoint name, "api.list_proposals"
    rule: str  # Flask rule, "/api/v1/proposals/<int:proposal_id>"
    operation_id: str
    summary: str
    description: str
    tag: str
    params: tuple[Param, ...]
    response: dict
    path_params: dict[str, str] = field(default_factory=dict)  # name -> description
    check_params: bool = True


#: Every documented operation, in declaration order (the OpenAPI document follows it).
OPERATIONS: list[Operation] = []
#: Shared JSON Schemas, referenced as "#/components/schemas/<name>".
SCHEMAS: dict[str, dict] = {}


def schema(name: str, definition: dict) -> dict:
    """Register a component schema and return a reference to it."""
    SCHEMAS[name] = definition
    return ref(name)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def parse_query(params: tuple[Param, ...]) -> dict[str, Any]:
    known = {param.name: param for param in params}
    unknown = sorted(set(request.args) - set(known))
    if unknown:
        abort_with(
            400,
            _(
                "Paramètre inconnu : %(names)s. Paramètres acceptés : %(known)s.",
                names=", ".join(unknown),
                known=", ".join(known) or _("aucun"),
            ),
        )
    values: dict[str, Any] = {}
    for name, param in known.items():
        raws = request.args.getlist(name)
        if len(raws) > 1:
            abort_with(400, _("Le paramètre « %(name)s » est répété.", name=name))
        values[name] = param.parse(raws[0]) if raws else param.default
    return values


def api_get(
    bp: Blueprint,
    rule: str,
    *,
    operation_id: str,
    summary: str,
    tag: str,
    response: dict,
    params: tuple[Param, ...] = (),
    description: str = "",
    path_params: dict[str, str] | None = None,
) -> Callable:
    """Register a GET route on ``bp`` and document it."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(**kwargs):
            return view(params=parse_query(params), **kwargs)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=checked, methods=["GET"])
        OPERATIONS.append(
            Operation(
                endpoint=f"{bp.name}.{view.__name__}",
                rule=(bp.url_prefix or "") + rule,
                operation_id=operation_id,
                summary=summary,
                description=description,
                tag=tag,
                params=params,
                response=response,
                path_params=path_params or {},
            )
        )
        return checked

    return decorator


def document(endpoint: str, rule: str, **fields: Any) -> None:
    """Document a route registered elsewhere (it keeps its own parameter handling)."""
    OPERATIONS.append(
        Operation(endpoint=endpoint, rule=rule, params=(), check_params=False, **fields)
    )
