"""Forms of the signalement pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from core.forms import CoordinateField, FlaskForm, IntegerField, optional_int
from participation.engagement.antispam import HoneypotForm
from participation.problems.services import ADDRESS_MAX, COMMENT_MAX, DESCRIPTION_MAX
from participation.staff.forms import DataRequired, InputRequired

#: The hidden coordinates are written by the map script (problems.js), as ``47.750800``.
MAP_POINT_INVALID = _l("Le point choisi sur la carte n'est pas valable.")


class ReportForm(HoneypotForm):
    category_id = RadioField(
        _l("Catégorie"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choisissez une catégorie."))],
        validate_choice=False,  # checked by the service (active categories only)
    )
    description = TextAreaField(
        _l("Description du problème"),
        validators=[
            DataRequired(_l("Décrivez le problème.")),
            Length(
                max=DESCRIPTION_MAX,
                message=_l("La description ne peut pas dépasser 5 000 caractères."),
            ),
        ],
    )
    address = StringField(
        _l("Adresse ou lieu"),
        validators=[
            Optional(),
            Length(max=ADDRESS_MAX, message=_l("L'adresse ne peut pas dépasser 300 caractères.")),
        ],
    )
    latitude = CoordinateField(
        hidden=True, invalid_message=MAP_POINT_INVALID, decimals=6, fixed=True
    )
    longitude = CoordinateField(
        hidden=True, invalid_message=MAP_POINT_INVALID, decimals=6, fixed=True
    )
    photo = FileField(_l("Photo (facultative)"))
    anonymous = BooleanField(_l("Ne pas afficher mon nom sur la page publique du signalement"))


class StatusForm(FlaskForm):
    status = SelectField(
        _l("Nouveau statut"), validators=[InputRequired(_l("Choisissez un statut."))]
    )
    comment = TextAreaField(
        _l("Commentaire public"),
        validators=[
            Optional(),
            Length(max=COMMENT_MAX, message=_l("Ce texte ne peut pas dépasser 5 000 caractères.")),
        ],
    )


class AssignForm(FlaskForm):
    service_id = SelectField(_l("Service chargé du signalement"), coerce=optional_int)


class HideForm(FlaskForm):
    reason = TextAreaField(
        _l("Raison (interne)"),
        validators=[
            DataRequired(_l("Indiquez la raison.")),
            Length(max=2000, message=_l("Ce texte ne peut pas dépasser 2 000 caractères.")),
        ],
    )


class CategoryForm(FlaskForm):
    name = StringField(
        _l("Nom"),
        validators=[
            DataRequired(_l("Donnez un nom à la catégorie.")),
            Length(max=120, message=_l("Le nom ne peut pas dépasser 120 caractères.")),
        ],
    )
    description = StringField(
        _l("Aide pour les habitants"),
        validators=[
            Optional(),
            Length(max=300, message=_l("Ce texte ne peut pas dépasser 300 caractères.")),
        ],
    )
    service_id = SelectField(_l("Service qui reçoit les signalements"), coerce=optional_int)
    position = IntegerField(
        _l("Ordre d'affichage"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=1000, message=_l("Entre 0 et 1 000."))],
    )
    is_active = BooleanField(_l("Proposée aux habitants"), default=True)
