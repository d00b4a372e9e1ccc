"""The democratic self-diagnostic of a network: dimensions × levels defined by the
coordinator, one response per member territory and year (public schema)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db
from network.core.models import Network
from tenants.models import Tenant


class DiagnosticDimension(db.Model):
    __tablename__ = "network_diagnostic_dimensions"
    __table_args__ = (
        sa.Index("ix_network_diagnostic_dimensions_network_id", "network_id"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(sa.ForeignKey("public.networks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # Level labels, lowest first: level n is levels[n - 1].
    levels: Mapped[list[str]] = mapped_column(JSONB, default=list)
    archived_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<DiagnosticDimension {self.id} {self.name!r} ({len(self.levels or [])} levels)>"


class DiagnosticResponse(TimestampMixin, db.Model):
    __tablename__ = "network_diagnostic_responses"
    __table_args__ = (
        sa.UniqueConstraint(
            "network_id", "tenant_id", "year", name="uq_network_diagnostic_responses_network_id"
        ),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(sa.ForeignKey("public.networks.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("public.tenants.id", ondelete="CASCADE"))
    year: Mapped[int]
    # {"<dimension id>": level}
    scores: Mapped[dict] = mapped_column(JSONB, default=dict)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(
            "public.platform_users.id",
            ondelete="SET NULL",
            name="fk_network_diagnostic_responses_submitted_by_id",
        )
    )

    network: Mapped[Network] = relationship()
    tenant: Mapped[Tenant] = relationship()

    def __repr__(self) -> str:
        return f"<DiagnosticResponse n{self.network_id} t{self.tenant_id} {self.year}>"
