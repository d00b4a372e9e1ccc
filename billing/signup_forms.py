"""Forms of the collectivité sign-up (CSRF through Flask-WTF)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from billing import signup
from core.forms import FlaskForm


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


PROOF_KIND_CHOICES = [
    ("", _l("Choisissez…")),
    ("bon_de_commande", _l("Bon de commande signé")),
    ("deliberation", _l("Délibération")),
    ("courrier_officiel", _l("Courrier officiel de la collectivité")),
]
_PHONE_RE = re.compile(r"^\+?[0-9 .()-]{6,25}$")


def _person_name_field() -> StringField:
    """The name of the person writing (requester, claimant, contact): one line."""
    return StringField(
        _l("Vos prénom et nom"),
        filters=[_single_line],
        validators=[
            Required(_l("Indiquez vos prénom et nom.")),
            Length(max=120, message=_l("Ce nom ne peut pas dépasser 120 caractères.")),
        ],
    )


def _person_role_field() -> StringField:
    return StringField(
        _l("Votre fonction"),
        filters=[_single_line],
        validators=[
            Required(_l("Indiquez votre fonction dans la collectivité.")),
            Length(max=120, message=_l("Cette fonction ne peut pas dépasser 120 caractères.")),
        ],
    )


def _phone_field(label, required_message) -> StringField:
    return StringField(
        label,
        filters=[_single_line],
        validators=[Required(required_message), Length(max=30)],
    )


def validate_phone(form, field) -> None:
    if field.data and (
        not _PHONE_RE.fullmatch(field.data) or sum(c.isdigit() for c in field.data) < 6
    ):
        raise ValidationError(_l("Indiquez un numéro de téléphone, par exemple 03 89 32 58 58."))


def _proof_kind_field() -> SelectField:
    return SelectField(_l("Type de justificatif"), choices=PROOF_KIND_CHOICES, default="")


def _proof_field(label=None) -> FileField:
    return FileField(label or _l("Justificatif (PDF ou image)"))


class ProofMixin:
    """A proof is optional on the form, but a file needs its kind, and a kind its file."""

    def validate_proof_kind(self, field) -> None:
        if self.proof.data and not field.data:
            raise ValidationError(_l("Choisissez le type de justificatif."))

    def validate_proof(self, field) -> None:
        if self.proof_kind.data and not field.data:
            raise ValidationError(_l("Joignez le justificatif (PDF ou image)."))


def _honeypot_field() -> StringField:
    # Hidden from people (``hidden`` attribute), filled in by naive robots.
    return StringField(_l("Laissez ce champ vide"), filters=[_single_line])


class SignupForm(ProofMixin, FlaskForm):
    agent_name = _person_name_field()
    agent_role = _person_role_field()
    agent_phone = _phone_field(
        _l("Votre numéro de téléphone professionnel"),
        _l("Indiquez un numéro où l'équipe Pnyx peut vous joindre."),
    )
    email = _email_field(
        _l("Votre adresse e-mail professionnelle"), _l("Indiquez votre adresse e-mail.")
    )
    # The choices are the official name's variants nobody has taken (set by the view).
    slug = RadioField(
        _l("Adresse de votre espace"),
        filters=[_lower],
        validators=[Required(_l("Choisissez l'adresse de votre espace."))],
        validate_choice=False,
    )
    proof_kind = _proof_kind_field()
    proof = _proof_field()
    accept_terms = BooleanField(
        _l("J'accepte les conditions d'utilisation de la plateforme Pnyx"),
        validators=[Required(_l("Vous devez accepter les conditions d'utilisation."))],
    )
    site_internet = _honeypot_field()

    def __init__(self, *args, collectivite=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.collectivite = collectivite

    def validate_agent_phone(self, field) -> None:
        validate_phone(self, field)

    def validate_slug(self, field) -> None:
        if not field.data:
            return  # Required says so
        try:
            field.data = signup.check_slug(field.data, self.collectivite)
        except signup.SignupError as error:
            raise ValidationError(str(error)) from error

    @property
    def is_robot(self) -> bool:
        return bool(self.site_internet.data)


class ContactAdminsForm(FlaskForm):
    name = _person_name_field()
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


class ProofUploadForm(ProofMixin, FlaskForm):
    """A proof added from the follow-up page while the request is open."""

    proof_kind = SelectField(
        _l("Type de justificatif"),
        choices=PROOF_KIND_CHOICES,
        validators=[Required(_l("Choisissez le type de justificatif."))],
    )
    proof = _proof_field()

    def validate_proof(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Joignez le justificatif (PDF ou image)."))


class ConfirmEmailForm(FlaskForm):
    """A button: mail scanners that open the link do not confirm anything by themselves."""


class DisputeForm(ProofMixin, FlaskForm):
    name = _person_name_field()
    role = _person_role_field()
    phone = _phone_field(
        _l("Votre numéro de téléphone professionnel"),
        _l("Indiquez un numéro où l'équipe Pnyx peut vous joindre."),
    )
    email = _email_field(
        _l("Votre adresse e-mail professionnelle"), _l("Indiquez votre adresse e-mail.")
    )
    message = TextAreaField(
        _l("Pourquoi cet espace n'est-il pas celui de votre collectivité ?"),
        validators=[
            Required(_l("Expliquez votre demande.")),
            Length(
                max=signup.CONTACT_MESSAGE_MAX_LENGTH,
                message=_l(
                    "Votre message ne peut pas dépasser %(n)d caractères.",
                    n=signup.CONTACT_MESSAGE_MAX_LENGTH,
                ),
            ),
        ],
    )
    proof_kind = _proof_kind_field()
    proof = _proof_field()
    site_internet = _honeypot_field()

    def validate_phone(self, field) -> None:
        validate_phone(self, field)

    @property
    def is_robot(self) -> bool:
        return bool(self.site_internet.data)
