"""The staff side's lists: the filtered list of the proposals a staff member may answer
(a page of it, or all of it for the CSV export) and the dashboard of what waits for them
(unanswered proposals by age, overdue assignments per service, open reports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload

from core import clock
from core.audit import audit
from core.db import db
from core.routing import parse_int
from participation.accounts.models import Service, User
from participation.engagement.models import Report, ReportStatus
from participation.processes.models import Process
from participation.proposals.models import Proposal, ProposalStatus
from participation.proposals.services.common import OPEN_STATUSES
from participation.proposals.services.queries import french_tsquery
from participation.proposals.services.scope import is_manager, scope_clause

STAFF_PER_PAGE = 50
#: Age buckets of the proposals waiting for an answer: (lower bound, upper bound) in days.
AGE_BUCKETS = (
    (0, 7, _l("Moins de 7 jours")),
    (7, 30, _l("De 7 à 30 jours")),
    (30, 90, _l("De 30 à 90 jours")),
    (90, None, _l("Plus de 90 jours")),
)


@dataclass
class StaffQuery:
    process_id: int | None = None
    status: ProposalStatus | None = None
    service_id: int | None = None  # 0: without a service
    theme_id: int | None = None
    neighbourhood_id: int | None = None
    waiting: bool = False
    overdue: bool = False
    q: str = ""
    page: int = 1

    def args(self, **overrides) -> dict:
        values = {
            "process": self.process_id,
            "status": self.status.value if self.status else None,
            "service": self.service_id,
            "theme": self.theme_id,
            "neighbourhood": self.neighbourhood_id,
            "waiting": "1" if self.waiting else None,
            "overdue": "1" if self.overdue else None,
            "q": self.q or None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "")}


def parse_staff_query(args) -> StaffQuery:
    query = StaffQuery()
    query.process_id = parse_int(args.get("process"))
    try:
        query.status = ProposalStatus(args.get("status") or "")
    except ValueError:
        query.status = None
    service = args.get("service")
    query.service_id = 0 if service == "0" else parse_int(service)
    query.theme_id = parse_int(args.get("theme"))
    query.neighbourhood_id = parse_int(args.get("neighbourhood"))
    query.waiting = args.get("waiting") in ("1", "on", "y")
    query.overdue = args.get("overdue") in ("1", "on", "y")
    query.q = " ".join((args.get("q") or "").split())[:200]
    query.page = parse_int(args.get("page")) or 1
    return query


def _waiting_clause():
    return sa.and_(Proposal.answer.is_(None), Proposal.status.in_(OPEN_STATUSES))


def staff_select(
    actor: User, query: StaffQuery, today: date | None = None, include_withdrawn: bool = False
):
    """Proposals ``actor`` may answer, filtered (withdrawn ones left out unless asked)."""
    today = today or clock.paris_today()
    stmt = sa.select(Proposal).where(scope_clause(actor))
    if not include_withdrawn:
        stmt = stmt.where(Proposal.withdrawn_at.is_(None))
    if query.process_id:
        stmt = stmt.where(Proposal.process_id == query.process_id)
    if query.status:
        stmt = stmt.where(Proposal.status == query.status)
    if query.service_id == 0:
        stmt = stmt.where(Proposal.service_id.is_(None))
    elif query.service_id:
        stmt = stmt.where(Proposal.service_id == query.service_id)
    if query.theme_id:
        stmt = stmt.where(Proposal.theme_id == query.theme_id)
    if query.neighbourhood_id:
        stmt = stmt.where(Proposal.neighbourhood_id == query.neighbourhood_id)
    if query.waiting:
        stmt = stmt.where(_waiting_clause())
    if query.overdue:
        stmt = stmt.where(_waiting_clause(), Proposal.due_on < today)
    if query.q:
        if query.q.isdigit():
            stmt = stmt.where(
                sa.or_(
                    Proposal.id == int(query.q),
                    Proposal.search_vector.op("@@")(french_tsquery(query.q)),
                )
            )
        else:
            stmt = stmt.where(Proposal.search_vector.op("@@")(french_tsquery(query.q)))
    return stmt


def _staff_options():
    return (
        joinedload(Proposal.author),
        joinedload(Proposal.theme),
        joinedload(Proposal.neighbourhood),
        joinedload(Proposal.service),
        joinedload(Proposal.assignee),
        joinedload(Proposal.process),
    )


def staff_list(actor: User, query: StaffQuery, per_page: int = STAFF_PER_PAGE) -> Pagination:
    """One page of the list, oldest first (Flask-SQLAlchemy's pagination: ``items``,
    ``total``, ``pages``, which is 0 when nothing matches)."""
    stmt = (
        staff_select(actor, query)
        .options(*_staff_options())
        .order_by(Proposal.created_at.asc(), Proposal.id.asc())
    )
    return db.paginate(stmt, page=query.page, per_page=per_page, error_out=False)


def staff_export_rows(actor: User, query: StaffQuery) -> list[Proposal]:
    """What the export holds: the list's proposals, withdrawn ones included (a dated column
    says so), all pages."""
    stmt = staff_select(actor, query, include_withdrawn=True)
    return list(
        db.session.scalars(
            stmt.options(*_staff_options()).order_by(Proposal.created_at, Proposal.id)
        )
    )


def record_export(actor: User, count: int, filters: dict) -> None:
    audit("proposals.exported", actor, "proposal", None, rows=count, filters=filters)


def processes_with_proposals() -> list[Process]:
    return list(
        db.session.scalars(
            sa.select(Process)
            .where(sa.exists().where(Proposal.process_id == Process.id))
            .order_by(Process.title)
        )
    )


@dataclass
class Dashboard:
    buckets: list[tuple[str, int, int | None, int]] = field(default_factory=list)
    waiting_total: int = 0
    oldest: list[Proposal] = field(default_factory=list)
    overdue: list[tuple[int | None, str, int]] = field(default_factory=list)
    overdue_total: int = 0
    open_reports: int | None = None


def dashboard(actor: User, today: date | None = None, now: datetime | None = None) -> Dashboard:
    """What waits for ``actor``: unanswered proposals by age, overdue assignments per
    service, and (for moderators and admins) the open reports."""
    today = today or clock.paris_today()
    now = now or clock.utcnow()
    waiting = sa.and_(scope_clause(actor), Proposal.withdrawn_at.is_(None), _waiting_clause())
    columns = []
    for low, high, _label in AGE_BUCKETS:
        condition = Proposal.created_at <= now - timedelta(days=low)
        if high is not None:
            condition = sa.and_(condition, Proposal.created_at > now - timedelta(days=high))
        columns.append(sa.func.count().filter(condition))
    counts = db.session.execute(sa.select(*columns).where(waiting)).one()
    result = Dashboard()
    result.buckets = [
        (str(label), low, high, count)
        for (low, high, label), count in zip(AGE_BUCKETS, counts, strict=True)
    ]
    result.waiting_total = sum(counts)
    result.oldest = list(
        db.session.scalars(
            sa.select(Proposal)
            .where(waiting)
            .options(joinedload(Proposal.service), joinedload(Proposal.process))
            .order_by(Proposal.created_at, Proposal.id)
            .limit(10)
        )
    )
    rows = db.session.execute(
        sa.select(Proposal.service_id, Service.name, sa.func.count())
        .select_from(Proposal)
        .outerjoin(Service, Service.id == Proposal.service_id)
        .where(waiting, Proposal.due_on < today)
        .group_by(Proposal.service_id, Service.name)
        .order_by(sa.func.count().desc(), Service.name)
    ).all()
    result.overdue = [(sid, name or str(_l("Sans service")), count) for sid, name, count in rows]
    result.overdue_total = sum(count for _sid, _name, count in rows)
    if is_manager(actor):
        result.open_reports = (
            db.session.scalar(
                sa.select(sa.func.count(Report.id)).where(Report.status == ReportStatus.OPEN)
            )
            or 0
        )
    return result
