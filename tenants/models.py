"""Tenants and their hosts, in the public schema."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db, schema_for_tenant_id, str_enum


class TenantKind(enum.StrEnum):
    COMMUNE = "commune"
    EPCI = "epci"
    DEPARTEMENT = "departement"
    REGION = "region"


class TenantStatus(enum.StrEnum):
    PROVISIONING = "provisioning"
    # A self-service sign-up, built but not yet shown to citizens: the requester prepares
    # it while the operator (or an official e-mail domain) confirms they speak for the
    # collectivité (tenants/verification.py).
    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ARCHIVED = "archived"


class MigrationState(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"


class InvalidTenantTransition(ValueError):
    """A status change that the tenant lifecycle does not allow."""


class Tenant(TimestampMixin, db.Model):
    __tablename__ = "tenants"
    __table_args__ = (
        sa.UniqueConstraint("kind", "code"),
        sa.CheckConstraint("slug ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'", name="slug_format"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[TenantKind] = mapped_column(str_enum(TenantKind, "tenant_kind"))
    code: Mapped[str] = mapped_column(sa.String(12))
    siren: Mapped[str | None] = mapped_column(sa.String(9))
    population: Mapped[int] = mapped_column(sa.Integer, default=0)
    departement: Mapped[str | None] = mapped_column(sa.String(3))
    region: Mapped[str | None] = mapped_column(sa.String(3))
    status: Mapped[TenantStatus] = mapped_column(
        str_enum(TenantStatus, "tenant_status"), default=TenantStatus.PROVISIONING
    )
    migration_state: Mapped[MigrationState] = mapped_column(
        str_enum(MigrationState, "migration_state"), default=MigrationState.OK
    )
    migration_error: Mapped[str | None] = mapped_column(sa.Text)
    archived_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    archive_path: Mapped[str | None] = mapped_column(sa.String(500))
    # Self-service sign-ups must be verified before citizens see them; operator-created
    # tenants (``flask tenants create``) need not be.
    verification_required: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    domains: Mapped[list[Domain]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="Domain.id"
    )

    @property
    def schema(self) -> str:
        return schema_for_tenant_id(self.id)

    @property
    def primary_host(self) -> str | None:
        for domain in self.domains:
            if domain.is_primary:
                return domain.host
        return self.domains[0].host if self.domains else None

    @property
    def is_verified(self) -> bool:
        return not self.verification_required or self.verified_at is not None

    # Lifecycle: model methods that raise, so every entry point obeys the same rules.
    def activate(self) -> None:
        if self.status == TenantStatus.ARCHIVED:
            raise InvalidTenantTransition("an archived tenant cannot be reactivated")
        if self.status == TenantStatus.PROVISIONING:
            raise InvalidTenantTransition("a tenant being provisioned is activated by its job")
        # Lifting a suspension never skips the verification of a self-service sign-up.
        self.status = TenantStatus.ACTIVE if self.is_verified else TenantStatus.PENDING_VERIFICATION

    def suspend(self) -> None:
        if self.status not in (TenantStatus.ACTIVE, TenantStatus.PENDING_VERIFICATION):
            raise InvalidTenantTransition(
                f"only an active or pending tenant can be suspended ({self.status})"
            )
        self.status = TenantStatus.SUSPENDED

    def mark_verified(self, at: datetime) -> None:
        """The collectivité is confirmed to be behind the space: citizens may see it."""
        if self.status == TenantStatus.ARCHIVED:
            raise InvalidTenantTransition("an archived tenant cannot be verified")
        self.verified_at = at
        if self.status == TenantStatus.PENDING_VERIFICATION:
            self.status = TenantStatus.ACTIVE

    def archive(self, archive_path: str) -> None:
        if self.status == TenantStatus.ARCHIVED:
            raise InvalidTenantTransition("tenant already archived")
        self.status = TenantStatus.ARCHIVED
        self.archive_path = archive_path
        self.archived_at = sa.func.now()


class Domain(TimestampMixin, db.Model):
    __tablename__ = "domains"
    __table_args__ = (
        # At most one primary host per tenant.
        sa.Index(
            "uq_domains_primary_per_tenant",
            "tenant_id",
            unique=True,
            postgresql_where=sa.text("is_primary"),
        ),
        sa.CheckConstraint("host = lower(host) AND host !~ '[.:]$'", name="host_normalised"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(253), unique=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True
    )
    is_primary: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    tenant: Mapped[Tenant] = relationship(back_populates="domains")


class TenantSetting(db.Model):
    """A setting of one collectivité's space (in its own schema)."""

    __tablename__ = "settings"
    __table_args__ = {"schema": "tenant"}

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    value: Mapped[dict | list | str | int | bool | None] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )
