"""Which proposals a staff member may answer: moderators and admins all of them, an agent
those entrusted to one of their services; and to whom a proposal can be entrusted."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db
from participation.accounts.models import Service, StaffRole, User
from participation.proposals.models import Proposal


def is_manager(user: User | None) -> bool:
    """Moderators and admins see and answer every proposal."""
    return bool(
        user is not None
        and getattr(user, "is_staff", False)
        and user.staff_role in (StaffRole.ADMIN, StaffRole.MODERATOR)
    )


def service_ids_of(user: User) -> list[int]:
    return [service.id for service in user.services]


def scope_clause(user: User):
    """The proposals ``user`` may answer: all for managers, their services' for agents."""
    if is_manager(user):
        return sa.true()
    ids = service_ids_of(user) if getattr(user, "is_staff", False) else []
    return Proposal.service_id.in_(ids) if ids else sa.false()


def can_answer(user: User | None, proposal: Proposal) -> bool:
    if user is None or not getattr(user, "is_staff", False):
        return False
    if is_manager(user):
        return True
    return proposal.service_id is not None and proposal.service_id in service_ids_of(user)


def assignable_services(user: User) -> list[Service]:
    if is_manager(user):
        return list(db.session.scalars(sa.select(Service).order_by(sa.func.lower(Service.name))))
    return sorted(user.services, key=lambda s: s.name.lower())


def agents_by_service(services: list[Service]) -> dict[int, list[User]]:
    """Active staff members of each service (one query)."""
    ids = [s.id for s in services]
    if not ids:
        return {}
    from participation.accounts.models import user_services

    rows = db.session.execute(
        sa.select(user_services.c.service_id, User)
        .join(User, User.id == user_services.c.user_id)
        .where(
            user_services.c.service_id.in_(ids),
            User.staff_role.is_not(None),
            User.deleted_at.is_(None),
            User.blocked_at.is_(None),
            User.is_active_account.is_(True),
        )
        .order_by(sa.func.lower(User.display_name), User.id)
    ).all()
    result: dict[int, list[User]] = {service_id: [] for service_id in ids}
    for service_id, user in rows:
        result[service_id].append(user)
    return result
