"""Forms of the process pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, StopValidation, ValidationError

from core.forms import DateField, FlaskForm, IntegerField
from participation.processes.models import PhaseKind
from participation.processes.services import ACTION_LABELS, PHASE_KIND_LABELS
from participation.staff.forms import DataRequired, InputRequired

WHOLE_TERRITORY = 0
NO_THEME = 0


class RequiredDate:
    """A date is required; a date that could not be read already has its own message."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.field_flags = {}

    def __call__(self, form, field) -> None:
        if field.process_errors:
            raise StopValidation()
        if field.data is None:
            raise StopValidation(self.message)


class ProcessForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(_l("Indiquez le titre de la démarche.")),
            Length(max=200, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    summary = TextAreaField(
        _l("Résumé"),
        validators=[
            DataRequired(_l("Indiquez un résumé en une ou deux phrases.")),
            Length(max=500, message=_l("Le résumé ne peut pas dépasser 500 caractères.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            Optional(),
            Length(
                max=50_000, message=_l("La description ne peut pas dépasser 50 000 caractères.")
            ),
        ],
    )
    theme_id = SelectField(_l("Thème"), coerce=int, validate_choice=True)
    neighbourhood_id = SelectField(_l("Territoire concerné"), coerce=int, validate_choice=True)
    image = FileField(_l("Image"))
    image_alt = StringField(
        _l("Description de l'image (texte alternatif)"),
        validators=[
            Optional(),
            Length(max=300, message=_l("La description ne peut pas dépasser 300 caractères.")),
        ],
    )
    remove_image = BooleanField(_l("Retirer l'image actuelle"))
    support_threshold = IntegerField(
        _l("Seuil de soutiens"),
        invalid_value_message=_l("Indiquez un nombre entier, par exemple 50."),
        validators=[
            Optional(),
            NumberRange(
                min=1, max=1_000_000, message=_l("Indiquez un nombre entre 1 et 1 000 000.")
            ),
        ],
    )

    def set_choices(self, themes, neighbourhoods) -> None:
        self.theme_id.choices = [(NO_THEME, _l("Aucun thème"))] + [(t.id, t.name) for t in themes]
        # gettext, not lazy_gettext: a LazyString counts as safe markup (its __html__ is
        # the raw text), so a neighbourhood named "<script>…" would reach the page as HTML.
        # A plain str is escaped by WTForms and Jinja like any other text.
        self.neighbourhood_id.choices = [(WHOLE_TERRITORY, _l("Tout le territoire"))] + [
            (n.id, _("Quartier : %(name)s", name=n.name)) for n in neighbourhoods
        ]


def phase_kind_choices() -> list[tuple[str, str]]:
    return [(kind.value, PHASE_KIND_LABELS[kind]) for kind in PhaseKind]


class PhaseForm(FlaskForm):
    kind = SelectField(
        _l("Type de phase"),
        choices=phase_kind_choices,
        validators=[InputRequired(_l("Choisissez le type de phase."))],
    )
    title = StringField(
        _l("Titre de la phase"),
        validators=[
            DataRequired(_l("Indiquez le titre de la phase.")),
            Length(max=200, message=_l("Le titre ne peut pas dépasser 200 caractères.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            Optional(),
            Length(
                max=10_000, message=_l("La description ne peut pas dépasser 10 000 caractères.")
            ),
        ],
    )
    starts_on = DateField(
        _l("Date de début"),
        invalid_value_message=_l("Indiquez une date valide, par exemple 15/03/2027."),
        validators=[RequiredDate(_l("Indiquez la date de début."))],
    )
    ends_on = DateField(
        _l("Date de fin"),
        invalid_value_message=_l("Indiquez une date valide, par exemple 15/04/2027."),
        validators=[RequiredDate(_l("Indiquez la date de fin."))],
    )
    allows_propose = BooleanField(ACTION_LABELS["propose"])
    allows_support = BooleanField(ACTION_LABELS["support"])
    allows_comment = BooleanField(ACTION_LABELS["comment"])
    allows_debate = BooleanField(ACTION_LABELS["debate"])

    def validate_ends_on(self, field) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(
                _l("La date de fin doit être le même jour que la date de début ou après.")
            )


class ThemeForm(FlaskForm):
    name = StringField(
        _l("Nom du thème"),
        validators=[
            DataRequired(_l("Indiquez le nom du thème.")),
            Length(max=120, message=_l("Le nom ne peut pas dépasser 120 caractères.")),
        ],
    )
    position = IntegerField(
        _l("Ordre d'affichage"),
        invalid_value_message=_l("Indiquez un nombre entier."),
        validators=[
            Optional(),
            NumberRange(min=0, max=10000, message=_l("Indiquez un nombre entre 0 et 10 000.")),
        ],
    )


class ProcessFilterForm(FlaskForm):
    """The filters of the public list (a GET form: nothing to protect with a token)."""

    class Meta:
        csrf = False

    etat = SelectField(
        _l("État"),
        choices=[
            ("", _l("Toutes les démarches")),
            ("en-cours", _l("En cours")),
            ("a-venir", _l("À venir")),
            ("terminees", _l("Terminées")),
        ],
        validate_choice=False,
    )
    theme = SelectField(_l("Thème"), validate_choice=False)

    def set_themes(self, themes) -> None:
        self.theme.choices = [("", _l("Tous les thèmes"))] + [(str(t.id), t.name) for t in themes]
