"""Accounts of one collectivité's space (tenant schema). The same e-mail on two tenants is
two independent accounts: each schema has its own ``users`` table."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db, str_enum
from core.security.auth import delete_session_records, make_user_id


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    AGENT = "agent"


class NotificationFrequency(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    NEVER = "never"


class AgeBracket(enum.StrEnum):
    UNDER_18 = "0-17"
    FROM_18 = "18-24"
    FROM_25 = "25-39"
    FROM_40 = "40-54"
    FROM_55 = "55-64"
    FROM_65 = "65-79"
    OVER_80 = "80+"


user_services = sa.Table(
    "user_services",
    db.Model.metadata,
    sa.Column("user_id", sa.ForeignKey("tenant.users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "service_id", sa.ForeignKey("tenant.services.id", ondelete="CASCADE"), primary_key=True
    ),
    schema="tenant",
)


class Neighbourhood(db.Model):
    """A quartier of the territory (used by profiles, process scopes, budgets)."""

    __tablename__ = "neighbourhoods"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)


class Service(db.Model):
    """A direction of the collectivité (Voirie, Culture…) to which agents belong."""

    __tablename__ = "services"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))

    members: Mapped[list[User]] = relationship(secondary=user_services, back_populates="services")


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.Index("uq_users_email_lower", sa.func.lower(sa.text("email")), unique=True),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the account is deleted: the row stays so public contributions keep an
    # author, shown as "Participant·e anonyme".
    email: Mapped[str | None] = mapped_column(sa.String(254))
    display_name: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    is_active_account: Mapped[bool] = mapped_column("is_active", sa.Boolean, default=True)
    deleted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Blocked by moderation: log-in refused, contributions hidden.
    blocked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    blocked_reason: Mapped[str | None] = mapped_column(sa.Text)
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Retention (migration t0012): last day of use (updated at most once a day) and the
    # date of the "anonymised soon" warning (participation/accounts/retention.py).
    last_seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    inactivity_warned_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    staff_role: Mapped[StaffRole | None] = mapped_column(str_enum(StaffRole, "staff_role"))
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    recovery_codes: Mapped[list] = mapped_column(JSONB, default=list)

    # Optional, consented, used only for representativeness statistics.
    age_bracket: Mapped[AgeBracket | None] = mapped_column(str_enum(AgeBracket, "age_bracket"))
    neighbourhood_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.neighbourhoods.id", ondelete="SET NULL")
    )
    demographics_consent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    notification_frequency: Mapped[NotificationFrequency] = mapped_column(
        str_enum(NotificationFrequency, "notification_frequency"),
        default=NotificationFrequency.IMMEDIATE,
    )
    notify_answers: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    notify_comments: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    notify_processes: Mapped[bool] = mapped_column(sa.Boolean, default=True)

    terms_version: Mapped[int | None]
    charter_version: Mapped[int | None]

    neighbourhood: Mapped[Neighbourhood | None] = relationship()
    services: Mapped[list[Service]] = relationship(
        secondary=user_services, back_populates="members"
    )

    ANONYMOUS_NAME = "Participant·e anonyme"

    # Flask-Login
    def get_id(self) -> str:
        return make_user_id(self.id, self.session_version)

    @property
    def is_active(self) -> bool:
        return self.is_active_account and self.deleted_at is None and self.blocked_at is None

    @property
    def is_staff(self) -> bool:
        return self.staff_role is not None and self.is_active

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def public_name(self) -> str:
        return self.ANONYMOUS_NAME if self.is_deleted else self.display_name

    def has_role(self, *roles: StaffRole | str) -> bool:
        return self.staff_role is not None and self.staff_role.value in {str(r) for r in roles}

    def end_all_sessions(self, keep: str | None = None) -> None:
        """End every session of the account (new password, 2FA reset, blocking, deletion):
        the session records go, and the version bump refuses any cookie issued before.
        ``keep`` is the token digest of a session to spare (core.security.auth); the caller
        then re-issues that session's cookie with ``refresh_login``."""
        self.session_version += 1
        delete_session_records(UserSession, self.id, keep=keep)


class UserSession(db.Model):
    """One log-in (core.security.auth): the cookie carries a random token, this row its
    SHA-256 digest. Log-out deletes the row, so a copied cookie is worthless afterwards.
    Personal data (who was logged in, when): erased with the account, gone at expiry."""

    __tablename__ = "user_sessions"
    __table_args__ = (sa.Index("ix_user_sessions_user_id", "user_id"), TENANT)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.users.id", ondelete="CASCADE"))
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Invitation(TimestampMixin, db.Model):
    """A staff invitation, accepted through a single-use link sent by e-mail."""

    __tablename__ = "invitations"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"))
    service_ids: Mapped[list] = mapped_column(JSONB, default=list)
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class LegalDocumentKind(enum.StrEnum):
    TERMS = "terms"  # conditions générales d'utilisation
    CHARTER = "charter"  # charte de participation


class LegalDocument(db.Model):
    """Versioned terms and participation charter; a new version asks everyone to accept."""

    __tablename__ = "legal_documents"
    __table_args__ = (sa.UniqueConstraint("kind", "version"), TENANT)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[LegalDocumentKind] = mapped_column(
        str_enum(LegalDocumentKind, "legal_document_kind")
    )
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown, sanitised when rendered
    published_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
