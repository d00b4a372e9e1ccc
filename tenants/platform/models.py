"""Platform accounts (public schema): the people who run Pnyx and its networks."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, db
from core.security.auth import delete_session_records, make_user_id
from tenants.models import Tenant


class PlatformRole(enum.StrEnum):
    OPERATOR = "operator"  # runs the platform
    COORDINATOR = "coordinator"  # coordinates a network of collectivités
    MEMBER = "member"  # an agent representing one collectivité in a network


ROLE_VALUES = tuple(role.value for role in PlatformRole)


class PlatformUser(TimestampMixin, UserMixin, db.Model):
    __tablename__ = "platform_users"
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('operator', 'coordinator', 'member')",
            name="role",
        ),
        # A member speaks for one collectivité: without it the account means nothing.
        sa.CheckConstraint(
            "role <> 'member' OR tenant_id IS NOT NULL",
            name="member_has_tenant",
        ),
        sa.CheckConstraint("email = lower(email)", name="email_lower"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[PlatformRole] = mapped_column(
        sa.Enum(
            PlatformRole,
            name="platform_role",
            native_enum=False,
            length=20,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        )
    )
    tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("public.tenants.id", ondelete="SET NULL"), index=True
    )
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    # Bumped to end every session of the user at once (see core.security.auth).
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    # The last accepted TOTP time step: a code is never accepted twice (replay).
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # SHA-256 digests of the unused recovery codes.
    recovery_codes: Mapped[list[str]] = mapped_column(
        JSONB, default=list, server_default=sa.text("'[]'::jsonb")
    )
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    tenant: Mapped[Tenant | None] = relationship()

    def get_id(self) -> str:
        return make_user_id(self.id, self.session_version)

    def end_all_sessions(self, keep: str | None = None) -> None:
        """End every session of the account (new password, 2FA reset, deactivation); ``keep``
        spares one session record (its token digest, see core.security.auth)."""
        self.session_version += 1
        delete_session_records(PlatformUserSession, self.id, keep=keep)

    @property
    def is_operator(self) -> bool:
        return self.role == PlatformRole.OPERATOR

    @property
    def recovery_codes_left(self) -> int:
        return len(self.recovery_codes or [])


class PlatformUserSession(db.Model):
    """One log-in of a platform account (core.security.auth): the cookie carries a random
    token, this row its SHA-256 digest; log-out deletes the row."""

    __tablename__ = "platform_user_sessions"
    __table_args__ = (
        sa.Index("ix_platform_user_sessions_user_id", "user_id"),
        {"schema": "public"},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("public.platform_users.id", ondelete="CASCADE")
    )
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class PlatformAuditEntry(db.Model):
    """Who did what to a platform account (the tenant audit log lives in each schema)."""

    __tablename__ = "platform_audit_log"
    __table_args__ = {"schema": "public"}

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    action: Mapped[str] = mapped_column(sa.String(100))
    target_type: Mapped[str | None] = mapped_column(sa.String(50))
    target_id: Mapped[str | None] = mapped_column(sa.String(50))
    details: Mapped[dict] = mapped_column(
        JSONB, default=dict, server_default=sa.text("'{}'::jsonb")
    )
