"""French labels of the billing values (states, intervals, invoice statuses, limits)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from billing.models import BillingState, CollectionMethod, InvoiceStatus, PlanInterval

STATE_LABELS = {
    BillingState.TRIALING: _l("Période d'essai"),
    BillingState.ACTIVE: _l("Abonnement actif"),
    BillingState.PAST_DUE: _l("Paiement en retard"),
    BillingState.READ_ONLY: _l("Lecture seule"),
    BillingState.CANCELED: _l("Résilié"),
    BillingState.ARCHIVED: _l("Archivé"),
}
NO_SUBSCRIPTION_LABEL = _l("Sans abonnement")

INTERVAL_LABELS = {
    PlanInterval.MONTH: _l("par mois"),
    PlanInterval.YEAR: _l("par an"),
}
INTERVAL_NAMES = {
    PlanInterval.MONTH: _l("Mensuel"),
    PlanInterval.YEAR: _l("Annuel"),
}

COLLECTION_LABELS = {
    CollectionMethod.CARD: _l("Carte bancaire"),
    CollectionMethod.INVOICE: _l("Facture (mandat administratif)"),
}

INVOICE_STATUS_LABELS = {
    InvoiceStatus.DRAFT: _l("Brouillon"),
    InvoiceStatus.OPEN: _l("À payer"),
    InvoiceStatus.PAID: _l("Payée"),
    InvoiceStatus.UNCOLLECTIBLE: _l("Irrécouvrable"),
    InvoiceStatus.VOID: _l("Annulée"),
}

KIND_LABELS = {
    "commune": _l("Commune"),
    "epci": _l("Intercommunalité"),
    "departement": _l("Département"),
    "region": _l("Région"),
}

#: Counted limits: "how many … at most".
LIMIT_LABELS = {
    "open_processes": _l("Démarches ouvertes en même temps"),
    "staff_members": _l("Membres de l'équipe"),
}
#: Features a plan includes or not.
FEATURE_LABELS = {
    "budget_module": _l("Budget participatif"),
    "custom_domain": _l("Nom de domaine personnalisé"),
}


def label(mapping: dict, value, default: str = "—") -> str:
    if value is None:
        return default
    return str(mapping.get(value, value))


def cents_eur(cents) -> str:
    """``4900`` → ``49,00 €`` (amounts are stored in cents)."""
    from decimal import Decimal

    from core.i18n import money_eur

    return money_eur(Decimal(int(cents or 0)) / 100)
