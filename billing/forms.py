"""Forms of the billing pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, EmailField, RadioField, SelectField, StringField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, Regexp

from billing.labels import INTERVAL_LABELS
from billing.models import Plan
from core.forms import FlaskForm, IntegerField
from core.i18n import money_eur


class Required(InputRequired):
    """``InputRequired`` without the ``required`` flag: these forms mark the optional fields
    instead (their hint starts with "Facultatif")."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags = {}


def plan_label(plan: Plan) -> str:
    """« Commune de moins de 3 500 habitants — mensuel : 49,00 € HT par mois (58,80 € TTC) »."""
    # gettext (a plain str, escaped where shown): never a lazy string around data.
    return _(
        "%(name)s : %(price)s HT %(interval)s (%(total)s TTC)",
        name=plan.name,
        price=money_eur(Decimal(plan.price_cents_excl_vat) / 100),
        interval=INTERVAL_LABELS.get(plan.interval, ""),
        total=money_eur(Decimal(plan.price_cents_incl_vat) / 100),
    )


def plan_choices(plans: list[Plan]) -> list[tuple[str, str]]:
    return [(plan.code, plan_label(plan)) for plan in plans]


CHOOSE_PLAN = _l("Choisissez une offre.")


class CardCheckoutForm(FlaskForm):
    plan = RadioField(_l("Offre"), validators=[Required(CHOOSE_PLAN)], choices=[])


class InvoiceSubscriptionForm(FlaskForm):
    plan = RadioField(_l("Offre"), validators=[Required(CHOOSE_PLAN)], choices=[])
    siret = StringField(
        _l("Numéro SIRET de la collectivité"),
        validators=[
            Required(_l("Indiquez le numéro SIRET de la collectivité (14 chiffres).")),
            Length(max=30, message=_l("Un numéro SIRET compte 14 chiffres.")),
        ],
    )
    purchase_order = StringField(
        _l("Numéro de bon de commande"),
        validators=[
            Required(_l("Indiquez le numéro du bon de commande.")),
            Length(max=50, message=_l("50 caractères au plus.")),
        ],
    )
    engagement_number = StringField(
        _l("Numéro d'engagement juridique"),
        validators=[Optional(), Length(max=50, message=_l("50 caractères au plus."))],
    )
    service_code = StringField(
        _l("Code service Chorus Pro"),
        validators=[Optional(), Length(max=100, message=_l("100 caractères au plus."))],
    )
    billing_email = EmailField(
        _l("Adresse e-mail du service financier"),
        validators=[
            Optional(),
            Email(message=_l("Indiquez une adresse e-mail valide, par exemple compta@mairie.fr.")),
            Length(max=254, message=_l("Cette adresse e-mail est trop longue.")),
        ],
    )


class ChangePlanForm(FlaskForm):
    plan = SelectField(_l("Nouvelle offre"), validators=[Required(CHOOSE_PLAN)], choices=[])


class ConfirmForm(FlaskForm):
    """A button only (CSRF token included)."""


# --------------------------------------------------------------------------- operator


class ExtendTrialForm(FlaskForm):
    days = IntegerField(
        _l("Jours d'essai supplémentaires"),
        default=15,
        validators=[
            Required(_l("Indiquez un nombre de jours.")),
            NumberRange(min=1, max=365, message=_l("Entre 1 et 365 jours.")),
        ],
    )


class OperatorChangePlanForm(FlaskForm):
    plan = SelectField(_l("Offre"), validators=[Required(CHOOSE_PLAN)], choices=[])


class MarkPaidForm(FlaskForm):
    reference = StringField(
        _l("Référence du virement ou du mandat de paiement"),
        validators=[
            Required(_l("Indiquez la référence du virement (ou du mandat de paiement).")),
            Length(max=200, message=_l("200 caractères au plus.")),
        ],
    )


STRIPE_PRICE_FORMAT = _l("Un identifiant de prix Stripe commence par « price_ ».")


class PlanForm(FlaskForm):
    name = StringField(
        _l("Nom de l'offre"),
        validators=[
            Required(_l("Indiquez le nom de l'offre.")),
            Length(max=200, message=_l("200 caractères au plus.")),
        ],
    )
    price_euros = DecimalField(
        _l("Prix hors taxes, en euros"),
        places=2,
        validators=[
            Required(_l("Indiquez le prix hors taxes.")),
            NumberRange(min=0, max=1_000_000, message=_l("Entre 0 et 1 000 000 €.")),
        ],
    )
    stripe_price_id = StringField(
        _l("Prix Stripe"),
        validators=[
            Optional(),
            Length(max=100, message=_l("100 caractères au plus.")),
            Regexp(r"^price_[A-Za-z0-9_]+$", message=STRIPE_PRICE_FORMAT),
        ],
    )
    open_processes = IntegerField(
        _l("Démarches ouvertes en même temps"),
        validators=[Optional(), NumberRange(min=0, max=10_000, message=_l("Entre 0 et 10 000."))],
    )
    staff_members = IntegerField(
        _l("Membres de l'équipe"),
        validators=[Optional(), NumberRange(min=0, max=10_000, message=_l("Entre 0 et 10 000."))],
    )
    budget_module = BooleanField(_l("Budget participatif inclus"))
    custom_domain = BooleanField(_l("Nom de domaine personnalisé inclus"))
    active = BooleanField(_l("Offre proposée aux collectivités"))
