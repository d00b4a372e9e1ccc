"""Citizen accounts: sign-up, confirmation, log-in, password reset, profile, preferences,
legal documents and account deletion.

Services add and flush, never commit and never touch the request. Mails go out through
``core.mail.send_mail``, which enqueues them for after the caller's commit.

Tokens are signed with a salt that names their purpose and the tenant: a link made on one
collectivité's site is worthless on another's, even with the same user id.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from core import clock
from core.audit import record_action
from core.db import db
from core.mail import send_mail
from core.security.passwords import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from participation.accounts.legal import current_legal_documents
from participation.accounts.models import (
    AgeBracket,
    LegalDocument,
    LegalDocumentKind,
    Neighbourhood,
    NotificationFrequency,
    StaffRole,
    User,
)
from tenants.context import TenantRef, current_tenant
from tenants.urls import tenant_url

CONFIRMATION_MAX_AGE = 48 * 3600
RESET_MAX_AGE = 3600
EXPORT_MAX_AGE = 7 * 24 * 3600


class AccountError(Exception):
    """A rule of the accounts was broken; the message is French and shown to the user."""


# --------------------------------------------------------------------------- helpers


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _tenant() -> TenantRef:
    tenant = current_tenant()
    if tenant is None:
        raise RuntimeError("account services need a current tenant")
    return tenant


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    tenant = _tenant()
    return URLSafeTimedSerializer(
        current_app.secret_key, salt=f"pnyx-accounts:{purpose}:tenant:{tenant.id}"
    )


def _fingerprint(*parts: object) -> str:
    """A short digest of state that must not have changed since a token was issued."""
    raw = "|".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _load_token(purpose: str, token: str, max_age: int) -> dict | None:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return data if isinstance(data, dict) else None


def _link(endpoint: str, **values) -> str:
    return tenant_url(_tenant(), endpoint, **values)


def check_password_policy(password: str, *user_inputs: str | None) -> None:
    """Raise AccountError with the policy's French reason when ``password`` is refused."""
    problems = password_problems(password or "", [u for u in user_inputs if u])
    if problems:
        raise AccountError(problems[0])


def get_user_by_email(email: str) -> User | None:
    email = normalise_email(email)
    if not email:
        return None
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == email, User.deleted_at.is_(None))
    )


# --------------------------------------------------------------------------- tokens


def confirmation_token(user: User) -> str:
    return _serializer("confirm-email").dumps({"u": user.id, "e": _fingerprint(user.email)})


def reset_token(user: User) -> str:
    # The fingerprint changes with the password and the session version: once used (or
    # once the password changed another way) the link is dead.
    return _serializer("reset-password").dumps(
        {"u": user.id, "f": _fingerprint(user.password_hash, user.session_version)}
    )


def export_token(user: User, filename: str) -> str:
    return _serializer("data-export").dumps({"u": user.id, "f": filename})


def read_export_token(token: str) -> tuple[int, str] | None:
    """``(user_id, filename)`` of a valid, unexpired export link."""
    data = _load_token("data-export", token, EXPORT_MAX_AGE)
    if not data or not isinstance(data.get("u"), int) or not isinstance(data.get("f"), str):
        return None
    return data["u"], data["f"]


def _user_for_token(data: dict | None) -> User | None:
    if not data or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or user.is_deleted or not user.is_active:
        return None
    return user


# --------------------------------------------------------------------------- sign-up


def _send_confirmation(user: User) -> None:
    send_mail(
        user.email,
        "account_confirm",
        user=user,
        tenant=_tenant(),
        link=_link("accounts.confirm_email", token=confirmation_token(user)),
        hours=CONFIRMATION_MAX_AGE // 3600,
    )


def register_user(
    display_name: str,
    email: str,
    password: str,
    *,
    accepted_terms: bool,
    accepted_charter: bool,
) -> User | None:
    """Create an unconfirmed account and mail its confirmation link.

    When the address already has an account, nothing is created and the owner of the
    address gets a notice instead; the caller answers the same in both cases, so sign-up
    does not reveal who has an account. Returns the new user, or None.
    """
    if not (accepted_terms and accepted_charter):
        raise AccountError(_("Les conditions d'utilisation et la charte doivent être acceptées."))
    email = normalise_email(email)
    check_password_policy(password, email, display_name)
    # Hash first, whatever happens next: both outcomes then take the same time.
    password_hash = hash_password(password)
    existing = get_user_by_email(email)
    if existing is not None:
        _notify_existing_account(existing)
        return None
    documents = current_legal_documents()
    terms = documents.get(LegalDocumentKind.TERMS)
    charter = documents.get(LegalDocumentKind.CHARTER)
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=password_hash,
        terms_version=terms.version if terms else None,
        charter_version=charter.version if charter else None,
        session_version=1,
        notification_frequency=NotificationFrequency.IMMEDIATE,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        # Another sign-up with the same address won the race.
        existing = get_user_by_email(email)
        if existing is not None:
            _notify_existing_account(existing)
        return None
    _send_confirmation(user)
    return user


def _notify_existing_account(user: User) -> None:
    if not user.is_active:
        return
    confirm_link = None
    if user.email_confirmed_at is None:
        confirm_link = _link("accounts.confirm_email", token=confirmation_token(user))
    send_mail(
        user.email,
        "account_exists",
        user=user,
        tenant=_tenant(),
        login_link=_link("accounts.login"),
        reset_link=_link("accounts.forgot_password"),
        confirm_link=confirm_link,
    )


def resend_confirmation(email: str) -> None:
    """Mail a new confirmation link if ``email`` has an account awaiting confirmation."""
    user = get_user_by_email(email)
    if user is not None and user.is_active and user.email_confirmed_at is None:
        _send_confirmation(user)


def confirm_email(token: str) -> User | None:
    """Confirm the address of the link's account (idempotent). None if the link is bad."""
    data = _load_token("confirm-email", token, CONFIRMATION_MAX_AGE)
    user = _user_for_token(data)
    if user is None or data.get("e") != _fingerprint(user.email):
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.utcnow()
        db.session.flush()
    return user


# --------------------------------------------------------------------------- log-in


class LoginStatus(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    UNCONFIRMED = "unconfirmed"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    user: User | None = None

    @property
    def ok(self) -> bool:
        return self.status == LoginStatus.OK


def authenticate(email: str, password: str) -> LoginResult:
    """Check an e-mail and password.

    An unknown address costs the same hashing work as a known one. The reasons other than
    ``INVALID`` are only given after the right password, so they reveal nothing to someone
    who does not already hold the account.
    """
    user = get_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password or ""):
        return LoginResult(LoginStatus.INVALID)
    if not user.is_active:
        return LoginResult(LoginStatus.INACTIVE, user)
    if user.email_confirmed_at is None:
        return LoginResult(LoginStatus.UNCONFIRMED, user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(LoginStatus.OK, user)


def record_login(user: User) -> None:
    user.last_login_at = clock.utcnow()
    db.session.flush()


# --------------------------------------------------------------------------- password reset


def request_password_reset(email: str) -> None:
    """Mail a reset link if ``email`` has a live account.

    Otherwise the same work is done for nobody: a stand-in account's link signed, the same
    mail rendered, a job enqueued that sends nothing (core.security.decoy). The answer then
    takes as long either way and tells no one whether the address has an account."""
    user = get_user_by_email(email)
    if user is not None and user.is_active:
        send_mail(
            user.email,
            "account_reset",
            user=user,
            tenant=_tenant(),
            link=_link("accounts.reset_password", token=reset_token(user)),
            minutes=RESET_MAX_AGE // 60,
        )
        return
    from types import SimpleNamespace

    from core.security.decoy import DECOY_ADDRESS, send_decoy_mail

    stand_in = SimpleNamespace(
        id=0,
        email=DECOY_ADDRESS,
        display_name=DECOY_ADDRESS.split("@")[0],
        password_hash=secrets.token_hex(16),
        session_version=0,
    )
    send_decoy_mail(
        "account_reset",
        user=stand_in,
        tenant=_tenant(),
        link=_link("accounts.reset_password", token=reset_token(stand_in)),
        minutes=RESET_MAX_AGE // 60,
    )


def user_for_reset_token(token: str) -> User | None:
    data = _load_token("reset-password", token, RESET_MAX_AGE)
    user = _user_for_token(data)
    if user is None or data.get("f") != _fingerprint(user.password_hash, user.session_version):
        return None
    return user


def reset_password(token: str, new_password: str) -> User | None:
    """Set a new password through a reset link; ends every session of the account.

    Returns None when the link is invalid, expired or already used.
    """
    user = user_for_reset_token(token)
    if user is None:
        return None
    set_password(user, new_password)
    # The link reached the mailbox: the address is proven.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.utcnow()
    db.session.flush()
    return user


def set_password(user: User, new_password: str) -> None:
    check_password_policy(new_password, user.email, user.display_name)
    user.password_hash = hash_password(new_password)
    user.end_all_sessions()
    db.session.flush()


# --------------------------------------------------------------------------- profile


def update_profile(
    user: User,
    *,
    display_name: str,
    demographics_consent: bool,
    age_bracket: AgeBracket | str | None = None,
    neighbourhood_id: int | None = None,
) -> None:
    """Save the profile. Age bracket and neighbourhood are kept only with consent;
    withdrawing consent erases them."""
    user.display_name = display_name.strip()
    if not demographics_consent:
        user.age_bracket = None
        user.neighbourhood_id = None
        user.demographics_consent_at = None
    else:
        if user.demographics_consent_at is None:
            user.demographics_consent_at = clock.utcnow()
        user.age_bracket = AgeBracket(age_bracket) if age_bracket else None
        if neighbourhood_id and db.session.get(Neighbourhood, neighbourhood_id) is not None:
            user.neighbourhood_id = neighbourhood_id
        else:
            user.neighbourhood_id = None
    db.session.flush()


def update_notification_preferences(
    user: User,
    *,
    frequency: NotificationFrequency | str,
    notify_answers: bool,
    notify_comments: bool,
    notify_processes: bool,
) -> None:
    user.notification_frequency = NotificationFrequency(frequency)
    user.notify_answers = bool(notify_answers)
    user.notify_comments = bool(notify_comments)
    user.notify_processes = bool(notify_processes)
    db.session.flush()


def neighbourhoods() -> list[Neighbourhood]:
    return list(
        db.session.scalars(
            sa.select(Neighbourhood).order_by(Neighbourhood.position, Neighbourhood.name)
        )
    )


# --------------------------------------------------------------------------- legal documents


def _load_legal_versions() -> dict[LegalDocumentKind, int]:
    rows = db.session.execute(
        sa.select(LegalDocument.kind, sa.func.max(LegalDocument.version)).group_by(
            LegalDocument.kind
        )
    )
    return {LegalDocumentKind(kind): version for kind, version in rows}


def current_legal_versions() -> dict[LegalDocumentKind, int]:
    from participation.accounts.legal import cached_current_versions

    return cached_current_versions(_load_legal_versions)


def pending_legal_documents(user: User) -> list[LegalDocumentKind]:
    """The kinds of document whose current version ``user`` has not accepted yet."""
    accepted = {
        LegalDocumentKind.TERMS: user.terms_version,
        LegalDocumentKind.CHARTER: user.charter_version,
    }
    return [
        kind
        for kind, version in sorted(current_legal_versions().items())
        if (accepted.get(kind) or 0) < version
    ]


def accept_current_legal_documents(user: User) -> None:
    versions = current_legal_versions()
    if LegalDocumentKind.TERMS in versions:
        user.terms_version = versions[LegalDocumentKind.TERMS]
    if LegalDocumentKind.CHARTER in versions:
        user.charter_version = versions[LegalDocumentKind.CHARTER]
    db.session.flush()


def publish_legal_document(kind: LegalDocumentKind | str, title: str, body: str) -> LegalDocument:
    """Publish a new version; every user is asked to accept it at their next page."""
    kind = LegalDocumentKind(kind)
    version = (
        db.session.scalar(
            sa.select(sa.func.max(LegalDocument.version)).where(LegalDocument.kind == kind)
        )
        or 0
    ) + 1
    document = LegalDocument(kind=kind, version=version, title=title, body=body)
    db.session.add(document)
    db.session.flush()
    return document


# --------------------------------------------------------------------------- deletion


def _is_last_admin(user: User) -> bool:
    if user.staff_role != StaffRole.ADMIN:
        return False
    others = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.staff_role == StaffRole.ADMIN,
            User.id != user.id,
            User.deleted_at.is_(None),
            User.is_active_account.is_(True),
        )
    )
    return not others


def delete_account(user: User, *, by: str = "owner") -> None:
    """Erase the account's personal data; the row stays so that public contributions keep
    an author, shown as "Participant·e anonyme".

    Every feature's erase rule runs first (participation/accounts/personal_data.py: budget
    eligibility deleted, meeting seats given up and passed on to the waiting list…), then
    the row itself is anonymised. ``by`` is "owner" or the retention rule that deleted it."""
    from participation.accounts.personal_data import registry

    if user.is_deleted:
        return
    if _is_last_admin(user):
        raise AccountError(
            _(
                "Vous êtes le dernier administrateur de cet espace : nommez d'abord un autre "
                "administrateur avant de supprimer votre compte."
            )
        )
    registry.erase(user)
    user.email = None
    user.display_name = User.ANONYMOUS_NAME
    user.password_hash = None
    user.email_confirmed_at = None
    user.last_login_at = None
    user.staff_role = None
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_step = None
    user.recovery_codes = []
    user.age_bracket = None
    user.neighbourhood_id = None
    user.demographics_consent_at = None
    user.notification_frequency = NotificationFrequency.NEVER
    user.notify_answers = False
    user.notify_comments = False
    user.notify_processes = False
    user.blocked_reason = None
    if hasattr(user, "last_seen_at"):
        user.last_seen_at = None
    user.deleted_at = clock.utcnow()
    user.end_all_sessions()
    user.services = []
    db.session.flush()
    # No personal data in the audit row: only that account #id was deleted by its owner.
    record_action(
        "account.deleted",
        actor_id=user.id if by == "owner" else None,
        actor_label=User.ANONYMOUS_NAME,
        target_type="user",
        target_id=user.id,
        by=by,
    )
