"""Forms of the participatory budget pages (CSRF through Flask-WTF). The rules themselves
live in the services package; the forms only read and type the fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from core.forms import DateField, FlaskForm, IntegerField, optional_int
from participation.budgets.models import VotingRule
from participation.budgets.services import RULE_LABELS
from participation.engagement.antispam import HoneypotForm
from participation.staff.forms import DataRequired, InputRequired


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token."""


class ProjectForm(HoneypotForm):
    title = StringField(
        _l("Titre du projet"),
        validators=[
            DataRequired(_l("Donnez un titre à votre projet.")),
            Length(max=200, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(_l("Décrivez votre projet.")),
            Length(
                max=10_000, message=_l("La description ne peut pas dépasser 10 000 caractères.")
            ),
        ],
    )
    neighbourhood_id = SelectField(_l("Quartier"), coerce=optional_int, validate_choice=True)
    proposed_cost = IntegerField(
        _l("Coût estimé, en euros"),
        validators=[
            InputRequired(_l("Indiquez une estimation du coût en euros.")),
            NumberRange(min=1, message=_l("Le coût doit être un nombre entier d'euros positif.")),
        ],
    )


class EligibilityForm(FlaskForm):
    full_name = StringField(
        _l("Prénom et nom"),
        validators=[
            DataRequired(_l("Indiquez vos prénom et nom.")),
            Length(max=200, message=_l("200 caractères au plus.")),
        ],
    )
    birth_date = DateField(
        _l("Date de naissance"),
        validators=[InputRequired(_l("Indiquez votre date de naissance."))],
    )
    resident = BooleanField(_l("Je déclare sur l'honneur résider sur le territoire"))
    neighbourhood_id = SelectField(_l("Votre quartier"), coerce=optional_int, validate_choice=False)


class BudgetForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(_l("Donnez un titre au budget.")),
            Length(max=200, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    description = TextAreaField(_l("Présentation"), validators=[Optional()])
    process_id = SelectField(_l("Démarche associée"), coerce=optional_int, validate_choice=True)
    envelope = IntegerField(
        _l("Enveloppe globale, en euros"),
        validators=[Optional(), NumberRange(min=0, message=_l("Un montant positif, en euros."))],
    )
    split_by_neighbourhood = BooleanField(_l("Répartir l'enveloppe par quartier"))
    vote_per_neighbourhood = BooleanField(
        _l("Vote par quartier : chacun vote pour les projets de son quartier")
    )
    rule = RadioField(
        _l("Règle de vote"),
        choices=[(rule.value, label) for rule, label in RULE_LABELS.items()],
        default=VotingRule.KNAPSACK.value,
    )
    min_choices = IntegerField(
        _l("Nombre minimum de projets (approbation)"), validators=[Optional()]
    )
    max_choices = IntegerField(
        _l("Nombre maximum de projets (approbation)"), validators=[Optional()]
    )
    minimum_age = IntegerField(_l("Âge minimum pour voter"), validators=[Optional()])
    require_residency = BooleanField(
        _l("Le votant déclare résider sur le territoire"), default=True
    )
    require_census = BooleanField(_l("Vérifier les votants sur la liste des habitants (CSV)"))
    eligible_population = IntegerField(
        _l("Population appelée à voter"),
        validators=[Optional(), NumberRange(min=1, message=_l("Un nombre de personnes positif."))],
    )
    submission_starts_on = DateField(_l("Début du dépôt des projets"), validators=[Optional()])
    submission_ends_on = DateField(_l("Fin du dépôt des projets"), validators=[Optional()])
    vote_starts_on = DateField(_l("Ouverture du vote"), validators=[Optional()])
    vote_ends_on = DateField(_l("Clôture du vote"), validators=[Optional()])
    implementation_starts_on = DateField(_l("Début de la réalisation"), validators=[Optional()])


class AnalysisForm(FlaskForm):
    feasible = RadioField(
        _l("Conclusion de l'analyse"),
        choices=[("yes", _l("Réalisable")), ("no", _l("Non réalisable"))],
        validators=[InputRequired(_l("Indiquez si le projet est réalisable."))],
    )
    estimated_cost = IntegerField(
        _l("Coût estimé par les services, en euros"), validators=[Optional()]
    )
    reason = TextAreaField(
        _l("Explication publique"),
        validators=[Optional(), Length(max=5000, message=_l("5 000 caractères au plus."))],
    )


class CensusForm(FlaskForm):
    file = FileField(_l("Liste des habitants (CSV)"))


class PaperBallotForm(FlaskForm):
    polling_point = StringField(
        _l("Bureau de vote"),
        validators=[Length(max=200, message=_l("200 caractères au plus."))],
    )
    voter_name = StringField(
        _l("Nom de la personne (liste d'émargement)"),
        validators=[Length(max=200, message=_l("200 caractères au plus."))],
    )
    birth_date = DateField(_l("Date de naissance"), validators=[Optional()])
    neighbourhood_id = SelectField(
        _l("Quartier du bulletin"), coerce=optional_int, validate_choice=False
    )


class ProgressForm(FlaskForm):
    progress = IntegerField(
        _l("Avancement, en pourcentage"),
        validators=[
            InputRequired(_l("Indiquez l'avancement.")),
            NumberRange(min=0, max=100, message=_l("Un pourcentage entre 0 et 100.")),
        ],
    )


class MilestoneForm(FlaskForm):
    title = StringField(
        _l("Étape"),
        validators=[DataRequired(_l("Donnez un intitulé à l'étape.")), Length(max=200)],
    )
    due_on = DateField(_l("Échéance prévue"), validators=[Optional()])


class UpdateForm(FlaskForm):
    body = TextAreaField(
        _l("Actualité"),
        validators=[DataRequired(_l("Écrivez l'actualité.")), Length(max=10_000)],
    )
    photo = FileField(_l("Photo (facultative)"))
    photo_alt = StringField(_l("Description de la photo"), validators=[Optional(), Length(max=300)])
