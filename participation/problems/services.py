"""Business rules of the reports of local problems (signalements).

Services add and flush, never commit and never touch the request: the view commits once.
Each refusal is a :class:`ProblemError` with a French message (and the form field at fault).

Who does what:
- a citizen with an account reports (category, description, place, optional photo); they
  may ask for their name not to be shown publicly;
- staff triage: admins and moderators see and handle every report, an agent those of
  their services; each step (« Pris en charge », « En cours », « Résolu », or « Rejeté »
  with a reason) carries a public comment, and the reporter is notified each time (the
  notification centre, and an e-mail per their preferences);
- admins manage the categories (each mapped to the service that receives its reports);
- admins and moderators can hide a report from the public pages (moderation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload

from core import clock
from core.audit import audit
from core.db import db
from core.mail import send_mail
from core.routing import parse_int
from participation.accounts.models import Service, StaffRole, User
from participation.engagement import services as engagement
from participation.problems.models import (
    FINAL_STATUSES,
    STATUS_ORDER,
    ProblemCategory,
    ProblemEventKind,
    ProblemReport,
    ProblemReportEvent,
    ProblemStatus,
)
from tenants.context import current_tenant

DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 5_000
ADDRESS_MAX = 300
COMMENT_MAX = 5_000
CATEGORY_NAME_MAX = 120
PUBLIC_PER_PAGE = 50
STAFF_PER_PAGE = 50

STATUS_LABELS = {
    ProblemStatus.NEW: _l("Nouveau"),
    ProblemStatus.ACKNOWLEDGED: _l("Pris en charge"),
    ProblemStatus.IN_PROGRESS: _l("En cours"),
    ProblemStatus.RESOLVED: _l("Résolu"),
    ProblemStatus.REJECTED: _l("Rejeté"),
}


class ProblemError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def status_label(status: ProblemStatus | str | None) -> str:
    if status is None:
        return ""
    try:
        return str(STATUS_LABELS[ProblemStatus(status)])
    except ValueError:
        return str(status)


# --------------------------------------------------------------------------- categories


def categories(active_only: bool = True) -> list[ProblemCategory]:
    query = sa.select(ProblemCategory).options(joinedload(ProblemCategory.service))
    if active_only:
        query = query.where(ProblemCategory.is_active.is_(True))
    return list(db.session.scalars(query.order_by(ProblemCategory.position, ProblemCategory.name)))


def _clean(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def save_category(
    category: ProblemCategory | None,
    actor: User,
    *,
    name: str,
    description: str = "",
    service_id: int | None = None,
    position: int = 0,
    is_active: bool = True,
) -> ProblemCategory:
    name = " ".join((name or "").split())
    if not name:
        raise ProblemError(_("Donnez un nom à la catégorie."), "name")
    if len(name) > CATEGORY_NAME_MAX:
        raise ProblemError(_("Le nom ne peut pas dépasser 120 caractères."), "name")
    if service_id is not None and db.session.get(Service, service_id) is None:
        raise ProblemError(_("Ce service n'existe pas."), "service_id")
    clash = db.session.scalar(
        sa.select(ProblemCategory.id).where(
            sa.func.lower(ProblemCategory.name) == name.lower(),
            ProblemCategory.id != (category.id if category else 0),
        )
    )
    if clash is not None:
        raise ProblemError(_("Une catégorie porte déjà ce nom."), "name")
    created = category is None
    if created:
        category = ProblemCategory()
        db.session.add(category)
    category.name = name
    category.description = _clean(description)[:300]
    category.service_id = service_id
    category.position = position or 0
    category.is_active = bool(is_active)
    db.session.flush()
    audit(
        "problems.category_created" if created else "problems.category_updated",
        actor,
        "problem_category",
        category.id,
        name=name,
        service_id=service_id,
        is_active=category.is_active,
    )
    return category


# --------------------------------------------------------------------------- reporting


def check_coordinates(
    latitude: float | None, longitude: float | None
) -> tuple[float | None, float | None]:
    if latitude is None and longitude is None:
        return None, None
    if latitude is None or longitude is None:
        raise ProblemError(
            _("Indiquez la latitude et la longitude, ou aucune des deux."), "address"
        )
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise ProblemError(_("La latitude doit être comprise entre -90 et 90."), "address")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise ProblemError(_("La longitude doit être comprise entre -180 et 180."), "address")
    return round(latitude, 6), round(longitude, 6)


def create_report(
    reporter: User,
    *,
    category_id: int | None,
    description: str,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    image_name: str | None = None,
    anonymous: bool = False,
) -> ProblemReport:
    """A new report, « Nouveau », sent to its category's service; the reporter follows it
    through notifications (they are its reporter, no follow row is needed)."""
    category = db.session.get(ProblemCategory, category_id) if category_id else None
    if category is None or not category.is_active:
        raise ProblemError(_("Choisissez une catégorie."), "category_id")
    description = _clean(description)
    if len(description) < DESCRIPTION_MIN:
        raise ProblemError(
            _("Décrivez le problème en quelques mots (10 caractères au moins)."), "description"
        )
    if len(description) > DESCRIPTION_MAX:
        raise ProblemError(
            _("La description ne peut pas dépasser 5 000 caractères."), "description"
        )
    address = " ".join((address or "").split()) or None
    if address and len(address) > ADDRESS_MAX:
        raise ProblemError(_("L'adresse ne peut pas dépasser 300 caractères."), "address")
    latitude, longitude = check_coordinates(latitude, longitude)
    if latitude is None and not address:
        raise ProblemError(
            _("Indiquez où se trouve le problème : une adresse, ou un point sur la carte."),
            "address",
        )
    report = ProblemReport(
        category_id=category.id,
        reporter_id=reporter.id,
        is_anonymous=bool(anonymous),
        description=description,
        address=address,
        latitude=latitude,
        longitude=longitude,
        image_name=image_name,
        status=ProblemStatus.NEW,
        service_id=category.service_id,
    )
    db.session.add(report)
    db.session.flush()
    db.session.add(
        ProblemReportEvent(
            report_id=report.id,
            kind=ProblemEventKind.CREATED,
            to_status=ProblemStatus.NEW.value,
            service_id=category.service_id,
            actor_id=reporter.id,
            is_public=True,
        )
    )
    db.session.flush()
    if category.service is not None:
        _mail_service(report, category.service)
    return report


def _mail_service(report: ProblemReport, service: Service) -> None:
    """Tell the service's shared address, when it has one (after the commit)."""
    if not service.email:
        return
    from tenants.urls import tenant_url

    if report.latitude is not None:
        point = f"{report.latitude:.5f}, {report.longitude:.5f}"
        place = f"{report.address} ({point})" if report.address else point
    else:
        place = report.address or ""
    send_mail(
        service.email,
        "problem_for_service",
        report_id=report.id,
        category=report.category.name if report.category else "",
        description=report.description,
        place=place,
        service_name=service.name,
        staff_link=tenant_url(current_tenant(), "staff_problems.show", report_id=report.id),
        tenant=current_tenant(),
    )


# --------------------------------------------------------------------------- reading


def _report_query():
    return sa.select(ProblemReport).options(
        joinedload(ProblemReport.category),
        joinedload(ProblemReport.reporter),
        joinedload(ProblemReport.service),
    )


def get_report(report_id: int, lock: bool = False) -> ProblemReport | None:
    if lock:
        found = db.session.scalar(
            sa.select(ProblemReport).where(ProblemReport.id == report_id).with_for_update()
        )
        if found is None:
            return None
    return db.session.scalar(_report_query().where(ProblemReport.id == report_id))


def is_public(report: ProblemReport) -> bool:
    """Shown to everyone unless hidden by moderation or written by a blocked account."""
    return report.hidden_at is None and not (
        report.reporter is not None and report.reporter.blocked_at is not None
    )


def public_name(report: ProblemReport) -> str:
    if report.is_anonymous or report.reporter is None:
        return User.ANONYMOUS_NAME
    return report.reporter.public_name


def _public_clause():
    blocked = sa.select(User.id).where(User.blocked_at.is_not(None))
    return sa.and_(
        ProblemReport.hidden_at.is_(None),
        sa.or_(ProblemReport.reporter_id.is_(None), ProblemReport.reporter_id.not_in(blocked)),
    )


def _parse_status(value) -> ProblemStatus | None:
    try:
        return ProblemStatus(value) if value else None
    except ValueError:
        return None


def _parse_int(value) -> int | None:
    return parse_int(value)  # ASCII digits within PostgreSQL's range, else None


@dataclass
class ListQuery:
    status: ProblemStatus | None = None
    category_id: int | None = None
    service_id: int | None = None
    page: int = 1

    def args(self, **changes) -> dict:
        values = {
            "statut": self.status.value if self.status else None,
            "categorie": self.category_id,
            "service": self.service_id,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def parse_list_query(args) -> ListQuery:
    page = _parse_int(args.get("page")) or 1
    return ListQuery(
        status=_parse_status(args.get("statut")),
        category_id=_parse_int(args.get("categorie")),
        service_id=_parse_int(args.get("service")),
        page=max(1, min(page, 10_000)),
    )


def _newest_first(select: sa.Select, page: int, per_page: int) -> Pagination:
    """One page of reports, the most recent first (``items``, ``total``, ``pages``…)."""
    select = select.order_by(ProblemReport.created_at.desc(), ProblemReport.id.desc())
    return db.paginate(select, page=page, per_page=per_page, error_out=False)


def public_reports(query: ListQuery, per_page: int = PUBLIC_PER_PAGE) -> Pagination:
    select = _report_query().where(_public_clause())
    if query.status:
        select = select.where(ProblemReport.status == query.status)
    if query.category_id:
        select = select.where(ProblemReport.category_id == query.category_id)
    return _newest_first(select, query.page, per_page)


def public_events(
    report: ProblemReport, include_internal: bool = False
) -> list[ProblemReportEvent]:
    query = (
        sa.select(ProblemReportEvent)
        .options(joinedload(ProblemReportEvent.service), joinedload(ProblemReportEvent.actor))
        .where(ProblemReportEvent.report_id == report.id)
        .order_by(ProblemReportEvent.id)
    )
    if not include_internal:
        query = query.where(ProblemReportEvent.is_public.is_(True))
    return list(db.session.scalars(query))


def status_counts(public_only: bool = True) -> dict[ProblemStatus, int]:
    query = sa.select(ProblemReport.status, sa.func.count()).group_by(ProblemReport.status)
    if public_only:
        query = query.where(_public_clause())
    counts = dict.fromkeys(ProblemStatus, 0)
    counts.update(dict(db.session.execute(query).all()))
    return counts


# --------------------------------------------------------------------------- staff scope


def is_manager(user: User | None) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_staff", False)
        and user.staff_role in (StaffRole.ADMIN, StaffRole.MODERATOR)
    )


def _service_ids(user: User) -> list[int]:
    return [service.id for service in user.services]


def can_handle(user: User | None, report: ProblemReport) -> bool:
    """Managers handle every report, agents those sent to one of their services."""
    if user is None or not getattr(user, "is_staff", False):
        return False
    if is_manager(user):
        return True
    return report.service_id is not None and report.service_id in _service_ids(user)


def staff_reports(user: User, query: ListQuery, per_page: int = STAFF_PER_PAGE) -> Pagination:
    select = _report_query()
    if not is_manager(user):
        ids = _service_ids(user)
        select = select.where(ProblemReport.service_id.in_(ids) if ids else sa.false())
    if query.status:
        select = select.where(ProblemReport.status == query.status)
    if query.category_id:
        select = select.where(ProblemReport.category_id == query.category_id)
    if query.service_id:
        select = select.where(ProblemReport.service_id == query.service_id)
    return _newest_first(select, query.page, per_page)


def assignable_services(user: User) -> list[Service]:
    if is_manager(user):
        return list(db.session.scalars(sa.select(Service).order_by(sa.func.lower(Service.name))))
    return sorted(user.services, key=lambda s: s.name.lower())


# --------------------------------------------------------------------------- triage


def allowed_next_statuses(report: ProblemReport) -> list[ProblemStatus]:
    """Forward along Nouveau → Pris en charge → En cours → Résolu (steps may be skipped),
    or « Rejeté » before the end. « Résolu » and « Rejeté » are final."""
    if report.status in FINAL_STATUSES:
        return []
    index = STATUS_ORDER.index(report.status)
    return [*STATUS_ORDER[index + 1 :], ProblemStatus.REJECTED]


def _reporter_url(report: ProblemReport) -> str:
    return f"/signalements/{report.id}"


def change_status(
    report: ProblemReport,
    actor: User,
    status: ProblemStatus | str,
    comment: str = "",
    *,
    notify: bool = True,
) -> ProblemReportEvent:
    """Move the report one or more steps on, with a public comment (required to reject)."""
    if not can_handle(actor, report):
        raise ProblemError(_("Ce signalement ne relève pas de vos services."))
    try:
        status = ProblemStatus(status)
    except ValueError:
        raise ProblemError(_("Ce statut n'existe pas."), "status") from None
    comment = _clean(comment)
    if len(comment) > COMMENT_MAX:
        raise ProblemError(_("Le commentaire ne peut pas dépasser 5 000 caractères."), "comment")
    if status == report.status:
        raise ProblemError(_("Le signalement a déjà ce statut."), "status")
    if status not in allowed_next_statuses(report):
        if report.is_final:
            raise ProblemError(
                _(
                    "Ce signalement est clos (« %(label)s ») : son statut ne change plus.",
                    label=status_label(report.status),
                ),
                "status",
            )
        raise ProblemError(_("Un signalement ne revient pas à une étape précédente."), "status")
    if status == ProblemStatus.REJECTED and not comment:
        raise ProblemError(
            _(
                "Expliquez pourquoi le signalement est rejeté : la raison est publique et "
                "obligatoire."
            ),
            "comment",
        )
    previous = report.status
    report.status = status
    if status == ProblemStatus.REJECTED:
        report.status_reason = comment
    if status == ProblemStatus.RESOLVED:
        report.resolved_at = clock.utcnow()
    event = ProblemReportEvent(
        report_id=report.id,
        kind=ProblemEventKind.STATUS,
        from_status=previous.value,
        to_status=status.value,
        body=comment or None,
        actor_id=actor.id,
        is_public=True,
    )
    db.session.add(event)
    db.session.flush()
    audit(
        "problems.status_changed",
        actor,
        "problem_report",
        report.id,
        **{"from": previous.value, "to": status.value, "comment": comment},
    )
    if notify and report.reporter_id is not None:
        label = status_label(status)
        engagement.notify_user(
            report.reporter_id,
            kind="status.problem",
            title=_("Votre signalement n° %(id)d : « %(label)s »", id=report.id, label=label),
            body=comment,
            url=_reporter_url(report),
            target_type="problem_report",
            target_id=report.id,
        )
    return event


def assign_service(
    report: ProblemReport, actor: User, service_id: int | None
) -> ProblemReportEvent | None:
    """Send the report to another service (managers: any; agents: one of theirs)."""
    if not can_handle(actor, report):
        raise ProblemError(_("Ce signalement ne relève pas de vos services."))
    if service_id == report.service_id:
        return None
    if service_id is not None:
        service = db.session.get(Service, service_id)
        if service is None:
            raise ProblemError(_("Ce service n'existe pas."), "service_id")
    if not is_manager(actor) and (service_id is None or service_id not in _service_ids(actor)):
        raise ProblemError(
            _("Vous ne pouvez confier ce signalement qu'à l'un de vos services."), "service_id"
        )
    previous = report.service_id
    report.service_id = service_id
    event = ProblemReportEvent(
        report_id=report.id,
        kind=ProblemEventKind.ASSIGNMENT,
        service_id=service_id,
        actor_id=actor.id,
        is_public=False,
    )
    db.session.add(event)
    db.session.flush()
    audit(
        "problems.assigned",
        actor,
        "problem_report",
        report.id,
        **{"from": previous, "to": service_id},
    )
    if service_id is not None:
        _mail_service(report, db.session.get(Service, service_id))
    return event


def hide_report(report: ProblemReport, actor: User, reason: str) -> ProblemReportEvent:
    if not is_manager(actor):
        raise ProblemError(_("Seuls les modérateurs et administrateurs masquent un signalement."))
    reason = _clean(reason)
    if not reason:
        raise ProblemError(_("Indiquez la raison du masquage."), "reason")
    if report.hidden_at is not None:
        raise ProblemError(_("Ce signalement est déjà masqué."), "reason")
    report.hidden_at = clock.utcnow()
    report.hidden_reason = reason
    event = ProblemReportEvent(
        report_id=report.id,
        kind=ProblemEventKind.HIDDEN,
        body=reason,
        actor_id=actor.id,
        is_public=False,
    )
    db.session.add(event)
    db.session.flush()
    audit("problems.hidden", actor, "problem_report", report.id, reason=reason)
    return event


def restore_report(report: ProblemReport, actor: User, reason: str = "") -> ProblemReportEvent:
    if not is_manager(actor):
        raise ProblemError(_("Seuls les modérateurs et administrateurs masquent un signalement."))
    if report.hidden_at is None:
        raise ProblemError(_("Ce signalement n'est pas masqué."), "reason")
    report.hidden_at = None
    report.hidden_reason = None
    event = ProblemReportEvent(
        report_id=report.id,
        kind=ProblemEventKind.RESTORED,
        body=_clean(reason) or None,
        actor_id=actor.id,
        is_public=False,
    )
    db.session.add(event)
    db.session.flush()
    audit("problems.restored", actor, "problem_report", report.id, reason=_clean(reason))
    return event


def map_centre() -> tuple[float, float, int]:
    """Where the maps open: the middle of the public reports' points, else all of France."""
    lat, lon, count = db.session.execute(
        sa.select(
            sa.func.avg(ProblemReport.latitude),
            sa.func.avg(ProblemReport.longitude),
            sa.func.count(ProblemReport.latitude),
        ).where(_public_clause())
    ).one()
    if count:
        return float(lat), float(lon), 13
    return 46.6, 2.4, 5
