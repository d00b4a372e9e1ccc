"""Forms of the commitments (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from core.forms import DateField, FlaskForm, IntegerField
from network.commitments.models import CommitmentStatus

STATUS_LABELS = {
    CommitmentStatus.PLANNED: _l("Prévu"),
    CommitmentStatus.IN_PROGRESS: _l("En cours"),
    CommitmentStatus.DONE: _l("Réalisé"),
    CommitmentStatus.ABANDONED: _l("Abandonné"),
}


class CommitmentForm(FlaskForm):
    title = StringField(
        _l("Intitulé de l'engagement"), validators=[DataRequired(), Length(max=200)]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    status = SelectField(
        _l("Statut"), choices=[(s.value, label) for s, label in STATUS_LABELS.items()]
    )
    progress = IntegerField(
        _l("Avancement (en pourcentage)"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=100, message=_l("Indiquez un nombre entre 0 et 100.")),
        ],
    )
    starts_on = DateField(_l("Date de début"), validators=[Optional()])
    due_on = DateField(_l("Échéance"), validators=[Optional()])
    completed_on = DateField(_l("Date de réalisation"), validators=[Optional()])
    evidence_text = TextAreaField(
        _l("Preuves et résultats"), validators=[Optional(), Length(max=10000)]
    )
    evidence_url = StringField(
        _l("Lien vers une preuve"),
        validators=[
            Optional(),
            Length(max=500),
            URL(require_tld=True, message=_l("Indiquez une adresse web complète (https://…).")),
        ],
    )
    evidence_file = FileField(_l("Fichier de preuve (PDF, PNG ou JPEG, 5 Mo au plus)"))

    def validate_evidence_url(self, field) -> None:
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError(_l("Indiquez une adresse web complète (https://…)."))

    def validate_due_on(self, field) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("L'échéance doit suivre la date de début."))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Commentaire"), validators=[DataRequired(), Length(max=5000)])
