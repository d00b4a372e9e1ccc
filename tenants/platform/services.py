"""Platform accounts: creation, password check, TOTP enrolment and second factor.

Services add and flush, never commit, never read the request: the caller (a view, the CLI,
the demo seeder) commits once and passes what it knows about the request in ``details``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from core import clock
from core.db import db
from core.security import totp
from core.security.passwords import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from tenants.models import Tenant
from tenants.platform.models import PlatformAuditEntry, PlatformRole, PlatformUser

TOTP_ISSUER = "Pnyx plateforme"


class PlatformAccountError(ValueError):
    """A French, user-facing reason why an account operation is refused."""


# --------------------------------------------------------------------------- audit


def record_platform_action(
    action: str,
    actor_id: int | None = None,
    target_type: str | None = None,
    target_id: object = None,
    **details: object,
) -> PlatformAuditEntry:
    entry = PlatformAuditEntry(
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _record_on_user(action: str, user: PlatformUser, actor_id: int | None = None, **details):
    return record_platform_action(
        action,
        actor_id=user.id if actor_id is None else actor_id,
        target_type="platform_user",
        target_id=user.id,
        **details,
    )


# --------------------------------------------------------------------------- accounts


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_platform_user(user_id: int) -> PlatformUser | None:
    return db.session.get(PlatformUser, user_id)


def get_platform_user_by_email(email: str) -> PlatformUser | None:
    return db.session.scalar(
        sa.select(PlatformUser).where(PlatformUser.email == normalise_email(email))
    )


def _password_inputs(email: str, display_name: str) -> list[str]:
    local, _at, domain = email.partition("@")
    return [email, local, *domain.split("."), display_name, *display_name.split()]


def create_platform_user(
    email: str,
    display_name: str,
    role: str | PlatformRole,
    password: str | None = None,
    tenant_id: int | None = None,
    *,
    actor_id: int | None = None,
    check_password_policy: bool = True,
) -> PlatformUser:
    """Create an account; without a password it cannot log in until one is set."""
    email = normalise_email(email)
    display_name = (display_name or "").strip()
    if "@" not in email or len(email) > 254:
        raise PlatformAccountError(_("Cette adresse e-mail n'est pas valide."))
    if not display_name:
        raise PlatformAccountError(_("Le nom affiché est obligatoire."))
    try:
        role = PlatformRole(role)
    except ValueError:
        raise PlatformAccountError(
            _("Rôle inconnu : %(role)s (operator, coordinator ou member).", role=role)
        ) from None
    if role == PlatformRole.MEMBER and tenant_id is None:
        raise PlatformAccountError(_("Un membre de réseau doit être rattaché à sa collectivité."))
    if tenant_id is not None and db.session.get(Tenant, tenant_id) is None:
        raise PlatformAccountError(_("Cette collectivité n'existe pas."))
    if get_platform_user_by_email(email) is not None:
        raise PlatformAccountError(_("Un compte de la plateforme existe déjà avec cette adresse."))
    password_hash = None
    if password is not None:
        if check_password_policy:
            problems = password_problems(password, _password_inputs(email, display_name))
            if problems:
                raise PlatformAccountError(" ".join(problems))
        password_hash = hash_password(password)
    user = PlatformUser(
        email=email,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        tenant_id=tenant_id,
    )
    db.session.add(user)
    db.session.flush()
    record_platform_action(
        "platform_user.created",
        actor_id=actor_id,
        target_type="platform_user",
        target_id=user.id,
        email=email,
        role=role.value,
        tenant_id=tenant_id,
    )
    return user


def authenticate(email: str, password: str, **details: object) -> PlatformUser | None:
    """The active account with this e-mail and password, else None.

    An unknown e-mail costs one Argon2 verification too, so the answer time does not tell
    whether the account exists.
    """
    user = get_platform_user_by_email(email)
    if user is None:
        verify_password(None, password or "")
        return None
    if not verify_password(user.password_hash, password or ""):
        _record_on_user("platform_user.login_failed", user, reason="password", **details)
        return None
    if not user.is_active:
        _record_on_user("platform_user.login_failed", user, reason="inactive", **details)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.flush()
    return user


def record_login(user: PlatformUser, second_factor: str | None, **details: object) -> None:
    """A completed log-in (``second_factor``: "totp", "recovery_code", or None before
    enrolment)."""
    user.last_login_at = clock.utcnow()
    _record_on_user("platform_user.login", user, second_factor=second_factor, **details)


def record_logout(user: PlatformUser, **details: object) -> None:
    _record_on_user("platform_user.logout", user, **details)


# --------------------------------------------------------------------------- ending sessions


def set_platform_password(
    user: PlatformUser,
    password: str,
    *,
    actor_id: int | None = None,
    keep_session: str | None = None,
    **details: object,
) -> None:
    """A new password (policy checked); every other session of the account ends.
    ``keep_session``: the token digest of the session changing it, which stays open (the
    caller then re-issues its cookie, ``core.security.auth.refresh_login``)."""
    problems = password_problems(password or "", _password_inputs(user.email, user.display_name))
    if problems:
        raise PlatformAccountError(" ".join(problems))
    user.password_hash = hash_password(password)
    user.end_all_sessions(keep=keep_session)
    db.session.flush()
    _record_on_user("platform_user.password_changed", user, actor_id=actor_id, **details)


def reset_two_factor(user: PlatformUser, *, actor_id: int | None = None, **details) -> None:
    """Forget the TOTP secret and recovery codes (a lost phone): the account enrols again at
    its next log-in, and every session ends now."""
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_step = None
    user.recovery_codes = []
    user.end_all_sessions()
    db.session.flush()
    _record_on_user("platform_user.two_factor_reset", user, actor_id=actor_id, **details)


def set_platform_user_active(
    user: PlatformUser, active: bool, *, actor_id: int | None = None, **details: object
) -> None:
    """Block (``active=False``: log-in refused, every session ends now) or unblock."""
    user.is_active = active
    if not active:
        user.end_all_sessions()
    db.session.flush()
    action = "platform_user.reactivated" if active else "platform_user.deactivated"
    _record_on_user(action, user, actor_id=actor_id, **details)


# --------------------------------------------------------------------------- TOTP


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str
    qr_svg: str

    @property
    def grouped_secret(self) -> str:
        """``ABCD EFGH …``: easier to copy by hand into an authenticator app."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def begin_totp_enrolment(user: PlatformUser, secret: str | None = None) -> TotpEnrolment:
    """A secret to show (QR code and text). Nothing is stored on the account until
    :func:`confirm_totp_enrolment`: the caller keeps the secret between the two steps."""
    if user.totp_enabled:
        raise PlatformAccountError(_("La double authentification est déjà activée sur ce compte."))
    secret = secret or totp.new_secret()
    uri = totp.provisioning_uri(secret, user.email, issuer=TOTP_ISSUER)
    return TotpEnrolment(secret=secret, uri=uri, qr_svg=totp.qr_svg(uri))


def _lock(user: PlatformUser) -> PlatformUser:
    """Re-read the account under a row lock: two requests with the same code must not
    both succeed."""
    return db.session.execute(
        sa.select(PlatformUser)
        .where(PlatformUser.id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _enable_totp(user: PlatformUser, secret: str, step: int | None) -> list[str]:
    plain, digests = totp.new_recovery_codes()
    user.totp_secret = secret
    user.totp_enabled = True
    user.totp_last_step = step
    user.recovery_codes = digests
    db.session.flush()
    return plain


def confirm_totp_enrolment(
    user: PlatformUser, secret: str, code: str, **details: object
) -> list[str] | None:
    """Turn TOTP on when ``code`` matches ``secret``; return the recovery codes to show
    once (only their digests are kept), or None for a wrong code."""
    user = _lock(user)
    if user.totp_enabled:
        raise PlatformAccountError(_("La double authentification est déjà activée sur ce compte."))
    step = totp.verify_code(secret, code, None)
    if step is None:
        _record_on_user("platform_user.two_factor_enrolment_failed", user, **details)
        return None
    plain = _enable_totp(user, secret, step)
    _record_on_user("platform_user.two_factor_enabled", user, **details)
    return plain


def enable_totp_with_secret(user: PlatformUser, secret: str) -> list[str]:
    """Turn TOTP on with a known secret, without a code (demo accounts only)."""
    plain = _enable_totp(user, secret, None)
    _record_on_user("platform_user.two_factor_enabled", user, source="demo")
    return plain


def verify_second_factor(user: PlatformUser, code: str, **details: object) -> str | None:
    """Check a TOTP code (never the same time step twice) or a recovery code (consumed).

    Returns "totp" or "recovery_code" when accepted, None otherwise.
    """
    user = _lock(user)
    if not user.totp_enabled or not user.totp_secret:
        return None
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    stripped = (code or "").strip()
    if len(digits) == 6 and len(stripped.replace(" ", "")) == 6:
        step = totp.verify_code(user.totp_secret, digits, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            db.session.flush()
            return "totp"
    else:
        remaining = totp.consume_recovery_code(list(user.recovery_codes or []), stripped)
        if remaining is not None:
            user.recovery_codes = remaining  # a new list: JSONB change is detected
            db.session.flush()
            _record_on_user(
                "platform_user.recovery_code_used", user, remaining=len(remaining), **details
            )
            return "recovery_code"
    _record_on_user("platform_user.second_factor_failed", user, **details)
    return None
