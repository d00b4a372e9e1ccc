"""Reports and moderation: citizens report content, moderators hide or restore it, dismiss
the reports, or block its author (which hides every contribution of the account).

What can be reported and hidden comes from the registry of targets
(:mod:`participation.engagement.services.targets`). Every moderator's action goes to the
audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from core import clock
from core.audit import audit
from core.db import db
from participation.accounts.models import User
from participation.engagement.models import Report, ReportReason, ReportStatus, TargetType
from participation.engagement.services.notifications import notify_user
from participation.engagement.services.targets import (
    EngagementError,
    as_target_type,
    content_preview,
    get_target,
    is_reportable,
    load_targets,
    moderated_models,
    required_tenant,
    target_url,
)

REASON_LABELS = {
    ReportReason.SPAM: _l("Publicité ou spam"),
    ReportReason.ABUSE: _l("Insultes ou harcèlement"),
    ReportReason.HATE: _l("Propos haineux ou discriminatoires"),
    ReportReason.PERSONAL_DATA: _l("Données personnelles exposées"),
    ReportReason.OFF_TOPIC: _l("Hors sujet"),
    ReportReason.OTHER: _l("Autre raison (à préciser)"),
}

#: The public reason of content hidden because its author was blocked (the block reason
#: itself stays between the moderation and the person).
BLOCKED_CONTENT_REASON = "Le compte de son auteur a été bloqué par la modération."

QUEUE_LIMIT = 500


class ModerationError(EngagementError):
    pass


# --------------------------------------------------------------------------- reports


def report_content(
    reporter: User,
    target_type: TargetType | str,
    target_id: int,
    reason: ReportReason | str,
    details: str = "",
) -> Report:
    target_type = as_target_type(target_type)
    if not is_reportable(target_type):
        raise EngagementError(_("Ce contenu ne peut pas être signalé."))
    target = get_target(target_type, target_id)
    if target is None or getattr(target, "deleted_at", None) is not None:
        raise EngagementError(_("Ce contenu n'existe pas ou a été supprimé."))
    if getattr(target, "author_id", None) == reporter.id:
        raise EngagementError(_("Vous ne pouvez pas signaler votre propre contribution."))
    try:
        reason = ReportReason(reason)
    except ValueError as exc:
        raise EngagementError(_("Choisissez la raison du signalement.")) from exc
    details = (details or "").strip()
    if reason == ReportReason.OTHER and not details:
        raise EngagementError(_("Précisez la raison du signalement."))
    already = db.session.scalar(
        sa.select(Report.id).where(
            Report.reporter_id == reporter.id,
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.status == ReportStatus.OPEN,
        )
    )
    if already is not None:
        raise EngagementError(
            _("Vous avez déjà signalé ce contenu : l'équipe de modération va l'examiner.")
        )
    report = Report(
        reporter_id=reporter.id,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details,
        status=ReportStatus.OPEN,
    )
    db.session.add(report)
    db.session.flush()
    return report


def _settle_reports(
    pairs: Iterable[tuple[TargetType, int]],
    status: ReportStatus,
    moderator: User,
    note: str | None,
) -> int:
    by_type: dict[TargetType, list[int]] = {}
    for target_type, target_id in pairs:
        by_type.setdefault(TargetType(target_type), []).append(target_id)
    if not by_type:
        return 0
    condition = sa.or_(
        *(
            sa.and_(Report.target_type == target_type, Report.target_id.in_(ids))
            for target_type, ids in by_type.items()
        )
    )
    result = db.session.execute(
        sa.update(Report)
        .where(Report.status == ReportStatus.OPEN, condition)
        .values(
            status=status,
            resolved_by_id=moderator.id,
            resolved_at=clock.utcnow(),
            resolution_note=note,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --------------------------------------------------------------------------- moderation


def _moderated(target_type: TargetType | str, target_id: int):
    target_type = as_target_type(target_type)
    model = moderated_models().get(target_type)
    if model is None:
        raise ModerationError(_("Ce contenu ne peut pas être masqué."))
    target = db.session.get(model, target_id)
    if target is None:
        raise ModerationError(_("Ce contenu n'existe pas."))
    return target_type, target


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(_("Indiquez la raison : elle est affichée avec le contenu."))
    return reason


def hide_content(target_type: TargetType | str, target_id: int, reason: str, moderator: User):
    """Hide a proposal, an argument or a comment with a public reason; the open reports on
    it are resolved and its author is told. Returns the hidden row."""
    reason = _reason(reason)
    target_type, target = _moderated(target_type, target_id)
    if target.hidden_at is not None:
        raise ModerationError(_("Ce contenu est déjà masqué."))
    target.hidden_at = clock.utcnow()
    target.hidden_reason = reason
    settled = _settle_reports([(target_type, target_id)], ReportStatus.RESOLVED, moderator, reason)
    audit("moderation.hide", moderator, target_type, target_id, reason=reason, reports=settled)
    if target.author_id and target.author_id != moderator.id:
        notify_user(
            target.author_id,
            kind="moderation",
            title=_("Une de vos contributions a été masquée par la modération"),
            body=_("Raison indiquée : %(reason)s", reason=reason),
            url=target_url(target_type, target_id),
            target_type=target_type,
            target_id=target_id,
        )
    db.session.flush()
    return target


def restore_content(target_type: TargetType | str, target_id: int, reason: str, moderator: User):
    """Show hidden content again (the reason goes to the audit log)."""
    reason = _reason(reason)
    target_type, target = _moderated(target_type, target_id)
    if target.hidden_at is None:
        raise ModerationError(_("Ce contenu n'est pas masqué."))
    author = db.session.get(User, target.author_id) if target.author_id else None
    if author is not None and author.blocked_at is not None:
        raise ModerationError(
            _("Son auteur est bloqué : débloquez d'abord le compte pour rétablir ce contenu.")
        )
    previous = target.hidden_reason
    target.hidden_at = None
    target.hidden_reason = None
    audit("moderation.restore", moderator, target_type, target_id, reason=reason, previous=previous)
    db.session.flush()
    return target


def dismiss_reports(
    target_type: TargetType | str, target_id: int, note: str, moderator: User
) -> int:
    """Close the open reports on a target without acting on it."""
    target_type = as_target_type(target_type)
    note = (note or "").strip() or None
    count = _settle_reports([(target_type, target_id)], ReportStatus.DISMISSED, moderator, note)
    if not count:
        raise ModerationError(_("Il n'y a aucun signalement ouvert sur ce contenu."))
    audit("moderation.dismiss", moderator, target_type, target_id, note=note, reports=count)
    return count


def block_user(user: User, reason: str, moderator: User) -> dict[str, int]:
    """Block an account: log-in refused, sessions ended, every contribution hidden.

    The contributions hidden by the block carry ``hidden_at == blocked_at``, so unblocking
    shows again exactly those, not what was hidden separately. Returns the counts hidden.
    """
    reason = _reason(reason)
    if user.id == moderator.id:
        raise ModerationError(_("Vous ne pouvez pas bloquer votre propre compte."))
    if user.is_deleted:
        raise ModerationError(_("Ce compte a été supprimé."))
    if user.staff_role is not None:
        raise ModerationError(
            _(
                "Ce compte fait partie de l'équipe : un administrateur doit d'abord lui "
                "retirer son rôle."
            )
        )
    if user.blocked_at is not None:
        raise ModerationError(_("Ce compte est déjà bloqué."))
    blocked_at = clock.utcnow()
    user.blocked_at = blocked_at
    user.blocked_reason = reason
    user.end_all_sessions()
    hidden: dict[str, int] = {}
    pairs: list[tuple[TargetType, int]] = []
    for target_type, model in moderated_models().items():
        ids = list(
            db.session.scalars(
                sa.update(model)
                .where(model.author_id == user.id, model.hidden_at.is_(None))
                .values(hidden_at=blocked_at, hidden_reason=BLOCKED_CONTENT_REASON)
                .returning(model.id)
                .execution_options(synchronize_session=False)
            )
        )
        hidden[target_type.value] = len(ids)
        pairs.extend((target_type, i) for i in ids)
    pairs.append((TargetType.USER, user.id))
    settled = _settle_reports(pairs, ReportStatus.RESOLVED, moderator, reason)
    if user.email:
        _mail_block_notice(user, reason)
    _account_moderated(
        "moderation.block_user", user, moderator, reason=reason, hidden=hidden, reports=settled
    )
    return hidden


def _mail_block_notice(user: User, reason: str) -> None:
    """The reason goes to the person (a statement of reasons), whatever their preferences."""
    from core.mail import send_mail
    from tenants.urls import tenant_url

    tenant = required_tenant()
    charter_url = tenant_url(tenant, "accounts.charter")
    send_mail(
        user.email,
        "notification_account_blocked",
        user=user,
        tenant=tenant,
        reason=reason,
        charter_url=charter_url,
    )


def unblock_user(user: User, reason: str, moderator: User) -> dict[str, int]:
    """Unblock an account and show again the contributions its block had hidden."""
    reason = _reason(reason)
    if user.blocked_at is None:
        raise ModerationError(_("Ce compte n'est pas bloqué."))
    blocked_at = user.blocked_at
    restored: dict[str, int] = {}
    for target_type, model in moderated_models().items():
        result = db.session.execute(
            sa.update(model)
            .where(
                model.author_id == user.id,
                model.hidden_at == blocked_at,
                model.hidden_reason == BLOCKED_CONTENT_REASON,
            )
            .values(hidden_at=None, hidden_reason=None)
            .execution_options(synchronize_session=False)
        )
        restored[target_type.value] = result.rowcount or 0
    previous = user.blocked_reason
    user.blocked_at = None
    user.blocked_reason = None
    _account_moderated(
        "moderation.unblock_user",
        user,
        moderator,
        reason=reason,
        previous=previous,
        restored=restored,
    )
    return restored


def _account_moderated(action: str, user: User, moderator: User, **details) -> None:
    """Log a block or an unblock, then forget the rows its bulk updates changed."""
    audit(action, moderator, "user", user.id, **details)
    db.session.flush()
    _expire_moderated()


def _expire_moderated() -> None:
    """Bulk updates bypass the identity map: forget the moderated rows it holds."""
    moderated = (*moderated_models().values(), Report)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, moderated):
            db.session.expire(obj)


# --------------------------------------------------------------------------- queue


@dataclass
class QueueItem:
    target_type: TargetType
    target_id: int
    target: object | None
    reports: list[Report] = field(default_factory=list)

    @property
    def author(self) -> User | None:
        return getattr(self.target, "author", None)

    @property
    def preview(self) -> str:
        return content_preview(self.target)

    @property
    def reasons(self) -> list[str]:
        seen: list[str] = []
        for report in self.reports:
            label = str(REASON_LABELS[report.reason])
            if label not in seen:
                seen.append(label)
        return seen

    @property
    def first_reported_at(self) -> datetime:
        return min(r.created_at for r in self.reports)


def moderation_queue(limit: int = QUEUE_LIMIT) -> list[QueueItem]:
    """Open reports grouped by target, the longest-waiting target first."""
    reports = list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.status == ReportStatus.OPEN)
            .options(joinedload(Report.reporter))
            .order_by(Report.created_at, Report.id)
            .limit(limit)
        )
    )
    items: dict[tuple[TargetType, int], QueueItem] = {}
    for report in reports:
        key = (report.target_type, report.target_id)
        if key not in items:
            items[key] = QueueItem(report.target_type, report.target_id, None)
        items[key].reports.append(report)
    targets = load_targets(items)
    for key, item in items.items():
        item.target = targets.get(key)
    return list(items.values())


def open_report_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Report.status == ReportStatus.OPEN))


def reports_on(target_type: TargetType | str, target_id: int) -> list[Report]:
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.target_type == as_target_type(target_type), Report.target_id == target_id)
            .options(joinedload(Report.reporter))
            .order_by(Report.created_at.desc())
        )
    )


def blocked_users() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.blocked_at.is_not(None)).order_by(User.blocked_at.desc())
        )
    )


def contribution_counts(user_id: int) -> dict[str, int]:
    """How many proposals, arguments and comments a user wrote (hidden ones included)."""
    counts = {}
    for target_type, model in moderated_models().items():
        counts[target_type.value] = db.session.scalar(
            sa.select(sa.func.count()).where(model.author_id == user_id)
        )
    return counts
