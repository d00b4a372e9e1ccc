"""Forms of the collectivité sign-up (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from billing import signup


class Required(DataRequired):
    """``DataRequired`` without the ``required`` flag: every field of these forms is needed
    (the page says so once), and no browser bubble should pre-empt the French messages."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags = {}


def _single_line(value: str | None) -> str | None:
    """Names end up in mail headers and texts: no line breaks, no surrounding blanks."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) else value


def _email_field(label, hint_required) -> EmailField:
    # Any valid address is accepted, free webmail included: many small communes run their
    # town hall on an @orange.fr or @wanadoo.fr address, and refusing it would shut them out.
    return EmailField(
        label,
        filters=[_lower],
        validators=[
            Required(hint_required),
            Length(max=254, message=_l("Cette adresse est trop longue.")),
            Email(
                _l("Indiquez une adresse e-mail valide, par exemple camille@mairie-exemple.fr."),
                check_deliverability=False,
            ),
        ],
    )


def _honeypot_field() -> StringField:
    # Hidden from people (``hidden`` attribute), filled in by naive robots.
    return StringField(_l("Laissez ce champ vide"), filters=[_single_line])


class SignupForm(FlaskForm):
    agent_name = StringField(
        _l("Vos prénom et nom"),
        filters=[_single_line],
        validators=[
            Required(_l("Indiquez vos prénom et nom.")),
            Length(max=120, message=_l("Ce nom ne peut pas dépasser 120 caractères.")),
        ],
    )
    agent_role = StringField(
        _l("Votre fonction"),
        filters=[_single_line],
        validators=[
            Required(_l("Indiquez votre fonction dans la collectivité.")),
            Length(max=120, message=_l("Cette fonction ne peut pas dépasser 120 caractères.")),
        ],
    )
    email = _email_field(
        _l("Votre adresse e-mail professionnelle"), _l("Indiquez votre adresse e-mail.")
    )
    slug = StringField(
        _l("Adresse de votre espace"),
        filters=[_lower],
        validators=[Required(_l("Choisissez l'adresse de votre espace."))],
    )
    accept_terms = BooleanField(
        _l("J'accepte les conditions d'utilisation de la plateforme Pnyx"),
        validators=[Required(_l("Vous devez accepter les conditions d'utilisation."))],
    )
    site_internet = _honeypot_field()

    def validate_slug(self, field) -> None:
        if not field.data:
            return  # Required says so
        try:
            field.data = signup.check_slug(field.data)
        except signup.SignupError as error:
            raise ValidationError(str(error)) from error

    @property
    def is_robot(self) -> bool:
        return bool(self.site_internet.data)


class ContactAdminsForm(FlaskForm):
    name = StringField(
        _l("Vos prénom et nom"),
        filters=[_single_line],
        validators=[
            Required(_l("Indiquez vos prénom et nom.")),
            Length(max=120, message=_l("Ce nom ne peut pas dépasser 120 caractères.")),
        ],
    )
    email = _email_field(_l("Votre adresse e-mail"), _l("Indiquez votre adresse e-mail."))
    message = TextAreaField(
        _l("Votre message"),
        validators=[
            Required(_l("Écrivez votre message.")),
            Length(
                max=signup.CONTACT_MESSAGE_MAX_LENGTH,
                message=_l(
                    "Votre message ne peut pas dépasser %(n)d caractères.",
                    n=signup.CONTACT_MESSAGE_MAX_LENGTH,
                ),
            ),
        ],
    )
    site_internet = _honeypot_field()

    @property
    def is_robot(self) -> bool:
        return bool(self.site_internet.data)
