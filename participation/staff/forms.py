"""Forms of the staff pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired as _DataRequired
from wtforms.validators import (
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
)
from wtforms.validators import InputRequired as _InputRequired

from core.forms import FlaskForm, IntegerField, MultiCheckboxField
from participation.accounts.models import StaffRole


class DataRequired(_DataRequired):
    """Without the ``required`` flag: ``macros/forms.html`` shadows gettext with its
    ``{% set _ = … %}`` and then fails to render the "(obligatoire)" marker."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags = {}


class InputRequired(_InputRequired):
    """Without the ``required`` flag (see :class:`DataRequired`)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags = {}


ROLE_LABELS = {
    StaffRole.ADMIN: _l("Administrateur ou administratrice"),
    StaffRole.MODERATOR: _l("Modérateur ou modératrice"),
    StaffRole.AGENT: _l("Agent d'un service"),
}
ROLE_HINTS = {
    StaffRole.ADMIN: _l("gère l'équipe, les services, les quartiers et les paramètres"),
    StaffRole.MODERATOR: _l("modère les contributions des habitants"),
    StaffRole.AGENT: _l("répond aux contributions qui concernent son service"),
}
EMAIL_INVALID = _l("Indiquez une adresse e-mail valide, par exemple camille@exemple.fr.")


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, f"{ROLE_LABELS[role]} ({ROLE_HINTS[role]})") for role in StaffRole]


class _RoleAndServices:
    role = RadioField(
        _l("Rôle"),
        choices=role_choices,
        validators=[InputRequired(_l("Choisissez un rôle."))],
    )
    services = MultiCheckboxField(_l("Services (pour un agent)"), coerce=int, validate_choice=True)


class InviteForm(FlaskForm, _RoleAndServices):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            DataRequired(_l("Indiquez l'adresse e-mail de la personne à inviter.")),
            Length(max=254, message=_l("Cette adresse est trop longue.")),
            Email(EMAIL_INVALID, check_deliverability=False),
        ],
    )


class MemberForm(FlaskForm, _RoleAndServices):
    pass


class TotpCodeForm(FlaskForm):
    code = StringField(
        _l("Code à 6 chiffres"),
        validators=[
            InputRequired(_l("Indiquez le code affiché par votre application.")),
            Length(max=12, message=_l("Le code contient 6 chiffres.")),
        ],
    )


class RecoveryCodeForm(FlaskForm):
    recovery_code = StringField(
        _l("Code de secours"),
        validators=[
            InputRequired(_l("Indiquez l'un de vos codes de secours.")),
            Length(max=32, message=_l("Ce code de secours n'est pas valide.")),
        ],
    )


class AcceptWithPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            InputRequired(_l("Indiquez votre mot de passe.")),
            Length(max=256, message=_l("Ce mot de passe est trop long.")),
        ],
    )


class CreateAccountForm(FlaskForm):
    display_name = StringField(
        _l("Nom affiché"),
        validators=[
            DataRequired(
                _l("Indiquez votre nom, tel qu'il apparaîtra à l'équipe et aux habitants.")
            ),
            Length(max=80, message=_l("Le nom ne peut pas dépasser 80 caractères.")),
        ],
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            DataRequired(_l("Choisissez un mot de passe.")),
            Length(max=256, message=_l("Ce mot de passe est trop long.")),
        ],
    )
    password_confirm = PasswordField(
        _l("Confirmation du mot de passe"),
        validators=[
            DataRequired(_l("Saisissez à nouveau le mot de passe.")),
            EqualTo("password", message=_l("Les deux mots de passe ne sont pas identiques.")),
        ],
    )
    accept_terms = BooleanField(
        _l(
            "J'ai lu et j'accepte les conditions générales d'utilisation et la charte de "
            "participation de l'espace"
        ),
        validators=[DataRequired(_l("Vous devez accepter les conditions pour continuer."))],
    )


class ServiceForm(FlaskForm):
    name = StringField(
        _l("Nom du service"),
        validators=[
            DataRequired(_l("Indiquez le nom du service.")),
            Length(max=120, message=_l("Le nom ne peut pas dépasser 120 caractères.")),
        ],
    )
    email = EmailField(
        _l("Adresse e-mail du service"),
        validators=[
            Optional(),
            Length(max=254, message=_l("Cette adresse est trop longue.")),
            Email(EMAIL_INVALID, check_deliverability=False),
        ],
    )


class NeighbourhoodForm(FlaskForm):
    name = StringField(
        _l("Nom du quartier"),
        validators=[
            DataRequired(_l("Indiquez le nom du quartier.")),
            Length(max=120, message=_l("Le nom ne peut pas dépasser 120 caractères.")),
        ],
    )
    position = IntegerField(
        _l("Ordre d'affichage"),
        validators=[
            Optional(),
            NumberRange(min=0, max=10000, message=_l("Indiquez un nombre entre 0 et 10 000.")),
        ],
    )


class SettingsForm(FlaskForm):
    site_name = StringField(
        _l("Nom de l'espace"),
        validators=[
            DataRequired(_l("Indiquez le nom affiché en haut de chaque page.")),
            Length(max=120, message=_l("Le nom ne peut pas dépasser 120 caractères.")),
        ],
    )
    primary_colour = StringField(
        _l("Couleur principale"),
        validators=[DataRequired(_l("Indiquez une couleur au format #rrggbb."))],
    )
    logo_url = StringField(
        _l("Adresse du logo"),
        validators=[Optional(), Length(max=500, message=_l("Cette adresse est trop longue."))],
    )
    logo_file = FileField(_l("Ou envoyer un logo"))
    remove_logo = BooleanField(_l("Retirer le logo actuel"))
    dpo_contact = TextAreaField(
        _l("Contact du délégué à la protection des données"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("Ce texte ne peut pas dépasser 2 000 caractères.")),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something (remove, revoke, delete): CSRF only."""
