"""Forms of the citizen account pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from core.forms import FlaskForm
from core.security.passwords import password_problems
from participation.accounts.models import AgeBracket, NotificationFrequency


class Required(DataRequired):
    """``DataRequired`` without the ``required`` flag: on these short forms every field is
    needed unless its hint says "facultatif", so none is marked "(obligatoire)".

    It also keeps clear of a scoping bug of ``macros/forms.html`` (its ``{% set _ = … %}``
    shadows gettext, and the "(obligatoire)" marker then fails to render)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags = {}


class Chosen(InputRequired):
    """``InputRequired`` without the ``required`` flag (see :class:`Required`)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags = {}


EMAIL_REQUIRED = _l("Indiquez votre adresse e-mail.")
EMAIL_INVALID = _l("Indiquez une adresse e-mail valide, par exemple camille@exemple.fr.")
PASSWORD_REQUIRED = _l("Indiquez votre mot de passe.")

AGE_BRACKET_LABELS = {
    AgeBracket.UNDER_18: _l("Moins de 18 ans"),
    AgeBracket.FROM_18: _l("18 à 24 ans"),
    AgeBracket.FROM_25: _l("25 à 39 ans"),
    AgeBracket.FROM_40: _l("40 à 54 ans"),
    AgeBracket.FROM_55: _l("55 à 64 ans"),
    AgeBracket.FROM_65: _l("65 à 79 ans"),
    AgeBracket.OVER_80: _l("80 ans et plus"),
}

FREQUENCY_LABELS = {
    NotificationFrequency.IMMEDIATE: _l("Dès qu'il se passe quelque chose"),
    NotificationFrequency.DAILY: _l("Un résumé par jour, au plus"),
    NotificationFrequency.NEVER: _l("Jamais : je ne veux pas recevoir de notifications"),
}


def _email_field(label=None) -> EmailField:
    return EmailField(
        label or _l("Adresse e-mail"),
        validators=[
            Required(EMAIL_REQUIRED),
            Length(max=254, message=_l("Cette adresse est trop longue.")),
            Email(EMAIL_INVALID, check_deliverability=False),
        ],
    )


class _NewPasswordField(PasswordField):
    """A password chosen now: checked against the policy (French reasons)."""

    def __init__(self, label=None, **kwargs):
        super().__init__(
            label or _l("Mot de passe"),
            validators=[Required(_l("Choisissez un mot de passe."))],
            **kwargs,
        )

    def pre_validate(self, form) -> None:
        if not self.data:
            return  # DataRequired says so
        inputs = [
            getattr(getattr(form, name, None), "data", None) for name in ("email", "display_name")
        ]
        inputs.extend(getattr(form, "policy_inputs", []))
        problems = password_problems(self.data or "", [i for i in inputs if i])
        if problems:
            raise ValidationError(problems[0])


def _display_name_field() -> StringField:
    return StringField(
        _l("Nom affiché"),
        validators=[
            Required(_l("Indiquez le nom sous lequel vos contributions apparaîtront.")),
            Length(max=80, message=_l("Le nom affiché ne peut pas dépasser 80 caractères.")),
        ],
    )


class SignupForm(FlaskForm):
    display_name = _display_name_field()
    email = _email_field()
    password = _NewPasswordField()
    accept_terms = BooleanField(
        _l("J'accepte les conditions générales d'utilisation"),
        validators=[Required(_l("Vous devez accepter les conditions d'utilisation."))],
    )
    accept_charter = BooleanField(
        _l("Je m'engage à respecter la charte de participation"),
        validators=[Required(_l("Vous devez accepter la charte de participation."))],
    )


class ResendConfirmationForm(FlaskForm):
    email = _email_field()


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Mot de passe"), validators=[Required(PASSWORD_REQUIRED)])
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password = _NewPasswordField(_l("Nouveau mot de passe"))


class ProfileForm(FlaskForm):
    display_name = _display_name_field()
    demographics_consent = BooleanField(
        _l(
            "J'accepte que ma tranche d'âge et mon quartier soient utilisés, de façon "
            "anonyme, pour mesurer la représentativité de la participation"
        )
    )
    age_bracket = SelectField(
        _l("Tranche d'âge"),
        choices=[SelectChoice("", _l("Je préfère ne pas répondre"))]
        + [SelectChoice(bracket.value, label) for bracket, label in AGE_BRACKET_LABELS.items()],
        default="",
    )
    neighbourhood_id = SelectField(
        _l("Quartier"),
        coerce=lambda value: int(value) if value not in (None, "", "None") else None,
        default=None,
    )

    def set_neighbourhoods(self, neighbourhoods) -> None:
        self.neighbourhood_id.choices = [SelectChoice("", _l("Je préfère ne pas répondre"))] + [
            SelectChoice(str(n.id), n.name) for n in neighbourhoods
        ]


class NotificationsForm(FlaskForm):
    frequency = RadioField(
        _l("Fréquence des e-mails"),
        choices=[SelectChoice(f.value, label) for f, label in FREQUENCY_LABELS.items()],
        validators=[Chosen(_l("Choisissez une fréquence."))],
    )
    notify_answers = BooleanField(
        _l("Les réponses de la collectivité à mes propositions et questions")
    )
    notify_comments = BooleanField(_l("Les commentaires sur mes contributions"))
    notify_processes = BooleanField(_l("Les nouvelles démarches de participation"))


class ExportForm(FlaskForm):
    """Only the CSRF token: asking for the archive is a POST."""


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Votre mot de passe"), validators=[Required(PASSWORD_REQUIRED)])
    confirm = BooleanField(
        _l("Je comprends que la suppression est définitive"),
        validators=[Required(_l("Cochez cette case pour confirmer la suppression."))],
    )


class AcceptLegalForm(FlaskForm):
    accept = BooleanField(
        _l(
            "J'ai lu et j'accepte les nouvelles conditions générales d'utilisation et la "
            "charte de participation"
        ),
        validators=[Required(_l("Cochez cette case pour continuer."))],
    )
    next = HiddenField()
