"""Forms of the practice library."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from core.forms import FlaskForm, IntegerField, MultiCheckboxField
from network.library.services import CATEGORY_LABELS, OUTCOME_LABELS
from participation.processes.models import PhaseKind
from participation.processes.services import PHASE_KIND_LABELS

ACTION_CHOICES = [
    ("propose", _l("Propositions")),
    ("support", _l("Soutiens")),
    ("comment", _l("Commentaires")),
    ("debate", _l("Débats")),
]
TEMPLATE_ROWS = 5


class TemplatePhaseForm(Form):
    kind = SelectField(
        _l("Type de phase"),
        choices=[(kind.value, PHASE_KIND_LABELS[kind]) for kind in PhaseKind],
        default=PhaseKind.INFORMATION.value,
    )
    title = StringField(_l("Titre de la phase"), validators=[Optional(), Length(max=200)])
    weeks = IntegerField(
        _l("Durée (semaines)"), validators=[Optional(), NumberRange(min=1, max=52)], default=4
    )
    actions = MultiCheckboxField(_l("Ce que le public peut faire"), choices=ACTION_CHOICES)


class PracticeForm(FlaskForm):
    category = RadioField(
        _l("Catégorie"),
        choices=[(key.value, label) for key, label in CATEGORY_LABELS.items()],
        default="experience",
    )
    title = StringField(_l("Titre"), validators=[Length(max=200)])
    summary = TextAreaField(_l("Résumé en une ou deux phrases"), validators=[Length(max=500)])
    body = TextAreaField(_l("Description"), validators=[Length(max=50000)])
    outcome = RadioField(
        _l("Résultat de l'expérience"),
        choices=[(key.value, label) for key, label in OUTCOME_LABELS.items()],
        validators=[Optional()],
        validate_choice=False,
    )
    lessons = TextAreaField(_l("Enseignements"), validators=[Length(max=20000)])
    tags = StringField(_l("Mots-clés, séparés par des virgules"), validators=[Length(max=500)])
    template_title = StringField(
        _l("Titre de la démarche modèle"), validators=[Optional(), Length(max=200)]
    )
    template_summary = TextAreaField(
        _l("Résumé de la démarche modèle"), validators=[Optional(), Length(max=500)]
    )
    template_phases = FieldList(FormField(TemplatePhaseForm), min_entries=TEMPLATE_ROWS)


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Rechercher"), validators=[Optional(), Length(max=200)])
    category = SelectField(
        _l("Catégorie"),
        choices=[("", _l("Toutes"))] + [(k.value, v) for k, v in CATEGORY_LABELS.items()],
        validators=[Optional()],
        validate_choice=False,
    )
    outcome = SelectField(
        _l("Résultat"),
        choices=[("", _l("Tous"))] + [(k.value, v) for k, v in OUTCOME_LABELS.items()],
        validators=[Optional()],
        validate_choice=False,
    )
    tag = StringField(_l("Mot-clé"), validators=[Optional(), Length(max=40)])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Votre commentaire"), validators=[Length(max=5000)])


class AttachmentForm(FlaskForm):
    file = FileField(_l("Fichier (PDF, image, document bureautique ; 10 Mo au plus)"))
