"""What visitors read of the proposals: lookups (a proposal with what its page shows,
its timeline, the filters' themes and quartiers), the public list of a process (filters,
full-text search, sorts, one query per page whatever its size) and the summary a process
page shows. Read-only: nothing here writes."""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import defer, joinedload

from core import clock
from core.db import db
from core.routing import parse_int
from participation.accounts.models import Neighbourhood, User
from participation.engagement.comments import Comment
from participation.processes.models import Process, ProcessState, Theme
from participation.proposals.models import Proposal, ProposalEvent, ProposalStatus, Support
from participation.proposals.services.settings import status_labels
from tenants import cache as tenant_values

# The filters' themes and quartiers are read on every list, cached per process and tenant
# (tenants.cache): a change to either table forgets them.
tenant_values.watch(Theme, Neighbourhood)

SORTS = ("recent", "supports", "random", "relevance")
PER_PAGE_CHOICES = (10, 20, 50)
DEFAULT_PER_PAGE = 20
SEED_RE = re.compile(r"^[0-9a-z]{4,16}$")
#: Characters of the body read for a card's excerpt (of about 220 shown).
EXCERPT_SOURCE_CHARS = 300

# --------------------------------------------------------------------------- lookups


def themes() -> list[Theme]:
    return list(db.session.scalars(sa.select(Theme).order_by(Theme.position, Theme.name)))


def neighbourhoods() -> list[Neighbourhood]:
    return list(
        db.session.scalars(
            sa.select(Neighbourhood).order_by(Neighbourhood.position, Neighbourhood.name)
        )
    )


def themes_and_neighbourhoods() -> tuple[list, list]:
    """Both lists of the filters: ``(themes, neighbourhoods)`` as rows with ``id`` and
    ``name``, in display order; read in one round trip once per process and tenant, and
    again after a theme or a quartier changes (tenants.cache)."""
    return tenant_values.cached("proposal_filters", _load_themes_and_neighbourhoods)


def _load_themes_and_neighbourhoods() -> tuple[list, list]:
    themes_q = sa.select(sa.literal("theme").label("kind"), Theme.id, Theme.name, Theme.position)
    places_q = sa.select(
        sa.literal("place").label("kind"),
        Neighbourhood.id,
        Neighbourhood.name,
        Neighbourhood.position,
    )
    union = sa.union_all(themes_q, places_q).subquery()
    rows = db.session.execute(
        sa.select(union).order_by(union.c.kind, union.c.position, union.c.name)
    ).all()
    return (
        [row for row in rows if row.kind == "theme"],
        [row for row in rows if row.kind == "place"],
    )


def get_process(process_id: int) -> Process | None:
    """The process with its phases (one query: a process has a handful of phases)."""
    return (
        db.session.scalars(
            sa.select(Process).where(Process.id == process_id).options(joinedload(Process.phases))
        )
        .unique()
        .first()
    )


def process_is_public(process: Process | None) -> bool:
    return process is not None and process.state != ProcessState.DRAFT


def _page_query(proposal_id: int):
    return (
        sa.select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(
            joinedload(Proposal.author),
            joinedload(Proposal.theme),
            joinedload(Proposal.neighbourhood),
            joinedload(Proposal.process).joinedload(Process.phases),
        )
    )


def get_proposal(proposal_id: int) -> Proposal | None:
    """The proposal with everything its page shows, in one query."""
    return db.session.scalars(_page_query(proposal_id)).unique().first()


def get_proposal_for(proposal_id: int, viewer: User | None) -> tuple[Proposal | None, bool]:
    """The proposal as :func:`get_proposal`, and whether ``viewer`` supports it, in the
    same round trip."""
    viewer_id = viewer.id if viewer is not None and viewer.is_authenticated else None
    row = (
        db.session.execute(_page_query(proposal_id).add_columns(_supported_by(viewer_id)))
        .unique()
        .first()
    )
    return (row[0], bool(row[1])) if row is not None else (None, False)


def lock_proposal(proposal_id: int) -> Proposal | None:
    """The proposal, its row locked until the end of the transaction (staff changes)."""
    return db.session.scalar(
        sa.select(Proposal)
        .where(Proposal.id == proposal_id)
        .with_for_update(of=Proposal)
        .execution_options(populate_existing=True)
    )


def author_is_blocked(proposal: Proposal) -> bool:
    return proposal.author is not None and proposal.author.blocked_at is not None


def is_public(proposal: Proposal) -> bool:
    """Shown to everyone: not hidden by moderation, author not blocked, process published."""
    return (
        proposal.hidden_at is None
        and not author_is_blocked(proposal)
        and process_is_public(proposal.process)
    )


def events_for(proposal: Proposal, *, include_internal: bool = False) -> list[ProposalEvent]:
    query = (
        sa.select(ProposalEvent)
        .where(ProposalEvent.proposal_id == proposal.id)
        .options(joinedload(ProposalEvent.actor))
        .order_by(ProposalEvent.created_at, ProposalEvent.id)
    )
    if not include_internal:
        query = query.where(ProposalEvent.is_public.is_(True))
    return list(db.session.scalars(query))


def has_supported(proposal: Proposal, user: User | None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                Support.proposal_id == proposal.id, Support.user_id == user.id
            )
        )
        is not None
    )


def proposal_with_image(name: str) -> Proposal | None:
    """The proposal showing this image: its state decides who may see the picture."""
    return db.session.scalar(
        sa.select(Proposal)
        .where(Proposal.image_path == name)
        .options(joinedload(Proposal.process), joinedload(Proposal.author))
        .limit(1)
    )


# --------------------------------------------------------------------------- public lists


@dataclass
class ListQuery:
    """What a visitor asked of a process's list (already validated)."""

    theme_id: int | None = None
    status: ProposalStatus | None = None
    neighbourhood_id: int | None = None
    q: str = ""
    sort: str = "recent"
    seed: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def args(self, **overrides) -> dict:
        """Query-string arguments that reproduce this list (for links and pagination)."""
        values = {
            "theme": self.theme_id,
            "status": self.status.value if self.status else None,
            "neighbourhood": self.neighbourhood_id,
            "q": self.q or None,
            "sort": self.sort,
            "seed": self.seed if self.sort == "random" else None,
            "per_page": self.per_page if self.per_page != DEFAULT_PER_PAGE else None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(overrides)
        return {key: value for key, value in values.items() if value not in (None, "")}


def new_seed() -> str:
    return secrets.token_hex(4)


def parse_list_query(args) -> ListQuery:
    """A ListQuery from query-string arguments; anything invalid falls back to a default."""
    query = ListQuery()
    # parse_int: ASCII digits within PostgreSQL's range, else None.
    query.theme_id = parse_int(args.get("theme"))
    query.neighbourhood_id = parse_int(args.get("neighbourhood"))
    try:
        query.status = ProposalStatus(args.get("status") or "")
    except ValueError:
        query.status = None
    query.q = " ".join((args.get("q") or "").split())[:200]
    sort = args.get("sort") or ("relevance" if query.q else "recent")
    if sort not in SORTS or (sort == "relevance" and not query.q):
        sort = "recent"
    query.sort = sort
    seed = (args.get("seed") or "").lower()
    query.seed = seed if SEED_RE.fullmatch(seed) else None
    query.page = parse_int(args.get("page")) or 1
    per_page = parse_int(args.get("per_page"))
    query.per_page = per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE
    return query


@dataclass
class Page:
    """One page of the public list, read the way Flask-SQLAlchemy's ``Pagination`` is
    (``items``, ``total``, ``page``, ``per_page``, ``pages``, ``has_prev``, ``has_next``) so
    that the templates read both lists alike. Not ``db.paginate``: that runs a count query
    besides the page's, where :func:`list_proposals` gets both in one."""

    items: list
    total: int
    page: int
    per_page: int
    #: For the public cards: visible comments per proposal id, ids the viewer supports.
    comments: dict[int, int] = field(default_factory=dict)
    supported: set[int] = field(default_factory=set)
    excerpts: dict[int, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """The number of pages; 0 when nothing matches, as Flask-SQLAlchemy's."""
        return math.ceil(self.total / self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _not_blocked():
    return ~sa.exists().where(User.id == Proposal.author_id, User.blocked_at.is_not(None))


def french_tsquery(q: str):
    """The search words typed by a visitor, as a French full-text query (web syntax)."""
    return sa.func.websearch_to_tsquery(sa.literal_column("'french'::regconfig"), q)


def public_proposals_query(process_id: int):
    """Proposals of a process that everyone may see in lists (not withdrawn nor hidden)."""
    return sa.select(Proposal).where(
        Proposal.process_id == process_id,
        Proposal.hidden_at.is_(None),
        Proposal.withdrawn_at.is_(None),
        _not_blocked(),
    )


def list_proposals(process_id: int, query: ListQuery, viewer: User | None = None) -> Page:
    """One page of a process's proposals, in one query whatever the page size.

    An inner query picks the page's ids on the narrow rows (sort, offset, limit) with the
    total as a window count; the outer one joins back the full rows with what the cards
    show: author, theme and neighbourhood, the visible comments and whether ``viewer``
    supports each. Sorting the full rows, bodies included, before the limit would cost far
    more on a large process."""
    base = public_proposals_query(process_id)
    if query.theme_id:
        base = base.where(Proposal.theme_id == query.theme_id)
    if query.neighbourhood_id:
        base = base.where(Proposal.neighbourhood_id == query.neighbourhood_id)
    if query.status:
        base = base.where(Proposal.status == query.status)
    tsquery = None
    if query.q:
        tsquery = french_tsquery(query.q)
        base = base.where(Proposal.search_vector.op("@@")(tsquery))

    if query.sort == "supports":
        order = (Proposal.supports_count.desc(), Proposal.id.desc())
    elif query.sort == "random":
        # A seeded shuffle: the same seed gives the same order, so page 2 follows page 1.
        order = (sa.func.md5(sa.cast(Proposal.id, sa.Text) + (query.seed or "")), Proposal.id)
    elif query.sort == "relevance" and tsquery is not None:
        order = (sa.func.ts_rank_cd(Proposal.search_vector, tsquery).desc(), Proposal.id.desc())
    else:
        order = (Proposal.created_at.desc(), Proposal.id.desc())
    picked = (
        base.with_only_columns(
            Proposal.id.label("picked_id"),
            sa.func.count().over().label("total"),
            sa.func.row_number().over(order_by=order).label("position"),
        )
        .order_by(*order)
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
        .subquery("picked")
    )
    viewer_id = viewer.id if viewer is not None and viewer.is_authenticated else None
    rows = db.session.execute(
        sa.select(
            Proposal,
            picked.c.total,
            _comment_count(),
            _supported_by(viewer_id),
            # The cards show an excerpt: the start of the body is enough (bodies go up to
            # 10,000 characters, 50 of them would be half a megabyte).
            sa.func.left(Proposal.body, EXCERPT_SOURCE_CHARS).label("body_start"),
        )
        .join(picked, picked.c.picked_id == Proposal.id)
        .options(
            defer(Proposal.body),
            joinedload(Proposal.author),
            joinedload(Proposal.theme),
            joinedload(Proposal.neighbourhood),
        )
        .order_by(picked.c.position)
    ).all()
    if rows:
        total = rows[0].total
    else:  # past the last page (or nothing at all): the window count saw no row
        total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    page = Page([row[0] for row in rows], total, query.page, query.per_page)
    page.comments = {row[0].id: row.comment_count for row in rows}
    page.supported = {row[0].id for row in rows if row.supported}
    page.excerpts = {row[0].id: excerpt_text(row.body_start) for row in rows}
    return page


def _comment_count():
    """Visible comments of the row's proposal (a correlated count, served by the
    (proposal_id, created_at) index): no extra round trip for the cards."""
    return (
        sa.select(sa.func.count(Comment.id))
        .where(
            Comment.proposal_id == Proposal.id,
            Comment.deleted_at.is_(None),
            Comment.hidden_at.is_(None),
        )
        .correlate(Proposal)
        .scalar_subquery()
        .label("comment_count")
    )


def _supported_by(user_id: int | None):
    if user_id is None:
        return sa.literal(False).label("supported")
    return (
        sa.exists()
        .where(Support.proposal_id == Proposal.id, Support.user_id == user_id)
        .correlate(Proposal)
        .label("supported")
    )


_MARKUP_SIGNS = str.maketrans(dict.fromkeys("*_`>#~|", " "))
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def excerpt_text(body: str | None, limit: int = 220) -> str:
    """A plain-text excerpt of Markdown for the cards: links keep their text, markup signs
    go. Much cheaper than rendering the body (a list shows up to 50 cards); the template
    escapes the result like any text."""
    body = body or ""
    text = body[:EXCERPT_SOURCE_CHARS]
    if "[" in text:
        text = _LINK.sub(r"\1", text)
    text = " ".join(text.translate(_MARKUP_SIGNS).split())
    if len(text) > limit or len(body) >= EXCERPT_SOURCE_CHARS:
        return text[: limit - 1].rstrip() + "…"
    return text


@dataclass
class ProcessSummary:
    """What a process page shows of its proposals."""

    total: int
    by_status: list[tuple[ProposalStatus, str, int]]
    top: list[Proposal]
    can_propose: bool
    can_support: bool


def process_summary(process: Process, today: date | None = None, top: int = 3) -> ProcessSummary:
    today = today or clock.paris_today()
    base = public_proposals_query(process.id).subquery()
    counts = dict(
        db.session.execute(sa.select(base.c.status, sa.func.count()).group_by(base.c.status)).all()
    )
    labels = status_labels()
    by_status = [
        (status, labels[status], counts.get(status.value, counts.get(status, 0)))
        for status in ProposalStatus
    ]
    top_items = db.session.scalars(
        public_proposals_query(process.id)
        .options(joinedload(Proposal.author))
        .order_by(Proposal.supports_count.desc(), Proposal.created_at.desc())
        .limit(top)
    ).all()
    return ProcessSummary(
        total=sum(count for _status, _label, count in by_status),
        by_status=by_status,
        top=list(top_items),
        can_propose=process.allows("propose", today),
        can_support=process.allows("support", today),
    )
