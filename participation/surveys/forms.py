"""Forms of the consultation pages (CSRF through Flask-WTF).

The answer form itself is built from the questionnaire in the template and read by
``services.parse_sheet``; :class:`AnswerForm` only carries its CSRF token.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from core.forms import DateField, FlaskForm, IntegerField, optional_int
from participation.processes.forms import RequiredDate
from participation.staff.forms import DataRequired
from participation.surveys.models import QuestionKind
from participation.surveys.services import KIND_LABELS


class SurveyForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(_l("Indiquez le titre de la consultation.")),
            Length(max=200, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    summary = TextAreaField(
        _l("Résumé"),
        validators=[
            Optional(),
            Length(max=500, message=_l("Le résumé ne peut pas dépasser 500 caractères.")),
        ],
    )
    description = TextAreaField(
        _l("Présentation (Markdown)"),
        validators=[
            Optional(),
            Length(max=20_000, message=_l("La présentation est trop longue.")),
        ],
    )
    opens_on = DateField(
        _l("Ouverture le"),
        validators=[RequiredDate(_l("Indiquez la date d'ouverture."))],
    )
    closes_on = DateField(
        _l("Clôture le (inclus)"),
        validators=[RequiredDate(_l("Indiquez la date de clôture."))],
    )
    is_anonymous = BooleanField(_l("Réponses anonymes"))
    phase_id = SelectField(_l("Démarche et phase"), coerce=optional_int, validate_choice=True)

    def set_phase_choices(self, processes) -> None:
        choices = [(None, _l("— Aucune démarche —"))]
        for process, phases in processes:
            for phase in phases:
                choices.append((phase.id, f"{process.title} — {phase.title}"))
        self.phase_id.choices = choices


class SectionForm(FlaskForm):
    title = StringField(
        _l("Titre de la section"),
        validators=[
            DataRequired(_l("Donnez un titre à la section.")),
            Length(max=200, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    description = TextAreaField(
        _l("Texte d'introduction"),
        validators=[Optional(), Length(max=5000, message=_l("Le texte est trop long."))],
    )


class QuestionForm(FlaskForm):
    kind = SelectField(
        _l("Type de question"),
        choices=[(kind.value, label) for kind, label in KIND_LABELS.items()],
        validate_choice=True,
    )
    text = StringField(
        _l("Question"),
        validators=[
            DataRequired(_l("Écrivez la question.")),
            Length(max=500, message=_l("La question ne peut pas dépasser 500 caractères.")),
        ],
    )
    help_text = TextAreaField(
        _l("Aide (facultative)"),
        validators=[
            Optional(),
            Length(max=1000, message=_l("L'aide ne peut pas dépasser 1 000 caractères.")),
        ],
    )
    is_required = BooleanField(_l("Réponse obligatoire"))
    section_id = SelectField(_l("Section"), coerce=optional_int, validate_choice=True)
    options = TextAreaField(_l("Choix proposés (un par ligne)"))
    max_choices = IntegerField(
        _l("Nombre maximum de choix"),
        invalid_value_message=_l("Indiquez un nombre entier, par exemple 3."),
        validators=[
            Optional(),
            NumberRange(min=1, max=30, message=_l("Indiquez un nombre entre 1 et 30.")),
        ],
    )
    scale_min_label = StringField(
        _l("Libellé de la valeur 1"),
        validators=[Optional(), Length(max=80, message=_l("80 caractères au plus."))],
    )
    scale_max_label = StringField(
        _l("Libellé de la valeur 5"),
        validators=[Optional(), Length(max=80, message=_l("80 caractères au plus."))],
    )
    condition_option_id = SelectField(
        _l("Afficher seulement si…"), coerce=optional_int, validate_choice=True
    )

    def set_choices(self, sections, conditions) -> None:
        self.section_id.choices = [(None, _l("— Avant la première section —"))] + [
            (s.id, s.title) for s in sections
        ]
        self.condition_option_id.choices = [(None, _l("— Toujours afficher —"))] + [
            (option.id, f"Q{number} « {question.text} » = {option.label}")
            for option, number, question in conditions
        ]


class OutcomeForm(FlaskForm):
    outcome = TextAreaField(
        _l("Ce que la collectivité a décidé (Markdown)"),
        validators=[Optional(), Length(max=20_000, message=_l("Le texte est trop long."))],
    )
    publish = BooleanField(_l("Publier cette page"))


class AnswerForm(FlaskForm):
    """The CSRF token of the answer form (its fields come from the questionnaire)."""


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF only."""


KINDS_WITH_OPTIONS = [k.value for k in QuestionKind if k.has_options]
