"""Metric snapshots computed by the per-tenant job, and the per-network sharing consent
(public schema: the network reads these, never a tenant schema)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import db
from network.core import models as _network_models  # noqa: F401 - public.networks for the FK


class TenantMetricSnapshot(db.Model):
    """One figure of one tenant: a calendar month (``span='month'``) or the twelve months
    ending with ``period``'s month (``span='year'``). ``value`` is the raw figure; it never
    leaves the database without the small-count rule (queries.public_value)."""

    __tablename__ = "tenant_metric_snapshots"
    __table_args__ = (
        sa.UniqueConstraint(
            "tenant_id", "metric", "period", "span", name="uq_tenant_metric_snapshots_tenant_id"
        ),
        sa.CheckConstraint("span IN ('month', 'year')", name="span"),
        sa.CheckConstraint("extract(day FROM period) = 1", name="first_of_month"),
        sa.Index("ix_tenant_metric_snapshots_metric_period", "metric", "span", "period"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("public.tenants.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(sa.String(40))
    period: Mapped[date] = mapped_column(sa.Date)
    span: Mapped[str] = mapped_column(sa.String(10))
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    base_count: Mapped[int] = mapped_column(default=0, server_default="0")
    computed_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    def __repr__(self) -> str:
        return (
            f"<TenantMetricSnapshot t{self.tenant_id} {self.metric} {self.span} "
            f"{self.period} = {self.value} (n={self.base_count})>"
        )


class NetworkMetricShare(db.Model):
    """Consent: ``tenant_id`` shares ``metric`` with ``network_id``. No row, no figure."""

    __tablename__ = "network_metric_shares"
    __table_args__ = (
        sa.Index("ix_network_metric_shares_tenant_id", "tenant_id"),
        {"schema": "public"},
    )

    network_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.networks.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="CASCADE"), primary_key=True
    )
    metric: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    def __repr__(self) -> str:
        return f"<NetworkMetricShare n{self.network_id} t{self.tenant_id} {self.metric}>"
