"""Finding processes: the public list (filters, the order of each status), the home page's
groups, the staff list and the look-ups. Which processes the public sees is
``participation.processes.visibility``'s rule; here it is only applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload, selectinload

from core.db import db
from participation.processes import visibility
from participation.processes.models import Phase, Process, ProcessState
from participation.processes.services.common import (
    HOME_PER_GROUP,
    STATUS_SLUGS,
    ProcessStatus,
    is_valid_id,
)
from participation.processes.services.timeline import ProcessOverview, process_overview


def with_details(query: sa.Select) -> sa.Select:
    """``query`` loading what a process's card or page shows: phases, theme, quartier."""
    return query.options(
        selectinload(Process.phases),
        joinedload(Process.theme),
        joinedload(Process.neighbourhood),
    )


def _bounds():
    """First and last day of each process's timeline."""
    return (
        sa.select(
            Phase.process_id.label("process_id"),
            sa.func.min(Phase.starts_on).label("first_day"),
            sa.func.max(Phase.ends_on).label("last_day"),
        )
        .group_by(Phase.process_id)
        .subquery("bounds")
    )


def _status_expression(bounds, today: date):
    # NULL bounds (no phase) compare as false: such a process counts as upcoming, as in
    # timeline.process_status().
    return sa.case(
        (Process.state == ProcessState.ARCHIVED, ProcessStatus.FINISHED.value),
        (bounds.c.last_day < today, ProcessStatus.FINISHED.value),
        (bounds.c.first_day <= today, ProcessStatus.OPEN.value),
        else_=ProcessStatus.UPCOMING.value,
    )


def _public_query(bounds):
    return visibility.public_processes().outerjoin(bounds, bounds.c.process_id == Process.id)


def _order_within(status: ProcessStatus, bounds) -> tuple:
    if status == ProcessStatus.OPEN:
        return (bounds.c.last_day.asc().nulls_last(), Process.id)  # closing soonest first
    if status == ProcessStatus.UPCOMING:
        return (bounds.c.first_day.asc().nulls_last(), Process.id)
    return (bounds.c.last_day.desc().nulls_last(), Process.id.desc())


def public_processes_of_status(today: date, status: str | None = None) -> sa.Select:
    """The public processes (details loaded, unordered), only those of ``status`` on
    ``today`` when given ("open", "upcoming" or "finished"): the API's list."""
    bounds = _bounds()
    query = with_details(_public_query(bounds))
    if status:
        query = query.where(_status_expression(bounds, today) == ProcessStatus(status).value)
    return query


def public_process_page(
    today: date,
    status: ProcessStatus | None = None,
    theme_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Pagination:
    """One page of the public list (published and archived processes)."""
    bounds = _bounds()
    status_expr = _status_expression(bounds, today)
    query = _public_query(bounds)
    if status is not None:
        query = query.where(status_expr == status.value)
    if theme_id:
        query = query.where(Process.theme_id == theme_id)
    if status is not None:
        order = _order_within(status, bounds)
    else:
        rank = sa.case(
            (status_expr == ProcessStatus.OPEN.value, 0),
            (status_expr == ProcessStatus.UPCOMING.value, 1),
            else_=2,
        )
        within = sa.case(
            (status_expr == ProcessStatus.OPEN.value, bounds.c.last_day),
            (status_expr == ProcessStatus.UPCOMING.value, bounds.c.first_day),
        )
        order = (
            rank,
            within.asc().nulls_last(),
            bounds.c.last_day.desc().nulls_last(),
            Process.id.desc(),
        )
    return db.paginate(
        with_details(query.order_by(*order)), page=page, per_page=per_page, error_out=False
    )


@dataclass(frozen=True)
class HomeGroup:
    status: ProcessStatus
    overviews: list[ProcessOverview]
    total: int

    @property
    def slug(self) -> str:
        return next(slug for slug, status in STATUS_SLUGS.items() if status == self.status)


def home_groups(today: date, per_group: int = HOME_PER_GROUP) -> list[HomeGroup]:
    """Open, upcoming and finished processes for the home page: at most ``per_group`` of
    each, with the size of each group. A fixed number of queries, whatever the data."""
    bounds = _bounds()
    status_expr = _status_expression(bounds, today)
    counts = dict(
        db.session.execute(
            sa.select(status_expr, sa.func.count())
            .select_from(Process)
            .outerjoin(bounds, bounds.c.process_id == Process.id)
            .where(visibility.public_clause())
            .group_by(status_expr)
        ).all()
    )
    groups = []
    for status in (ProcessStatus.OPEN, ProcessStatus.UPCOMING, ProcessStatus.FINISHED):
        processes: list[Process] = []
        if counts.get(status.value):
            processes = list(
                db.session.scalars(
                    with_details(
                        _public_query(bounds)
                        .where(status_expr == status.value)
                        .order_by(*_order_within(status, bounds))
                        .limit(per_group)
                    )
                )
            )
        groups.append(
            HomeGroup(
                status=status,
                overviews=[process_overview(p, today) for p in processes],
                total=counts.get(status.value, 0),
            )
        )
    return groups


def staff_process_page(state: str | None = None, page: int = 1, per_page: int = 50) -> Pagination:
    """Every process, drafts included (most recently changed first), one page at a time."""
    query = sa.select(Process)
    if state:
        query = query.where(Process.state == ProcessState(state))
    query = with_details(query.order_by(Process.updated_at.desc(), Process.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, max_per_page=None, error_out=False)


def staff_processes(
    state: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[Process], int]:
    """:func:`staff_process_page` as ``(processes, total)``, the form budgets' views read."""
    found = staff_process_page(state, page, per_page)
    return found.items, found.total or 0


def get_process(process_id: int, lock: bool = False) -> Process | None:
    """A process in any state, with its phases, theme and quartier loaded."""
    if not is_valid_id(process_id):
        return None
    query = with_details(sa.select(Process).where(Process.id == process_id))
    if lock:
        # Phase changes are checked against the other phases: one writer at a time.
        query = query.with_for_update(of=Process).execution_options(populate_existing=True)
    return db.session.scalar(query)


def get_public_process(process_id: int) -> Process | None:
    process = get_process(process_id)
    return process if visibility.is_public(process) else None
