"""Forms of the meeting pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from core.forms import DateTimeLocalField, FlaskForm, IntegerField, optional_int
from participation.meetings.services import PARIS
from participation.staff.forms import DataRequired, InputRequired


class ParisDateTimeField(DateTimeLocalField):
    """A ``datetime-local`` input, read and shown as Paris time, stored aware."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(
                _l("Indiquez une date et une heure, par exemple 14/03/2027 18:30.")
            ) from None
        if self.data is not None:
            self.data = self.data.replace(tzinfo=PARIS)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            return self.data.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
        return ""


class MeetingForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(_l("Donnez un titre à la réunion.")),
            Length(max=200, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    description = TextAreaField(_l("Présentation"), validators=[Optional()])
    starts_at = ParisDateTimeField(
        _l("Début (heure de Paris)"),
        validators=[InputRequired(_l("Indiquez la date et l'heure de début."))],
    )
    ends_at = ParisDateTimeField(
        _l("Fin (heure de Paris)"),
        validators=[InputRequired(_l("Indiquez la date et l'heure de fin."))],
    )
    address = StringField(
        _l("Adresse du lieu"),
        validators=[
            Optional(),
            Length(max=300, message=_l("L'adresse ne peut pas dépasser 300 caractères.")),
        ],
    )
    online_url = StringField(
        _l("Lien de la réunion en ligne"),
        validators=[Optional(), Length(max=500, message=_l("Ce lien est trop long."))],
    )
    capacity = IntegerField(
        _l("Jauge (nombre de places)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=100_000, message=_l("Indiquez un nombre de places positif.")),
        ],
    )
    process_id = SelectField(_l("Démarche liée"), coerce=optional_int)
    phase_id = SelectField(_l("Phase de la démarche"), coerce=optional_int)
    registration_open = BooleanField(_l("Inscriptions ouvertes"), default=True)


class ConfirmForm(FlaskForm):
    """A button that changes something (register, publish): CSRF only."""


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Raison de l'annulation (publique)"),
        validators=[
            DataRequired(_l("Indiquez la raison de l'annulation : elle est publique.")),
            Length(max=2000, message=_l("Ce texte ne peut pas dépasser 2 000 caractères.")),
        ],
    )


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Compte rendu"), validators=[Optional()])
    publish = BooleanField(_l("Publier le compte rendu sur la page de la réunion"))


class ProposalEntryForm(FlaskForm):
    process_id = SelectField(
        _l("Démarche"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choisissez la démarche."))],
    )
    title = StringField(
        _l("Titre de la proposition"),
        validators=[
            DataRequired(_l("Donnez un titre à la proposition.")),
            Length(max=200, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    body = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(_l("Décrivez la proposition.")),
            Length(
                max=10_000, message=_l("La description ne peut pas dépasser 10 000 caractères.")
            ),
        ],
    )
    speaker = StringField(
        _l("Exprimée par (facultatif)"),
        validators=[Optional(), Length(max=120, message=_l("120 caractères au plus."))],
    )
