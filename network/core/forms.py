"""Forms of the network pages (operator, coordination, tenant staff)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from core.forms import FlaskForm, IntegerField, MultiCheckboxField
from tenants.platform.forms import Required

SECTION_LABELS = {
    "members": _l("Membres et carte"),
    "library": _l("Bibliothèque des pratiques"),
    "commitments": _l("Engagements"),
    "diagnostic": _l("Autodiagnostic démocratique"),
    "benchmarks": _l("Indicateurs comparés"),
    "forum": _l("Forum"),
}


class NetworkForm(FlaskForm):
    name = StringField(
        _l("Nom du réseau"),
        validators=[Required(_l("Indiquez le nom du réseau.")), Length(max=200)],
    )
    slug = StringField(
        _l("Adresse (dans /reseaux/…)"),
        validators=[Optional(), Length(max=80)],
    )
    description = TextAreaField(_l("Présentation"), validators=[Length(max=20000)])
    charter = TextAreaField(_l("Charte du réseau"), validators=[Length(max=50000)])


class SectionsForm(FlaskForm):
    sections = MultiCheckboxField(
        _l("Rubriques visibles par tout le monde"),
        choices=[(key, label) for key, label in SECTION_LABELS.items()],
        validate_choice=True,
    )


class TenantSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(
        _l("Rechercher une collectivité (nom, code INSEE)"),
        validators=[Optional(), Length(max=100)],
    )


class InviteForm(FlaskForm):
    tenant_id = HiddenField(validators=[InputRequired()])


class RoleForm(FlaskForm):
    user_id = SelectField(_l("Compte"), coerce=int, validators=[InputRequired()])
    role = SelectField(
        _l("Rôle"),
        choices=[("coordinator", _l("Coordination")), ("evaluator", _l("Évaluation"))],
        validators=[InputRequired()],
    )


class ConfirmForm(FlaskForm):
    """Just the CSRF token: buttons that change one thing."""


__all__ = [
    "ConfirmForm",
    "IntegerField",
    "InviteForm",
    "NetworkForm",
    "RoleForm",
    "SECTION_LABELS",
    "SectionsForm",
    "TenantSearchForm",
]
