"""Forms of the self-diagnostic (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.forms import FlaskForm


class DimensionForm(FlaskForm):
    name = StringField(_l("Nom de la dimension"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Ce qu'elle évalue"), validators=[Optional(), Length(max=2000)])
    levels = TextAreaField(
        _l("Niveaux, du plus faible au plus avancé (un par ligne)"),
        validators=[DataRequired(), Length(max=3000)],
    )


class ConfirmForm(FlaskForm):
    """A button: nothing but the CSRF token."""


def response_form(dimensions, data=None, formdata=None):
    """A form with one radio group per dimension (``d_<id>``), built for this network."""

    class ResponseForm(FlaskForm):
        comment = TextAreaField(
            _l("Commentaire (facultatif)"), validators=[Optional(), Length(max=5000)]
        )

    for dimension in dimensions:
        setattr(
            ResponseForm,
            f"d_{dimension.id}",
            RadioField(
                dimension.name,
                choices=[(str(i), f"{i}. {label}") for i, label in enumerate(dimension.levels, 1)],
                validators=[InputRequired(message=_l("Choisissez un niveau."))],
            ),
        )
    if formdata is not None:
        return ResponseForm(formdata=formdata)
    return ResponseForm(data=data or {})
