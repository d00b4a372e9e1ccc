"""The staff side of a tenant: invitations, members, services, neighbourhoods, settings and
the second factor.

Services add and flush, never commit and never touch the request (docs/architecture.md,
"A feature package"); each
one that changes something writes its audit row in the same transaction. Rules that can be
broken raise :class:`StaffError` with a French message for the user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination

from core import clock
from core.audit import AuditEntry, audit
from core.db import db
from core.mail import send_mail
from core.security import totp
from core.security.passwords import hash_password, password_problems, verify_password
from participation.accounts.models import Invitation, Neighbourhood, Service, StaffRole, User
from participation.accounts.services import accept_current_legal_documents
from participation.staff import branding
from participation.staff.forms import ROLE_LABELS
from tenants.context import current_tenant
from tenants.models import TenantSetting

INVITATION_VALIDITY = timedelta(days=7)


class StaffError(Exception):
    """A rule of the staff side was broken; the message is French and shown to the user.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


# --------------------------------------------------------------------------- lookups


def get_user_by_email(email: str) -> User | None:
    email = normalise_email(email)
    if not email:
        return None
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == email, User.deleted_at.is_(None))
    )


def lock_user(user_id: int) -> User | None:
    """The user row, locked until the end of the transaction (second-factor checks)."""
    return db.session.scalar(
        sa.select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def staff_members() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.staff_role.is_not(None), User.deleted_at.is_(None))
            .order_by(sa.func.lower(User.display_name), User.id)
        )
    )


def get_staff_member(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    if user is None or user.staff_role is None or user.deleted_at is not None:
        return None
    return user


def all_services() -> list[Service]:
    return list(db.session.scalars(sa.select(Service).order_by(sa.func.lower(Service.name))))


def services_by_ids(ids: list[int]) -> list[Service]:
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Service).where(Service.id.in_(ids)).order_by(sa.func.lower(Service.name))
        )
    )


def all_neighbourhoods() -> list[Neighbourhood]:
    return list(
        db.session.scalars(
            sa.select(Neighbourhood).order_by(Neighbourhood.position, Neighbourhood.name)
        )
    )


def _check_role_services(role: StaffRole, services: list[Service]) -> list[Service]:
    """Agents belong to at least one service; other roles see everything, so none."""
    if role != StaffRole.AGENT:
        return []
    if not services:
        raise StaffError(_("Un agent doit appartenir à au moins un service."), "services")
    return services


def _active_admin_count(excluding: User | None = None) -> int:
    query = sa.select(sa.func.count(User.id)).where(
        User.staff_role == StaffRole.ADMIN,
        User.deleted_at.is_(None),
        User.is_active_account.is_(True),
    )
    if excluding is not None:
        query = query.where(User.id != excluding.id)
    return db.session.scalar(query) or 0


# --------------------------------------------------------------------------- invitations


class InvitationState(StrEnum):
    PENDING = "pending"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ACCEPTED = "accepted"


def token_digest(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def invitation_state(invitation: Invitation, now: datetime | None = None) -> InvitationState:
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.expires_at <= (now or clock.utcnow()):
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def find_invitation(token: str, lock: bool = False) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    query = sa.select(Invitation).where(Invitation.token_digest == token_digest(token))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def pending_invitation_for(email: str) -> Invitation | None:
    return db.session.scalar(
        sa.select(Invitation)
        .where(
            sa.func.lower(Invitation.email) == normalise_email(email),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > clock.utcnow(),
        )
        .order_by(Invitation.id.desc())
        .limit(1)
    )


def invitations_to_show() -> list[Invitation]:
    """Pending invitations, and those that expired in the last 30 days (to resend)."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > clock.utcnow() - timedelta(days=30),
            )
            .order_by(Invitation.id.desc())
        )
    )


def create_invitation(
    email: str, role: StaffRole, services: list[Service], invited_by: User | None
) -> tuple[Invitation, str]:
    """A new invitation and its token (given once: only its SHA-256 digest is stored)."""
    email = normalise_email(email)
    existing = get_user_by_email(email)
    if existing is not None and existing.staff_role is not None:
        raise StaffError(_("Cette personne fait déjà partie de l'équipe."), "email")
    if pending_invitation_for(email) is not None:
        raise StaffError(
            _(
                "Une invitation est déjà en attente pour cette adresse : révoquez-la pour en "
                "envoyer une nouvelle."
            ),
            "email",
        )
    services = _check_role_services(role, services)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        role=role,
        service_ids=[s.id for s in services],
        token_digest=token_digest(token),
        invited_by_id=invited_by.id if invited_by is not None else None,
        expires_at=clock.utcnow() + INVITATION_VALIDITY,
    )
    db.session.add(invitation)
    db.session.flush()
    audit(
        "staff.invitation_created",
        invited_by,
        "invitation",
        invitation.id,
        email=email,
        role=role.value,
        services=[s.name for s in services],
    )
    return invitation, token


def send_invitation(invitation: Invitation, link: str, inviter: User | None) -> None:
    """E-mail the link (delivered once the caller's transaction commits)."""
    tenant = current_tenant()
    site_name = branding.read_settings((branding.SITE_NAME,))[branding.SITE_NAME] or tenant.name
    send_mail(
        invitation.email,
        "staff_invitation",
        link=link,
        role_label=str(ROLE_LABELS[StaffRole(invitation.role)]),
        inviter_name=inviter.display_name if inviter is not None else None,
        site_name=site_name,
        expires_at=invitation.expires_at,
        tenant=tenant,
    )


def revoke_invitation(invitation: Invitation, actor: User) -> None:
    if invitation_state(invitation) in (InvitationState.ACCEPTED, InvitationState.REVOKED):
        raise StaffError(_("Cette invitation a déjà été acceptée ou révoquée."))
    invitation.revoked_at = clock.utcnow()
    db.session.flush()
    audit("staff.invitation_revoked", actor, "invitation", invitation.id, email=invitation.email)


def accept_invitation(invitation: Invitation, user: User) -> None:
    """Give ``user`` the invitation's role and services; the invitation is then used up."""
    state = invitation_state(invitation)
    if state != InvitationState.PENDING:
        raise StaffError(invitation_problem(state))
    if normalise_email(user.email) != normalise_email(invitation.email):
        raise StaffError(_("Cette invitation a été envoyée à une autre adresse e-mail."))
    role = StaffRole(invitation.role)
    user.staff_role = role
    user.services = services_by_ids([int(i) for i in invitation.service_ids or []])
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.utcnow()  # the link reached this mailbox
    invitation.accepted_at = clock.utcnow()
    db.session.flush()
    audit(
        "staff.invitation_accepted",
        user,
        "user",
        user.id,
        invitation_id=invitation.id,
        role=role.value,
        services=[s.name for s in user.services],
    )


def invitation_problem(state: InvitationState) -> str:
    if state == InvitationState.EXPIRED:
        return _(
            "Cette invitation a expiré. Demandez à un administrateur de l'espace de vous en "
            "envoyer une nouvelle."
        )
    if state == InvitationState.REVOKED:
        return _("Cette invitation a été annulée par un administrateur de l'espace.")
    if state == InvitationState.ACCEPTED:
        return _(
            "Cette invitation a déjà été utilisée. Connectez-vous avec votre adresse e-mail "
            "et votre mot de passe."
        )
    return _("Ce lien d'invitation n'est pas valide.")


def create_invited_account(invitation: Invitation, display_name: str, password: str) -> User:
    """The account of an invited person who had none in this space, then accepted."""
    display_name = (display_name or "").strip()
    if not display_name:
        raise StaffError(_("Indiquez votre nom."), "display_name")
    if get_user_by_email(invitation.email) is not None:
        raise StaffError(_("Un compte existe déjà avec cette adresse e-mail."))
    problems = password_problems(password or "", [invitation.email, display_name])
    if problems:
        raise StaffError(problems[0], "password")
    user = User(
        email=normalise_email(invitation.email),
        display_name=display_name,
        password_hash=hash_password(password),
        email_confirmed_at=clock.utcnow(),
        last_login_at=clock.utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    # The form had the terms and the charter accepted, as at a citizen's sign-up.
    accept_current_legal_documents(user)
    accept_invitation(invitation, user)
    return user


def check_password(user: User, password: str) -> bool:
    return user.is_active and verify_password(user.password_hash, password or "")


# --------------------------------------------------------------------------- members


def update_member(user: User, role: StaffRole, services: list[Service], actor: User) -> bool:
    """Change a member's role and services; False when nothing changed."""
    if user.staff_role is None:
        raise StaffError(_("Cette personne ne fait pas partie de l'équipe."))
    services = _check_role_services(role, services)
    before_role, before_services = user.staff_role, sorted(s.name for s in user.services)
    after_services = sorted(s.name for s in services)
    if before_role == role and before_services == after_services:
        return False
    if (
        before_role == StaffRole.ADMIN
        and role != StaffRole.ADMIN
        and _active_admin_count(user) == 0
    ):
        raise StaffError(_("Il doit rester au moins un administrateur : nommez-en un autre avant."))
    user.staff_role = role
    user.services = services
    db.session.flush()
    audit(
        "staff.member_updated",
        actor,
        "user",
        user.id,
        role_before=before_role.value,
        role=role.value,
        services_before=before_services,
        services=after_services,
    )
    return True


def remove_member(user: User, actor: User) -> None:
    """No more staff role or service; every session of the person ends."""
    if user.staff_role is None:
        raise StaffError(_("Cette personne ne fait pas partie de l'équipe."))
    if user.staff_role == StaffRole.ADMIN and _active_admin_count(user) == 0:
        raise StaffError(_("Il doit rester au moins un administrateur : nommez-en un autre avant."))
    role = user.staff_role
    services = sorted(s.name for s in user.services)
    user.staff_role = None
    user.services = []
    # The second factor belonged to the staff role: re-invited, the person enrols again.
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_step = None
    user.recovery_codes = []
    user.end_all_sessions()
    db.session.flush()
    audit("staff.member_removed", actor, "user", user.id, role=role.value, services=services)


# --------------------------------------------------------------------------- services


def _check_name(name: str, model, current_id: int | None, taken: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise StaffError(_("Indiquez un nom."))
    clash = db.session.scalar(
        sa.select(model.id).where(
            sa.func.lower(model.name) == name.lower(), model.id != (current_id or 0)
        )
    )
    if clash is not None:
        raise StaffError(taken)
    return name


def create_service(name: str, email: str | None, actor: User) -> Service:
    name = _check_name(name, Service, None, _("Un service porte déjà ce nom."))
    service = Service(name=name, email=normalise_email(email) or None)
    db.session.add(service)
    db.session.flush()
    audit("staff.service_created", actor, "service", service.id, name=name, email=service.email)
    return service


def update_service(service: Service, name: str, email: str | None, actor: User) -> bool:
    name = _check_name(name, Service, service.id, _("Un service porte déjà ce nom."))
    email = normalise_email(email) or None
    if (service.name, service.email) == (name, email):
        return False
    before = {"name": service.name, "email": service.email}
    service.name, service.email = name, email
    db.session.flush()
    audit(
        "staff.service_updated", actor, "service", service.id, before=before, name=name, email=email
    )
    return True


def delete_service(service: Service, actor: User) -> None:
    if service.members:
        raise StaffError(
            _(
                "Ce service compte encore des agents : changez d'abord leurs services, puis "
                "supprimez-le."
            )
        )
    audit("staff.service_deleted", actor, "service", service.id, name=service.name)
    db.session.delete(service)
    db.session.flush()


# --------------------------------------------------------------------------- neighbourhoods


def create_neighbourhood(name: str, position: int | None, actor: User) -> Neighbourhood:
    name = _check_name(name, Neighbourhood, None, _("Un quartier porte déjà ce nom."))
    if position is None:
        position = (db.session.scalar(sa.select(sa.func.max(Neighbourhood.position))) or 0) + 1
    neighbourhood = Neighbourhood(name=name, position=position)
    db.session.add(neighbourhood)
    db.session.flush()
    audit(
        "staff.neighbourhood_created",
        actor,
        "neighbourhood",
        neighbourhood.id,
        name=name,
        position=position,
    )
    return neighbourhood


def update_neighbourhood(
    neighbourhood: Neighbourhood, name: str, position: int | None, actor: User
) -> bool:
    name = _check_name(name, Neighbourhood, neighbourhood.id, _("Un quartier porte déjà ce nom."))
    position = neighbourhood.position if position is None else position
    if (neighbourhood.name, neighbourhood.position) == (name, position):
        return False
    before = {"name": neighbourhood.name, "position": neighbourhood.position}
    neighbourhood.name, neighbourhood.position = name, position
    db.session.flush()
    audit(
        "staff.neighbourhood_updated",
        actor,
        "neighbourhood",
        neighbourhood.id,
        before=before,
        name=name,
        position=position,
    )
    return True


def delete_neighbourhood(neighbourhood: Neighbourhood, actor: User) -> None:
    # Profiles that named it keep working: the foreign key sets their quartier to NULL.
    audit(
        "staff.neighbourhood_deleted",
        actor,
        "neighbourhood",
        neighbourhood.id,
        name=neighbourhood.name,
    )
    db.session.delete(neighbourhood)
    db.session.flush()


# --------------------------------------------------------------------------- settings


def read_settings(keys: tuple[str, ...]) -> dict:
    return branding.read_settings(keys)


def update_settings(changes: dict, actor: User) -> dict:
    """Save the settings that changed; return ``{key: (before, after)}`` (audited)."""
    current = read_settings(tuple(changes))
    changed = {k: (current[k], v) for k, v in changes.items() if current[k] != v}
    for key, (_before, value) in changed.items():
        setting = db.session.get(TenantSetting, key)
        if setting is None:
            db.session.add(TenantSetting(key=key, value=value))
        else:
            setting.value = value
    if changed:
        db.session.flush()
        audit(
            "staff.settings_updated",
            actor,
            "settings",
            ",".join(sorted(changed)),
            changes={k: {"before": b, "after": a} for k, (b, a) in changed.items()},
        )
    return changed


# --------------------------------------------------------------------------- second factor


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def begin_totp_enrolment(user: User, issuer: str) -> Enrolment:
    """The secret being enrolled (kept on the account until confirmed), as QR and text."""
    if user.totp_enabled:
        raise StaffError(_("La double authentification est déjà activée sur votre compte."))
    if not user.totp_secret:
        user.totp_secret = totp.new_secret()
        db.session.flush()
    uri = totp.provisioning_uri(user.totp_secret, user.email or user.display_name, issuer)
    return Enrolment(secret=user.totp_secret, uri=uri, qr_svg=totp.qr_svg(uri))


def confirm_totp_enrolment(user: User, code: str) -> list[str] | None:
    """Turn the second factor on when ``code`` matches; return the recovery codes to show."""
    if user.totp_enabled or not user.totp_secret:
        return None
    step = totp.verify_code(user.totp_secret, code, user.totp_last_step)
    if step is None:
        return None
    plain, digests = totp.new_recovery_codes()
    user.totp_enabled = True
    user.totp_last_step = step
    user.recovery_codes = digests
    db.session.flush()
    audit("staff.two_factor_enrolled", user, "user", user.id)
    return plain


def verify_totp(user: User, code: str) -> bool:
    """A TOTP code, each time step accepted once (the caller holds the row lock)."""
    if not user.totp_enabled:
        return False
    step = totp.verify_code(user.totp_secret, code, user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


def use_recovery_code(user: User, code: str) -> bool:
    if not user.totp_enabled:
        return False
    remaining = totp.consume_recovery_code(list(user.recovery_codes or []), code)
    if remaining is None:
        return False
    user.recovery_codes = remaining
    db.session.flush()
    return True


def verify_second_factor(user: User, code: str, recovery: bool) -> str | None:
    """``"totp"`` or ``"recovery_code"`` when accepted, else None; audited either way."""
    accepted = use_recovery_code(user, code) if recovery else verify_totp(user, code)
    method = ("recovery_code" if recovery else "totp") if accepted else None
    if method is None:
        audit(
            "staff.two_factor_failed",
            user,
            "user",
            user.id,
            method="recovery_code" if recovery else "totp",
        )
        return None
    user.last_login_at = clock.utcnow()
    audit(
        "staff.login",
        user,
        "user",
        user.id,
        method=method,
        recovery_codes_left=len(user.recovery_codes or []),
    )
    return method


def regenerate_recovery_codes(user: User, code: str) -> list[str] | None:
    """New recovery codes (the old ones stop working), confirmed by a current TOTP code."""
    if not verify_totp(user, code):
        return None
    plain, digests = totp.new_recovery_codes()
    user.recovery_codes = digests
    db.session.flush()
    audit("staff.recovery_codes_regenerated", user, "user", user.id)
    return plain


# --------------------------------------------------------------------------- audit log


def audit_log(page: int, per_page: int = 50) -> Pagination:
    """One page of the audit log, the most recent actions first."""
    query = sa.select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def audit_page(page: int, per_page: int = 50) -> tuple[list[AuditEntry], int]:
    """:func:`audit_log` as ``(entries, total)``, the form participation/staff/views.py reads."""
    found = audit_log(page, per_page)
    return found.items, found.total or 0
