"""Forms of the platform accounts (log-in, second factor, TOTP enrolment)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from core.forms import FlaskForm


class Required(InputRequired):
    """``InputRequired`` without the ``required`` flag: every field of these short forms is
    needed, so none is marked "(obligatoire)" (mark the exception, not the rule).

    It also keeps clear of a scoping bug of ``macros/forms.html``: its ``{% set _ = … %}``
    shadows gettext, and the "(obligatoire)" marker then fails to render."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags = {}


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            Required(message=_l("Indiquez votre adresse e-mail.")),
            Length(max=254, message=_l("Cette adresse e-mail est trop longue.")),
        ],
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            Required(message=_l("Indiquez votre mot de passe.")),
            Length(max=256, message=_l("Ce mot de passe est trop long.")),
        ],
    )
    next = HiddenField()


class TotpCodeForm(FlaskForm):
    code = StringField(
        _l("Code à 6 chiffres"),
        validators=[
            Required(message=_l("Indiquez le code affiché par votre application.")),
            Length(max=12, message=_l("Le code contient 6 chiffres.")),
        ],
    )


class RecoveryCodeForm(FlaskForm):
    recovery_code = StringField(
        _l("Code de secours"),
        validators=[
            Required(message=_l("Indiquez l'un de vos codes de secours.")),
            Length(max=32, message=_l("Ce code de secours n'est pas valide.")),
        ],
    )


class ActionForm(FlaskForm):
    """A button (approve, suspend…): CSRF only."""
