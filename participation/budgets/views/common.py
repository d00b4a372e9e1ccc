"""What the public and staff budget pages share: the signed-in user, a service error put
on its form field, the projects ticked on a ballot, the quartier choices of a budget."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from core.routing import parse_int
from participation.accounts.models import User
from participation.budgets import services
from participation.budgets.models import Budget
from participation.budgets.services import BudgetError


def signed_in_user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def field_error(form, exc: BudgetError, default: str | None = None) -> bool:
    """Put the message on its field; False when the form has no such field."""
    name = exc.field if exc.field in form else default
    if name is None or name not in form:
        return False
    form[name].errors = [*form[name].errors, str(exc)]
    return True


def selected_project_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("project"):
        # ASCII digits within PostgreSQL's range (int() takes "١" and 10^20).
        if (project_id := parse_int(value)) is not None:
            ids.append(project_id)
    return ids


def neighbourhood_choices(budget: Budget) -> list[tuple]:
    envelopes = services.envelopes(budget)
    return [(None, _("— Choisissez —"))] + [
        (n.id, n.name) for n in services.neighbourhoods() if n.id in envelopes
    ]
