"""Networks of collectivités, their coordinators/evaluators and memberships (public schema)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db, str_enum
from tenants.models import Tenant
from tenants.platform.models import PlatformUser


class NetworkSection(enum.StrEnum):
    MEMBERS = "members"
    LIBRARY = "library"
    COMMITMENTS = "commitments"
    DIAGNOSTIC = "diagnostic"
    BENCHMARKS = "benchmarks"
    FORUM = "forum"


SECTION_KEYS = tuple(section.value for section in NetworkSection)


class NetworkRoleKind(enum.StrEnum):
    COORDINATOR = "coordinator"
    EVALUATOR = "evaluator"


class MembershipStatus(enum.StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DECLINED = "declined"
    LEFT = "left"


class MembershipError(ValueError):
    """A membership change that the invitation flow does not allow (message in French)."""


class Network(TimestampMixin, db.Model):
    __tablename__ = "networks"
    __table_args__ = (
        sa.CheckConstraint("slug ~ '^[a-z0-9]([a-z0-9-]{0,78}[a-z0-9])?$'", name="slug_format"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    charter: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Section keys (SECTION_KEYS) that anonymous visitors and non-members may see.
    public_sections: Mapped[list[str]] = mapped_column(
        JSONB, default=list, server_default=sa.text("'[]'::jsonb")
    )

    roles: Mapped[list[NetworkRole]] = relationship(
        back_populates="network", cascade="all, delete-orphan", order_by="NetworkRole.id"
    )
    memberships: Mapped[list[NetworkMembership]] = relationship(
        back_populates="network", cascade="all, delete-orphan", order_by="NetworkMembership.id"
    )

    def is_public(self, section: str) -> bool:
        return section in (self.public_sections or [])


class NetworkRole(db.Model):
    __tablename__ = "network_roles"
    __table_args__ = (
        sa.UniqueConstraint("network_id", "platform_user_id", "role"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.networks.id", ondelete="CASCADE"), index=True
    )
    platform_user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[NetworkRoleKind] = mapped_column(str_enum(NetworkRoleKind, "network_role"))

    network: Mapped[Network] = relationship(back_populates="roles")
    user: Mapped[PlatformUser] = relationship()


class NetworkMembership(db.Model):
    __tablename__ = "network_memberships"
    __table_args__ = (
        sa.UniqueConstraint("network_id", "tenant_id"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.networks.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus, "membership_status"), default=MembershipStatus.INVITED
    )
    invited_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    responded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    left_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    network: Mapped[Network] = relationship(back_populates="memberships")
    tenant: Mapped[Tenant] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE

    def accept(self) -> None:
        if self.status != MembershipStatus.INVITED:
            raise MembershipError(_("Cette invitation n'est plus en attente."))
        self.status = MembershipStatus.ACTIVE
        self.responded_at = sa.func.now()

    def decline(self) -> None:
        if self.status != MembershipStatus.INVITED:
            raise MembershipError(_("Cette invitation n'est plus en attente."))
        self.status = MembershipStatus.DECLINED
        self.responded_at = sa.func.now()

    def leave(self) -> None:
        if self.status != MembershipStatus.ACTIVE:
            raise MembershipError(_("Votre collectivité n'est pas membre de ce réseau."))
        self.status = MembershipStatus.LEFT
        self.left_at = sa.func.now()

    def reinvite(self) -> None:
        if self.status in (MembershipStatus.ACTIVE, MembershipStatus.INVITED):
            raise MembershipError(_("Cette collectivité est déjà membre ou invitée."))
        self.status = MembershipStatus.INVITED
        self.invited_at = sa.func.now()
        self.responded_at = None
        self.left_at = None
