"""Billing: plans, subscriptions, invoices and received Stripe events.

Revision ID: s0003
Revises: s0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def _when():
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("tier", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("tenant_kind", sa.String(20), nullable=False),
        sa.Column("min_population", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_population", sa.Integer),
        sa.Column("interval", sa.String(10), nullable=False),
        sa.Column("price_cents_excl_vat", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default="eur"),
        sa.Column("stripe_price_id", sa.String(100)),
        sa.Column("limits", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
        sa.UniqueConstraint("code", name="uq_plans_code"),
        sa.UniqueConstraint("stripe_price_id", name="uq_plans_stripe_price_id"),
        sa.CheckConstraint(
            "tenant_kind IN ('commune', 'epci', 'departement', 'region')",
            name="ck_plans_tenant_kind",
        ),
        sa.CheckConstraint("interval IN ('month', 'year')", name="ck_plans_interval"),
        sa.CheckConstraint("price_cents_excl_vat >= 0", name="ck_plans_price_positive"),
        sa.CheckConstraint(
            "max_population IS NULL OR max_population > min_population",
            name="ck_plans_population_bounds",
        ),
        schema="public",
    )

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("plan_id", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("state_changed_at", _when()),
        sa.Column("collection_method", sa.String(30)),
        sa.Column("stripe_customer_id", sa.String(100)),
        sa.Column("stripe_subscription_id", sa.String(100)),
        sa.Column("stripe_status", sa.String(30)),
        sa.Column("stripe_created_at", _when()),
        sa.Column("pending_stripe", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("trial_ends_at", _when()),
        sa.Column("current_period_end", _when()),
        sa.Column("past_due_since", _when()),
        sa.Column("grace_until", _when()),
        sa.Column("read_only_since", _when()),
        sa.Column("canceled_at", _when()),
        sa.Column("retention_until", _when()),
        sa.Column("archived_at", _when()),
        sa.Column("siret", sa.String(14)),
        sa.Column("engagement_number", sa.String(50)),
        sa.Column("service_code", sa.String(100)),
        sa.Column("purchase_order", sa.String(50)),
        sa.Column("billing_email", sa.String(254)),
        sa.Column("stripe_attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reminders", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.UniqueConstraint("tenant_id", name="uq_subscriptions_tenant_id"),
        sa.UniqueConstraint(
            "stripe_subscription_id", name="uq_subscriptions_stripe_subscription_id"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_subscriptions_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["public.plans.id"], name="fk_subscriptions_plan_id_plans"
        ),
        sa.CheckConstraint(
            "state IN ('trialing', 'active', 'past_due', 'read_only', 'canceled', 'archived')",
            name="ck_subscriptions_state",
        ),
        sa.CheckConstraint(
            "collection_method IS NULL OR collection_method IN "
            "('charge_automatically', 'send_invoice')",
            name="ck_subscriptions_collection_method",
        ),
        sa.CheckConstraint(
            "siret IS NULL OR siret ~ '^[0-9]{14}$'", name="ck_subscriptions_siret_format"
        ),
        schema="public",
    )
    op.create_index(
        "ix_public_subscriptions_plan_id", "subscriptions", ["plan_id"], schema="public"
    )
    op.create_index(
        "ix_public_subscriptions_stripe_customer_id",
        "subscriptions",
        ["stripe_customer_id"],
        schema="public",
    )

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("subscription_id", sa.Integer),
        sa.Column("stripe_invoice_id", sa.String(100)),
        sa.Column("number", sa.String(100)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default="eur"),
        sa.Column("total_cents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total_excl_vat_cents", sa.Integer),
        sa.Column("amount_due_cents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("amount_paid_cents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("issued_at", _when()),
        sa.Column("due_at", _when()),
        sa.Column("period_start", _when()),
        sa.Column("period_end", _when()),
        sa.Column("paid_at", _when()),
        sa.Column("paid_out_of_band", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("out_of_band_reference", sa.String(200)),
        sa.Column("hosted_invoice_url", sa.Text),
        sa.Column("invoice_pdf_url", sa.Text),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("stripe_invoice_id", name="uq_invoices_stripe_invoice_id"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_invoices_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["public.subscriptions.id"],
            name="fk_invoices_subscription_id_subscriptions",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'paid', 'uncollectible', 'void')",
            name="ck_invoices_status",
        ),
        schema="public",
    )
    op.create_index("ix_public_invoices_tenant_id", "invoices", ["tenant_id"], schema="public")
    op.create_index(
        "ix_public_invoices_subscription_id", "invoices", ["subscription_id"], schema="public"
    )

    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("received_at", _when(), server_default=sa.func.now(), nullable=False),
        sa.Column("processed_at", _when()),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("source", sa.String(20), nullable=False, server_default="webhook"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("outcome", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_stripe_events"),
        schema="public",
    )
    op.create_index(
        "ix_public_stripe_events_processed_at", "stripe_events", ["processed_at"], schema="public"
    )


def downgrade() -> None:
    op.drop_table("stripe_events", schema="public")
    op.drop_table("invoices", schema="public")
    op.drop_table("subscriptions", schema="public")
    op.drop_table("plans", schema="public")
