"""Who may open a staff page: ``staff_required(*roles)``.

Order of the checks: logged in (else the log-in page), a member of the staff (else 403),
TOTP enrolled and given this session (else enrolment or the code page), then the role
(else 403). Admins pass every role check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask_babel import gettext as _
from flask_login import current_user

from core.errors import abort_with
from core.security.auth import login_manager, two_factor_required
from participation.accounts.models import StaffRole


def forbid(message: str | None = None) -> None:
    """Abort with 403 and a French explanation (rendered by core.errors)."""
    abort_with(403, message or _("Vous n'avez pas le droit d'effectuer cette action."))


def is_staff_member(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False))


def role_allows(user, roles: tuple[StaffRole, ...]) -> bool:
    if not is_staff_member(user):
        return False
    if not roles or user.staff_role == StaffRole.ADMIN:
        return True
    return user.staff_role in roles


def _role_message(roles: tuple[StaffRole, ...]) -> str:
    if set(roles) <= {StaffRole.ADMIN}:
        return _("Cette page est réservée aux administrateurs de l'espace.")
    from participation.staff.forms import ROLE_LABELS

    names = ", ".join(str(ROLE_LABELS[role]) for role in (StaffRole.ADMIN, *roles))
    return _("Cette page est réservée aux rôles suivants : %(roles)s.", roles=names)


def staff_required(*roles: StaffRole) -> Callable:
    """A staff page: every staff member when ``roles`` is empty, else those roles (and admins)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def role_checked(*args, **kwargs):
            if not role_allows(current_user, roles):
                forbid(_role_message(roles))
            return view(*args, **kwargs)

        verified = two_factor_required(role_checked)

        @functools.wraps(view)
        def staff_checked(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not is_staff_member(current_user):
                forbid(_("Cette page est réservée à l'équipe de la collectivité."))
            return verified(*args, **kwargs)

        staff_checked.staff_roles = tuple(roles)
        return staff_checked

    return decorator


def staff_member_required(view: Callable) -> Callable:
    """Logged in and a member of the staff, second factor not required yet (enrolment)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not is_staff_member(current_user):
            forbid(_("Cette page est réservée à l'équipe de la collectivité."))
        return view(*args, **kwargs)

    return wrapper
