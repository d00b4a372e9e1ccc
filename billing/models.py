"""Plans, subscriptions, invoices and received Stripe events (public schema).

A tenant has at most one subscription row for its whole life: the Stripe subscription
behind it may change (a new card subscription after a cancellation), the row stays. Its
``state`` is the billing state the product acts on; the fields it is derived from (Stripe's
status, open invoices and their due dates, the trial end) are stored next to it, and
:func:`billing.services.refresh_state` recomputes it from them.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db
from tenants.models import Tenant

#: French VAT on the service, in percent: prices are stored excluding VAT.
VAT_RATE_PERCENT = 20


class PlanInterval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


class BillingState(enum.StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"  # an invoice is overdue, still within the grace period
    READ_ONLY = "read_only"  # citizens read, nothing new can be written
    CANCELED = "canceled"  # read-only too; data kept until retention_until
    ARCHIVED = "archived"  # exported and archived: final


class CollectionMethod(enum.StrEnum):
    CARD = "charge_automatically"  # Stripe Checkout + Customer Portal
    INVOICE = "send_invoice"  # mandat administratif: invoice paid by transfer


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    VOID = "void"


#: States in which a tenant site refuses every write.
READ_ONLY_STATES = frozenset({BillingState.READ_ONLY, BillingState.CANCELED, BillingState.ARCHIVED})
#: States that count in the monthly recurring revenue.
REVENUE_STATES = frozenset({BillingState.ACTIVE, BillingState.PAST_DUE})
TENANT_KINDS = ("commune", "epci", "departement", "region")


def _check_in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def vat_cents(amount_cents: int) -> int:
    """VAT on an amount excluding VAT, rounded half up to the cent."""
    return (amount_cents * VAT_RATE_PERCENT + 50) // 100


class Plan(TimestampMixin, db.Model):
    """An offer for one kind of collectivité and one population stratum, per month or year."""

    __tablename__ = "plans"
    __table_args__ = (
        sa.CheckConstraint(_check_in("tenant_kind", TENANT_KINDS), name="tenant_kind"),
        sa.CheckConstraint(_check_in("interval", PlanInterval), name="interval"),
        sa.CheckConstraint("price_cents_excl_vat >= 0", name="price_positive"),
        sa.CheckConstraint(
            "max_population IS NULL OR max_population > min_population", name="population_bounds"
        ),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    # Monthly and yearly plans of one offer share their tier ("commune-m").
    tier: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    tenant_kind: Mapped[str] = mapped_column(sa.String(20))
    # Inhabitants: min included, max excluded; NULL max means no upper bound.
    min_population: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    max_population: Mapped[int | None] = mapped_column(sa.Integer)
    interval: Mapped[str] = mapped_column(sa.String(10))
    price_cents_excl_vat: Mapped[int] = mapped_column(sa.Integer)
    currency: Mapped[str] = mapped_column(sa.String(3), default="eur", server_default="eur")
    stripe_price_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    # {"open_processes": 3, "budget_module": false}: a missing key or null is unlimited.
    limits: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=sa.text("'{}'::jsonb"))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    position: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<Plan {self.code!r} {self.price_cents_excl_vat}c/{self.interval}>"

    @property
    def vat_cents(self) -> int:
        return vat_cents(self.price_cents_excl_vat)

    @property
    def price_cents_incl_vat(self) -> int:
        return self.price_cents_excl_vat + self.vat_cents

    @property
    def monthly_cents_excl_vat(self) -> int:
        """What the plan brings in per month (a yearly price spread over 12 months)."""
        if self.interval == PlanInterval.YEAR:
            return round(self.price_cents_excl_vat / 12)
        return self.price_cents_excl_vat

    def covers(self, population: int) -> bool:
        return self.min_population <= population and (
            self.max_population is None or population < self.max_population
        )

    def limit(self, key: str):
        return (self.limits or {}).get(key)


class Subscription(TimestampMixin, db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.CheckConstraint(_check_in("state", BillingState), name="state"),
        sa.CheckConstraint(
            f"collection_method IS NULL OR {_check_in('collection_method', CollectionMethod)}",
            name="collection_method",
        ),
        sa.CheckConstraint("siret IS NULL OR siret ~ '^[0-9]{14}$'", name="siret_format"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="CASCADE"), unique=True
    )
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("public.plans.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default=BillingState.TRIALING)
    state_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    collection_method: Mapped[str | None] = mapped_column(sa.String(30))
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    # Stripe's own status (active, past_due, canceled…) as last read from Stripe.
    stripe_status: Mapped[str | None] = mapped_column(sa.String(30))
    stripe_created_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # An invoice subscription recorded while Stripe was not configured: sent on reconcile.
    pending_stripe: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    trial_ends_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    past_due_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    grace_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    read_only_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    retention_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The buyer, for invoices (Chorus Pro).
    siret: Mapped[str | None] = mapped_column(sa.String(14))
    engagement_number: Mapped[str | None] = mapped_column(sa.String(50))
    service_code: Mapped[str | None] = mapped_column(sa.String(100))
    purchase_order: Mapped[str | None] = mapped_column(sa.String(50))
    billing_email: Mapped[str | None] = mapped_column(sa.String(254))
    # Bumped by each user action that calls Stripe: part of the idempotency keys.
    stripe_attempt: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # Reminder e-mails already sent: {"trial-7-2026-12-01": "<iso time>", ...}.
    reminders: Mapped[dict] = mapped_column(
        JSONB, default=dict, server_default=sa.text("'{}'::jsonb")
    )

    tenant: Mapped[Tenant] = relationship()
    plan: Mapped[Plan] = relationship()
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="subscription", order_by="Invoice.issued_at.desc()"
    )

    def __repr__(self) -> str:
        return f"<Subscription tenant={self.tenant_id} {self.state}>"

    @property
    def has_payment_arrangement(self) -> bool:
        """A card or invoice subscription exists (in Stripe, or recorded locally)."""
        return self.stripe_subscription_id is not None or self.pending_stripe

    def effective_state(self, now: datetime, grace: timedelta) -> str:
        """The state as of ``now`` from the stored fields, without waiting for the daily
        sweep to write it (a grace period or a trial may have ended since)."""
        state = self.state
        if state in READ_ONLY_STATES:
            return state
        if state == BillingState.PAST_DUE and self.grace_until and now >= self.grace_until:
            return BillingState.READ_ONLY
        if (
            state == BillingState.TRIALING
            and not self.has_payment_arrangement
            and self.trial_ends_at is not None
            and now >= self.trial_ends_at
        ):
            if now >= self.trial_ends_at + grace:
                return BillingState.CANCELED
            return BillingState.READ_ONLY
        return state


class Invoice(TimestampMixin, db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        sa.CheckConstraint(_check_in("status", InvoiceStatus), name="status"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.subscriptions.id", ondelete="CASCADE"), index=True
    )
    stripe_invoice_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    number: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(20))
    currency: Mapped[str] = mapped_column(sa.String(3), default="eur", server_default="eur")
    total_cents: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    total_excl_vat_cents: Mapped[int | None] = mapped_column(sa.Integer)
    amount_due_cents: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    amount_paid_cents: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    issued_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The due date (mandat: issue + 30 days); for card invoices, when payment was attempted.
    due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    period_start: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    period_end: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    paid_out_of_band: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    out_of_band_reference: Mapped[str | None] = mapped_column(sa.String(200))
    hosted_invoice_url: Mapped[str | None] = mapped_column(sa.Text)
    invoice_pdf_url: Mapped[str | None] = mapped_column(sa.Text)

    subscription: Mapped[Subscription | None] = relationship(back_populates="invoices")

    def __repr__(self) -> str:
        return f"<Invoice {self.stripe_invoice_id or self.id} {self.status}>"

    def is_overdue(self, now: datetime) -> bool:
        return self.status == InvoiceStatus.OPEN and self.due_at is not None and self.due_at <= now


class StripeEvent(db.Model):
    """A Stripe event received once: the id is the primary key, a redelivery is a no-op."""

    __tablename__ = "stripe_events"
    __table_args__ = {"schema": "public"}

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(100))
    received_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    processed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)
    payload: Mapped[dict] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(sa.String(20), default="webhook", server_default="webhook")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # What processing did: "synced", or why it was skipped ("unknown tenant"...).
    outcome: Mapped[str | None] = mapped_column(sa.String(200))

    def __repr__(self) -> str:
        return f"<StripeEvent {self.id} {self.type}>"
