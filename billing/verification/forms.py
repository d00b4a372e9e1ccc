"""Forms of the verification console: a reason, a request for more, a domain, a note."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from billing.verification.common import REASON_MAX_LENGTH
from core.forms import FlaskForm


class Required(DataRequired):
    """Blank-only text counts as missing; no "(obligatoire)" marker on these short forms."""

    def __init__(self, message=None) -> None:
        super().__init__(message)
        self.field_flags = {}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif (envoyé au demandeur)"),
        filters=[_strip],
        validators=[
            Required(_l("Indiquez la raison du refus.")),
            Length(max=REASON_MAX_LENGTH),
        ],
    )


class MoreInfoForm(FlaskForm):
    message = TextAreaField(
        _l("Ce qui manque (envoyé au demandeur)"),
        filters=[_strip],
        validators=[
            Required(_l("Indiquez ce qui manque à la demande.")),
            Length(max=REASON_MAX_LENGTH),
        ],
    )


class DomainForm(FlaskForm):
    collectivite = StringField(
        _l("Collectivité (code officiel : INSEE, SIREN…)"),
        validators=[Required(_l("Indiquez le code officiel de la collectivité.")), Length(max=30)],
    )
    domain = StringField(
        _l("Nom de domaine e-mail officiel"),
        validators=[Required(_l("Indiquez un nom de domaine.")), Length(max=253)],
    )


class DisputeDecisionForm(FlaskForm):
    note = TextAreaField(
        _l("Note (envoyée à la personne qui conteste)"),
        validators=[Length(max=REASON_MAX_LENGTH)],
    )
