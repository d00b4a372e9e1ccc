"""Forms of the proposal pages (CSRF through Flask-WTF), citizen and staff side."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from core.forms import CoordinateField, DateField, FlaskForm, IntegerField, optional_int
from participation.engagement.antispam import HoneypotForm
from participation.proposals.models import DEFAULT_STATUS_LABELS, ProposalStatus
from participation.proposals.services import (
    BODY_MAX,
    IMAGE_ALT_MAX,
    MAX_EDIT_WINDOW_MINUTES,
    REASON_MAX,
    STATUS_LABEL_MAX_LENGTH,
    TITLE_MAX,
)
from participation.staff.forms import DataRequired, InputRequired


class ProposalForm(HoneypotForm):
    """The honeypot (``website``) comes from engagement's anti-spam mixin."""

    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(_l("Donnez un titre à votre proposition.")),
            Length(max=TITLE_MAX, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    body = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(_l("Décrivez votre proposition.")),
            Length(
                max=BODY_MAX, message=_l("La description ne peut pas dépasser 10 000 caractères.")
            ),
        ],
    )
    theme_id = SelectField(_l("Thème"), coerce=optional_int, validate_choice=True)
    neighbourhood_id = SelectField(_l("Quartier"), coerce=optional_int, validate_choice=True)
    image = FileField(_l("Image (facultative)"))
    image_alt = StringField(
        _l("Description de l'image"),
        validators=[
            Optional(),
            Length(
                max=IMAGE_ALT_MAX,
                message=_l("La description de l'image ne peut pas dépasser 300 caractères."),
            ),
        ],
    )
    remove_image = BooleanField(_l("Retirer l'image actuelle"))
    latitude = CoordinateField(_l("Latitude"))
    longitude = CoordinateField(_l("Longitude"))


class SupportForm(FlaskForm):
    """The support button: ``intent`` says what the click means, so that a double click
    supports once instead of supporting then withdrawing."""

    intent = HiddenField()

    def validate_intent(self, field):
        if field.data not in ("support", "withdraw", "", None):
            raise ValidationError(_l("Action inconnue."))


class ConfirmForm(FlaskForm):
    """A button that changes something (withdraw): CSRF only."""


def status_choices(labels: dict) -> list[tuple[str, str]]:
    return [(status.value, labels[status]) for status in ProposalStatus]


class AnswerForm(FlaskForm):
    status = SelectField(_l("Statut"), validators=[InputRequired(_l("Choisissez un statut."))])
    reason = TextAreaField(
        _l("Raison ou précision sur le statut"),
        validators=[
            Optional(),
            Length(max=REASON_MAX, message=_l("Ce texte ne peut pas dépasser 5 000 caractères.")),
        ],
    )
    answer = TextAreaField(
        _l("Réponse publique de la collectivité"),
        validators=[
            Optional(),
            Length(max=20_000, message=_l("La réponse ne peut pas dépasser 20 000 caractères.")),
        ],
    )


class AssignForm(FlaskForm):
    service_id = SelectField(_l("Service"), coerce=optional_int, validate_choice=True)
    assignee_id = SelectField(_l("Agent"), coerce=optional_int, validate_choice=True)
    due_on = DateField(
        _l("Échéance"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.due_on.widget.input_type = "date"


class BulkStatusForm(FlaskForm):
    status = SelectField(
        _l("Nouveau statut"), validators=[InputRequired(_l("Choisissez un statut."))]
    )
    reason = TextAreaField(
        _l("Raison ou précision (publique)"),
        validators=[
            Optional(),
            Length(max=REASON_MAX, message=_l("Ce texte ne peut pas dépasser 5 000 caractères.")),
        ],
    )


def _label_field(status: ProposalStatus) -> StringField:
    return StringField(
        _l("Libellé du statut « %(label)s »", label=DEFAULT_STATUS_LABELS[status]),
        validators=[
            DataRequired(_l("Indiquez un libellé.")),
            Length(
                max=STATUS_LABEL_MAX_LENGTH,
                message=_l("Un libellé ne peut pas dépasser 40 caractères."),
            ),
        ],
    )


class ProposalSettingsForm(FlaskForm):
    label_received = _label_field(ProposalStatus.RECEIVED)
    label_studying = _label_field(ProposalStatus.STUDYING)
    label_accepted = _label_field(ProposalStatus.ACCEPTED)
    label_rejected = _label_field(ProposalStatus.REJECTED)
    label_done = _label_field(ProposalStatus.DONE)
    edit_window = IntegerField(
        _l("Délai de modification après le dépôt, en minutes"),
        validators=[
            InputRequired(_l("Indiquez un nombre de minutes.")),
            NumberRange(
                min=0,
                max=MAX_EDIT_WINDOW_MINUTES,
                message=_l("Indiquez un nombre entre 0 et 43 200 minutes (30 jours)."),
            ),
        ],
    )

    def label_fields(self):
        return [getattr(self, f"label_{status.value}") for status in ProposalStatus]
