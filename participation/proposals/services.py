"""Proposals: submission, edition, withdrawal, supports, lists and search, and the official
answer workflow (status, public answer, assignment to a service and an agent).

Services add and flush, never commit and never touch the request (ARCHITECTURE §5). Rules
that can be broken raise :class:`ProposalError` with a French message for the user; every
staff action writes its audit row in the same transaction.

Supports: the ``supports`` primary key (proposal, user) makes one support per citizen, and
a trigger keeps ``proposals.supports_count`` in step inside the same transaction, so counts
stay exact whatever the concurrency. The trigger's UPDATE also takes the proposal's row lock,
which serialises the threshold check below.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import defer, joinedload

from core import clock, uploads
from core.audit import record_action
from core.db import db
from core.mail import send_mail
from core.markdown import plain_text
from core.routing import TENANT_SITE, parse_int
from participation.accounts.models import Neighbourhood, Service, StaffRole, User
from participation.debates.models import Comment
from participation.engagement import services as engagement
from participation.engagement.models import Follow, Report, ReportStatus, TargetType
from participation.processes.models import Process, ProcessState, Theme
from participation.proposals.models import (
    DEFAULT_STATUS_LABELS,
    Proposal,
    ProposalEvent,
    ProposalEventKind,
    ProposalStatus,
    Support,
)
from tenants import cache as tenant_values
from tenants.context import current_tenant
from tenants.models import TenantSetting

TARGET = TargetType.PROPOSAL
# Read on every proposal page, cached per process and tenant (tenants.cache).
tenant_values.watch(TenantSetting, Theme, Neighbourhood)

EDIT_WINDOW_SETTING = "proposal_edit_window_minutes"
DEFAULT_EDIT_WINDOW_MINUTES = 60
MAX_EDIT_WINDOW_MINUTES = 60 * 24 * 30
STATUS_LABELS_SETTING = "proposal_status_labels"
STATUS_LABEL_MAX_LENGTH = 40

TITLE_MIN, TITLE_MAX = 5, 200
BODY_MIN, BODY_MAX = 20, 10_000
IMAGE_ALT_MAX = 300
ANSWER_MAX = 20_000
REASON_MAX = 5_000

#: Statuses in which a proposal still waits for the collectivité's decision.
OPEN_STATUSES = (ProposalStatus.RECEIVED, ProposalStatus.STUDYING)
#: Statuses in which supports are still taken.
SUPPORTABLE_STATUSES = (ProposalStatus.RECEIVED, ProposalStatus.STUDYING, ProposalStatus.ACCEPTED)

SORTS = ("recent", "supports", "random", "relevance")
PER_PAGE_CHOICES = (10, 20, 50)
DEFAULT_PER_PAGE = 20
SEED_RE = re.compile(r"^[0-9a-z]{4,16}$")
#: Characters of the body read for a card's excerpt (of about 220 shown).
EXCERPT_SOURCE_CHARS = 300

STAFF_PER_PAGE = 50
#: Age buckets of the proposals waiting for an answer: (lower bound, upper bound) in days.
AGE_BUCKETS = (
    (0, 7, _l("Moins de 7 jours")),
    (7, 30, _l("De 7 à 30 jours")),
    (30, 90, _l("De 30 à 90 jours")),
    (90, None, _l("Plus de 90 jours")),
)


class ProposalError(Exception):
    """A rule of the proposals was broken; the message is French and shown to the user.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _request_cache() -> dict:
    """Values read once per request (or app context), keyed by tenant."""
    if not has_app_context():
        return {}
    tenant = current_tenant()
    cache = g.setdefault("pnyx_proposals_cache", {})
    return cache.setdefault(tenant.id if tenant else None, {})


def proposal_path(proposal_id: int) -> str:
    """The proposal page's path on the tenant site (no host): notifications store paths."""
    adapter = current_app.url_map.bind("", subdomain=TENANT_SITE)
    return adapter.build("proposals.show", {"proposal_id": proposal_id})


def proposal_url(proposal_id: int) -> str:
    """The absolute URL of the proposal page (e-mails)."""
    from tenants.urls import tenant_url

    return tenant_url(current_tenant(), "proposals.show", proposal_id=proposal_id)


def public_name(user: User | None) -> str:
    return user.public_name if user is not None else User.ANONYMOUS_NAME


# --------------------------------------------------------------------------- settings


def _settings() -> dict:
    """Both proposal settings, read in one query once per request."""
    cache = _request_cache()
    if "settings" not in cache:
        cache["settings"] = tenant_values.cached("proposal_settings", _load_settings)
    return cache["settings"]


def _load_settings() -> dict:
    rows = db.session.execute(
        sa.select(TenantSetting.key, TenantSetting.value).where(
            TenantSetting.key.in_((STATUS_LABELS_SETTING, EDIT_WINDOW_SETTING))
        )
    ).all()
    return {row.key: row.value for row in rows}


def status_labels() -> dict[ProposalStatus, str]:
    """The labels the collectivité chose for each status (defaults where it chose none)."""
    stored = _settings().get(STATUS_LABELS_SETTING)
    # Plain strings in the current language (JSON for the audit log, CSV, the API).
    labels = {status: str(label) for status, label in DEFAULT_STATUS_LABELS.items()}
    if isinstance(stored, dict):
        for status in ProposalStatus:
            value = stored.get(status.value)
            if isinstance(value, str) and value.strip():
                labels[status] = value.strip()[:STATUS_LABEL_MAX_LENGTH]
    return labels


def status_label(status: ProposalStatus | str | None) -> str:
    if status is None:
        return ""
    try:
        return status_labels()[ProposalStatus(status)]
    except ValueError:
        return str(status)


def edit_window_minutes() -> int:
    value = _settings().get(EDIT_WINDOW_SETTING)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        value = DEFAULT_EDIT_WINDOW_MINUTES
    return min(value, MAX_EDIT_WINDOW_MINUTES)


def forget_settings() -> None:
    _request_cache().pop("settings", None)


def update_proposal_settings(
    labels: dict[ProposalStatus | str, str], edit_window: int, actor: User
) -> dict:
    """Save the status labels and the edit window; return what changed (audited)."""
    clean: dict[str, str] = {}
    for status in ProposalStatus:
        label = " ".join((labels.get(status) or labels.get(status.value) or "").split())
        if not label:
            raise ProposalError(_("Indiquez un libellé pour chaque statut."), status.value)
        if len(label) > STATUS_LABEL_MAX_LENGTH:
            raise ProposalError(
                _("Un libellé ne peut pas dépasser %(n)d caractères.", n=STATUS_LABEL_MAX_LENGTH),
                status.value,
            )
        clean[status.value] = label
    if len({label.casefold() for label in clean.values()}) < len(clean):
        raise ProposalError(_("Deux statuts ne peuvent pas porter le même libellé."))
    if isinstance(edit_window, bool) or not 0 <= int(edit_window) <= MAX_EDIT_WINDOW_MINUTES:
        raise ProposalError(
            _("Indiquez un délai entre 0 et %(n)d minutes.", n=MAX_EDIT_WINDOW_MINUTES),
            "edit_window",
        )
    current_labels = {s.value: label for s, label in status_labels().items()}
    wanted = {STATUS_LABELS_SETTING: clean, EDIT_WINDOW_SETTING: int(edit_window)}
    current = {STATUS_LABELS_SETTING: current_labels, EDIT_WINDOW_SETTING: edit_window_minutes()}
    changed = {key: (current[key], value) for key, value in wanted.items() if current[key] != value}
    for key, (_before, value) in changed.items():
        row = db.session.get(TenantSetting, key)
        if row is None:
            db.session.add(TenantSetting(key=key, value=value))
        else:
            row.value = value
    if changed:
        db.session.flush()
        _audit(
            "proposals.settings_updated",
            actor,
            "settings",
            "proposals",
            keys=sorted(changed),
            changes={k: {"before": b, "after": a} for k, (b, a) in changed.items()},
        )
    forget_settings()
    return changed


def _audit(action: str, actor: User | None, target_type: str, target_id: object, **details):
    return record_action(
        action,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.display_name if actor is not None else "Plateforme Pnyx",
        target_type=target_type,
        target_id=target_id,
        **details,
    )


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


def _int_or_none(value) -> int | None:
    return parse_int(value)  # ASCII digits within PostgreSQL's range, else None


def parse_list_query(args) -> ListQuery:
    """A ListQuery from query-string arguments; anything invalid falls back to a default."""
    query = ListQuery()
    query.theme_id = _int_or_none(args.get("theme"))
    query.neighbourhood_id = _int_or_none(args.get("neighbourhood"))
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
    query.page = _int_or_none(args.get("page")) or 1
    per_page = _int_or_none(args.get("per_page"))
    query.per_page = per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE
    return query


@dataclass
class Page:
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
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _not_blocked():
    return ~sa.exists().where(User.id == Proposal.author_id, User.blocked_at.is_not(None))


def _tsquery(q: str):
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
        tsquery = _tsquery(query.q)
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


# --------------------------------------------------------------------------- submission


def check_can_propose(process: Process, user: User | None, today: date) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise ProposalError(_("Connectez-vous pour déposer une proposition."))
    if not user.is_active:
        raise ProposalError(_("Votre compte ne permet pas de participer."))
    if not process.allows("propose", today):
        raise ProposalError(
            _("Cette démarche n'accepte pas de nouvelles propositions en ce moment.")
        )


def _clean_text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def _check_content(title: str, body: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    body = _clean_text(body)
    if len(title) < TITLE_MIN:
        raise ProposalError(
            _("Le titre doit compter au moins %(n)d caractères.", n=TITLE_MIN), "title"
        )
    if len(title) > TITLE_MAX:
        raise ProposalError(
            _("Le titre ne peut pas dépasser %(n)d caractères.", n=TITLE_MAX), "title"
        )
    if len(body) < BODY_MIN:
        raise ProposalError(
            _("Décrivez votre proposition en %(n)d caractères au moins.", n=BODY_MIN), "body"
        )
    if len(body) > BODY_MAX:
        raise ProposalError(
            _("La description ne peut pas dépasser %(n)s caractères.", n="10 000"), "body"
        )
    return title, body


def check_image_alt(image_path: str | None, image_alt: str | None) -> str | None:
    """The image's text alternative: required with an image (screen readers read it),
    dropped without one."""
    if not image_path:
        return None
    alt = " ".join((image_alt or "").split())
    if not alt:
        raise ProposalError(
            _(
                "Décrivez l'image en quelques mots : cette description est lue aux personnes "
                "qui ne la voient pas."
            ),
            "image_alt",
        )
    if len(alt) > IMAGE_ALT_MAX:
        raise ProposalError(
            _("La description de l'image ne peut pas dépasser %(n)d caractères.", n=IMAGE_ALT_MAX),
            "image_alt",
        )
    return alt


def check_coordinates(
    latitude: float | None, longitude: float | None
) -> tuple[float | None, float | None]:
    """Both or neither, within range; rounded to about a metre (no false precision)."""
    if latitude is None and longitude is None:
        return None, None
    if latitude is None or longitude is None:
        raise ProposalError(
            _("Indiquez la latitude et la longitude, ou aucune des deux."),
            "latitude" if latitude is None else "longitude",
        )
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise ProposalError(_("La latitude doit être comprise entre -90 et 90."), "latitude")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise ProposalError(_("La longitude doit être comprise entre -180 et 180."), "longitude")
    return round(latitude, 5), round(longitude, 5)


def _check_refs(theme_id: int | None, neighbourhood_id: int | None) -> None:
    if theme_id is not None and db.session.get(Theme, theme_id) is None:
        raise ProposalError(_("Ce thème n'existe pas."), "theme_id")
    if neighbourhood_id is not None and db.session.get(Neighbourhood, neighbourhood_id) is None:
        raise ProposalError(_("Ce quartier n'existe pas."), "neighbourhood_id")


def create_proposal(
    process: Process,
    author: User,
    *,
    title: str,
    body: str,
    theme_id: int | None = None,
    neighbourhood_id: int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    image_path: str | None = None,
    image_alt: str | None = None,
    today: date | None = None,
) -> Proposal:
    """A new proposal, "Reçue", on the timeline; its author follows it from now on."""
    check_can_propose(process, author, today or clock.paris_today())
    title, body = _check_content(title, body)
    image_alt = check_image_alt(image_path, image_alt)
    latitude, longitude = check_coordinates(latitude, longitude)
    _check_refs(theme_id, neighbourhood_id)
    proposal = Proposal(
        process_id=process.id,
        author_id=author.id,
        title=title,
        body=body,
        theme_id=theme_id,
        neighbourhood_id=neighbourhood_id,
        latitude=latitude,
        longitude=longitude,
        image_path=image_path,
        image_alt=image_alt,
        status=ProposalStatus.RECEIVED,
    )
    db.session.add(proposal)
    db.session.flush()
    db.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            kind=ProposalEventKind.CREATED,
            to_status=ProposalStatus.RECEIVED.value,
            actor_id=author.id,
            is_public=True,
        )
    )
    db.session.flush()
    engagement.follow(author.id, TARGET, proposal.id)
    return proposal


def send_receipt(proposal: Proposal, author: User) -> None:
    """Tell the author that the proposal is received (after the commit)."""
    if not author.email:
        return
    send_mail(
        author.email,
        "proposal_received",
        proposal_title=proposal.title,
        proposal_link=proposal_url(proposal.id),
        author_name=author.display_name,
        edit_minutes=edit_window_minutes(),
        process_title=proposal.process.title if proposal.process else "",
        tenant=current_tenant(),
    )


def edit_deadline(proposal: Proposal) -> datetime:
    created = proposal.created_at or clock.utcnow()
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created + timedelta(minutes=edit_window_minutes())


def edit_refusal(proposal: Proposal, user: User | None, now: datetime | None = None) -> str | None:
    """Why ``user`` may not edit ``proposal`` now, or None when they may."""
    if user is None or not getattr(user, "is_authenticated", False):
        return _("Connectez-vous pour modifier votre proposition.")
    if proposal.author_id != user.id:
        return _("Seul l'auteur ou l'autrice d'une proposition peut la modifier.")
    if proposal.withdrawn_at is not None:
        return _("Cette proposition a été retirée : elle ne peut plus être modifiée.")
    if proposal.hidden_at is not None:
        return _("Cette proposition a été masquée par la modération.")
    if proposal.status != ProposalStatus.RECEIVED:
        return _("La collectivité étudie déjà cette proposition : elle ne peut plus être modifiée.")
    if (now or clock.utcnow()) > edit_deadline(proposal):
        return _(
            "Le délai de modification (%(n)d minutes après le dépôt) est passé.",
            n=edit_window_minutes(),
        )
    return None


def can_edit(proposal: Proposal, user: User | None, now: datetime | None = None) -> bool:
    return edit_refusal(proposal, user, now) is None


def update_proposal(
    proposal: Proposal,
    user: User,
    *,
    title: str,
    body: str,
    theme_id: int | None,
    neighbourhood_id: int | None,
    latitude: float | None,
    longitude: float | None,
    image_path: str | None,
    image_alt: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Apply the author's changes (within the edit window); True when something changed."""
    refusal = edit_refusal(proposal, user, now)
    if refusal:
        raise ProposalError(refusal)
    title, body = _check_content(title, body)
    image_alt = check_image_alt(image_path, image_alt)
    latitude, longitude = check_coordinates(latitude, longitude)
    _check_refs(theme_id, neighbourhood_id)
    wanted = {
        "title": title,
        "body": body,
        "theme_id": theme_id,
        "neighbourhood_id": neighbourhood_id,
        "latitude": latitude,
        "longitude": longitude,
        "image_path": image_path,
        "image_alt": image_alt,
    }
    changed = {key for key, value in wanted.items() if getattr(proposal, key) != value}
    if not changed:
        return False
    for key in changed:
        setattr(proposal, key, wanted[key])
    proposal.edited_at = now or clock.utcnow()
    db.session.flush()
    return True


def withdrawal_refusal(proposal: Proposal, user: User | None) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return _("Connectez-vous pour retirer votre proposition.")
    if proposal.author_id != user.id:
        return _("Seul l'auteur ou l'autrice d'une proposition peut la retirer.")
    if proposal.withdrawn_at is not None:
        return _("Cette proposition est déjà retirée.")
    if proposal.status not in OPEN_STATUSES:
        return _(
            "La collectivité a déjà rendu sa décision : la proposition ne peut plus être retirée."
        )
    return None


def withdraw_proposal(proposal: Proposal, user: User) -> ProposalEvent:
    """The author withdraws the proposal: it leaves the lists; its page says so."""
    refusal = withdrawal_refusal(proposal, user)
    if refusal:
        raise ProposalError(refusal)
    proposal.withdrawn_at = clock.utcnow()
    event = ProposalEvent(
        proposal_id=proposal.id,
        kind=ProposalEventKind.WITHDRAWN,
        actor_id=user.id,
        is_public=True,
    )
    db.session.add(event)
    db.session.flush()
    engagement.notify_followers(
        TARGET,
        proposal.id,
        kind="status.proposal_withdrawn",
        title=_("Proposition retirée : « %(title)s »", title=proposal.title),
        body=_("Son auteur ou son autrice a retiré cette proposition."),
        url=proposal_path(proposal.id),
        exclude_user_id=user.id,
    )
    return event


# --------------------------------------------------------------------------- supports


def support_refusal(proposal: Proposal, user: User | None, today: date) -> str | None:
    """Why ``user`` may not support (or stop supporting) ``proposal`` today, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return _("Connectez-vous pour soutenir cette proposition.")
    if not user.is_active:
        return _("Votre compte ne permet pas de participer.")
    if proposal.withdrawn_at is not None or proposal.hidden_at is not None:
        return _("Cette proposition n'est plus ouverte aux soutiens.")
    if proposal.author_id == user.id:
        return _("Vous ne pouvez pas soutenir votre propre proposition.")
    if proposal.status not in SUPPORTABLE_STATUSES:
        return _("Cette proposition n'est plus ouverte aux soutiens.")
    if not proposal.process.allows("support", today):
        return _("La phase de soutien de cette démarche n'est pas ouverte en ce moment.")
    return None


def add_support(proposal: Proposal, user: User, today: date | None = None) -> bool:
    """Support ``proposal``; False when ``user`` already did (nothing changes then).

    ``ON CONFLICT DO NOTHING`` on the primary key: two concurrent clicks give one support,
    and the trigger counts only the row actually inserted.
    """
    refusal = support_refusal(proposal, user, today or clock.paris_today())
    if refusal:
        raise ProposalError(refusal)
    inserted = db.session.execute(
        pg_insert(Support)
        .values(proposal_id=proposal.id, user_id=user.id)
        .on_conflict_do_nothing(index_elements=["proposal_id", "user_id"])
        .returning(Support.user_id)
    ).first()
    if inserted is None:
        return False
    _reach_threshold(proposal)
    db.session.refresh(proposal, ["supports_count", "status", "status_reason"])
    return True


def remove_support(proposal: Proposal, user: User, today: date | None = None) -> bool:
    """Withdraw ``user``'s support; False when there was none."""
    refusal = support_refusal(proposal, user, today or clock.paris_today())
    if refusal:
        raise ProposalError(refusal)
    deleted = db.session.execute(
        sa.delete(Support)
        .where(Support.proposal_id == proposal.id, Support.user_id == user.id)
        .returning(Support.user_id)
    ).first()
    db.session.refresh(proposal, ["supports_count"])
    return deleted is not None


def _reach_threshold(proposal: Proposal) -> bool:
    """Move a "Reçue" proposal to "À l'étude" the first time its process's threshold is
    reached. One statement: our trigger already holds the proposal's row lock, so two
    supporters crossing the threshold together cannot both move it."""
    threshold = proposal.process.support_threshold
    if not threshold:
        return False
    already = (
        sa.select(ProposalEvent.id)
        .where(
            ProposalEvent.proposal_id == proposal.id,
            ProposalEvent.kind == ProposalEventKind.THRESHOLD,
        )
        .exists()
    )
    moved = db.session.execute(
        sa.update(Proposal)
        .where(
            Proposal.id == proposal.id,
            Proposal.status == ProposalStatus.RECEIVED,
            Proposal.supports_count >= threshold,
            ~already,
        )
        .values(status=ProposalStatus.STUDYING)
        .returning(Proposal.id)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        return False
    db.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            kind=ProposalEventKind.THRESHOLD,
            from_status=ProposalStatus.RECEIVED.value,
            to_status=ProposalStatus.STUDYING.value,
            body=str(threshold),
            is_public=True,
        )
    )
    db.session.flush()
    label = status_label(ProposalStatus.STUDYING)
    _notify_all(
        proposal,
        kind="status.proposal",
        title=_("« %(title)s » : %(label)s", title=proposal.title, label=label),
        body=_(
            "La proposition a atteint %(n)d soutiens : la collectivité va l'étudier.",
            n=threshold,
        ),
        actor_id=None,
    )
    return True


# --------------------------------------------------------------------------- notifications


def _notify_all(proposal: Proposal, *, kind: str, title: str, body: str, actor_id: int | None):
    """Followers, and the author even if they stopped following (they are owed the answer)."""
    url = proposal_path(proposal.id)
    engagement.notify_followers(
        TARGET, proposal.id, kind=kind, title=title, body=body, url=url, exclude_user_id=actor_id
    )
    author_id = proposal.author_id
    if author_id is None or author_id == actor_id:
        return
    follows = db.session.scalar(
        sa.select(sa.literal(True)).where(
            Follow.user_id == author_id,
            Follow.target_type == TARGET,
            Follow.target_id == proposal.id,
        )
    )
    if follows is None:
        author = db.session.get(User, author_id)
        if author is not None and author.is_active:
            engagement.notify_user(author_id, kind=kind, title=title, body=body, url=url)


# --------------------------------------------------------------------------- staff: scope


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


# --------------------------------------------------------------------------- staff: answers


def _check_manageable(proposal: Proposal, actor: User) -> None:
    if not can_answer(actor, proposal):
        raise ProposalError(_("Cette proposition ne relève pas de vos services."))


def change_status(
    proposal: Proposal,
    status: ProposalStatus | str,
    actor: User,
    *,
    reason: str | None = None,
    notify: bool = True,
    bulk: bool = False,
) -> ProposalEvent | None:
    """Move the proposal to ``status`` (a public timeline event, an audit row, and the
    author and followers notified). "Non retenue" needs a reason, made public. Returns
    None when nothing changes."""
    _check_manageable(proposal, actor)
    try:
        status = ProposalStatus(status)
    except ValueError:
        raise ProposalError(_("Choisissez un statut."), "status") from None
    reason = _clean_text(reason) or None
    if reason and len(reason) > REASON_MAX:
        raise ProposalError(
            _("Ce texte ne peut pas dépasser %(n)s caractères.", n="5 000"), "reason"
        )
    if status == ProposalStatus.REJECTED and not reason:
        raise ProposalError(
            _(
                "Indiquez pourquoi la proposition n'est pas retenue : cette raison est "
                "publique et obligatoire."
            ),
            "reason",
        )
    if proposal.withdrawn_at is not None:
        raise ProposalError(_("Cette proposition a été retirée par son auteur ou son autrice."))
    if status == proposal.status and (reason or None) == (proposal.status_reason or None):
        return None
    previous = proposal.status
    proposal.status = status
    proposal.status_reason = reason
    event = ProposalEvent(
        proposal_id=proposal.id,
        kind=ProposalEventKind.STATUS,
        from_status=previous.value if previous else None,
        to_status=status.value,
        body=reason,
        actor_id=actor.id,
        is_public=True,
    )
    db.session.add(event)
    db.session.flush()
    _audit(
        "proposals.status_changed",
        actor,
        "proposal",
        proposal.id,
        before=previous.value if previous else None,
        after=status.value,
        reason=reason,
        bulk=bulk,
    )
    if notify:
        label = status_label(status)
        _notify_all(
            proposal,
            kind="status.proposal",
            title=_("« %(title)s » : %(label)s", title=proposal.title, label=label),
            body=reason
            or _("Le statut de la proposition est désormais « %(label)s ».", label=label),
            actor_id=actor.id,
        )
    return event


def set_answer(
    proposal: Proposal, answer: str | None, actor: User, *, notify: bool = True
) -> ProposalEvent | None:
    """Publish (or correct) the collectivité's official answer, in Markdown."""
    _check_manageable(proposal, actor)
    answer = _clean_text(answer) or None
    if answer and len(answer) > ANSWER_MAX:
        raise ProposalError(
            _("La réponse ne peut pas dépasser %(n)s caractères.", n="20 000"), "answer"
        )
    if answer == (proposal.answer or None):
        return None
    if answer is None:
        raise ProposalError(
            _("Une réponse publiée ne peut pas être effacée : corrigez-la plutôt."), "answer"
        )
    first = proposal.answer is None
    proposal.answer = answer
    proposal.answered_at = clock.utcnow()
    proposal.answered_by_id = actor.id
    event = ProposalEvent(
        proposal_id=proposal.id,
        kind=ProposalEventKind.ANSWER,
        body=answer,
        actor_id=actor.id,
        is_public=True,
    )
    db.session.add(event)
    db.session.flush()
    _audit("proposals.answered", actor, "proposal", proposal.id, first=first, length=len(answer))
    if notify:
        _notify_all(
            proposal,
            kind="answer.proposal",
            title=_("Réponse de la collectivité : « %(title)s »", title=proposal.title),
            body=plain_text(answer, 300),
            actor_id=actor.id,
        )
    return event


def answer_proposal(
    proposal: Proposal,
    actor: User,
    *,
    status: ProposalStatus | str,
    reason: str | None,
    answer: str | None,
) -> list[ProposalEvent]:
    """The answer form: a status and the public answer, one notification for both."""
    _check_manageable(proposal, actor)
    # Validate everything before changing anything.
    try:
        wanted = ProposalStatus(status)
    except ValueError:
        raise ProposalError(_("Choisissez un statut."), "status") from None
    if wanted == ProposalStatus.REJECTED and not _clean_text(reason):
        raise ProposalError(
            _(
                "Indiquez pourquoi la proposition n'est pas retenue : cette raison est "
                "publique et obligatoire."
            ),
            "reason",
        )
    status_event = change_status(proposal, wanted, actor, reason=reason, notify=False)
    answer_event = set_answer(proposal, answer, actor, notify=False)
    events = [e for e in (status_event, answer_event) if e is not None]
    if not events:
        return events
    label = status_label(proposal.status)
    if status_event is not None:
        title = _("« %(title)s » : %(label)s", title=proposal.title, label=label)
        kind = "status.proposal"
    else:
        title = _("Réponse de la collectivité : « %(title)s »", title=proposal.title)
        kind = "answer.proposal"
    parts = []
    if status_event is not None:
        parts.append(_("Nouveau statut : %(label)s.", label=label))
        if proposal.status_reason:
            parts.append(plain_text(proposal.status_reason, 300))
    if answer_event is not None:
        parts.append(plain_text(proposal.answer, 300))
    _notify_all(proposal, kind=kind, title=title, body=" ".join(parts), actor_id=actor.id)
    return events


def assign_proposal(
    proposal: Proposal,
    actor: User,
    *,
    service: Service | None,
    assignee: User | None,
    due_on: date | None,
    today: date | None = None,
    mail_assignee: bool = True,
) -> ProposalEvent | None:
    """Entrust the proposal to a service, one of its agents, with a due date (internal).
    A newly chosen agent gets an e-mail (unless they assigned it to themselves)."""
    _check_manageable(proposal, actor)
    today = today or clock.paris_today()
    if assignee is not None and service is None:
        raise ProposalError(_("Choisissez d'abord le service de cet agent."), "service_id")
    if service is not None and not is_manager(actor) and service.id not in service_ids_of(actor):
        raise ProposalError(
            _("Vous ne pouvez confier une proposition qu'à l'un de vos services."), "service_id"
        )
    if assignee is not None:
        members = {u.id for u in agents_by_service([service]).get(service.id, [])}
        if assignee.id not in members:
            raise ProposalError(
                _(
                    "%(name)s ne fait pas partie du service %(service)s.",
                    name=assignee.display_name,
                    service=service.name,
                ),
                "assignee_id",
            )
    if due_on is not None and due_on < today and due_on != proposal.due_on:
        raise ProposalError(_("L'échéance ne peut pas être dans le passé."), "due_on")
    before = (proposal.service_id, proposal.assignee_id, proposal.due_on)
    after = (
        service.id if service else None,
        assignee.id if assignee else None,
        due_on,
    )
    if before == after:
        return None
    proposal.service_id, proposal.assignee_id, proposal.due_on = after
    parts = [
        _("Service : %(name)s", name=service.name) if service else _("Aucun service"),
        _("Agent : %(name)s", name=assignee.display_name) if assignee else _("Aucun agent"),
        _("Échéance : %(date)s", date=due_on.strftime("%d/%m/%Y"))
        if due_on
        else _("Sans échéance"),
    ]
    event = ProposalEvent(
        proposal_id=proposal.id,
        kind=ProposalEventKind.ASSIGNMENT,
        body=" ; ".join(str(p) for p in parts),
        actor_id=actor.id,
        is_public=False,
    )
    db.session.add(event)
    db.session.flush()
    _audit(
        "proposals.assigned",
        actor,
        "proposal",
        proposal.id,
        service=service.name if service else None,
        assignee_id=after[1],
        due_on=due_on.isoformat() if due_on else None,
        before={
            "service_id": before[0],
            "assignee_id": before[1],
            "due_on": before[2].isoformat() if before[2] else None,
        },
    )
    if (
        mail_assignee
        and assignee is not None
        and assignee.id != before[1]
        and assignee.id != actor.id
    ):
        _mail_assignee(proposal, assignee, actor, service, due_on)
    return event


def _mail_assignee(
    proposal: Proposal, assignee: User, actor: User, service: Service, due_on: date | None
) -> None:
    if not assignee.email:
        return
    from tenants.urls import tenant_url

    send_mail(
        assignee.email,
        "proposal_assigned",
        proposal_title=proposal.title,
        staff_link=tenant_url(current_tenant(), "staff_proposals.answer", proposal_id=proposal.id),
        assignee_name=assignee.display_name,
        actor_name=actor.display_name,
        service_name=service.name,
        due_on=due_on,
        tenant=current_tenant(),
    )


def bulk_change_status(
    proposal_ids: Iterable[int], status: ProposalStatus | str, reason: str | None, actor: User
) -> tuple[int, int]:
    """Change the status of several proposals; returns (changed, skipped). Proposals out of
    ``actor``'s scope, withdrawn or already in that status are skipped."""
    try:
        status = ProposalStatus(status)
    except ValueError:
        raise ProposalError(_("Choisissez un statut."), "status") from None
    if status == ProposalStatus.REJECTED and not _clean_text(reason):
        raise ProposalError(
            _(
                "Indiquez pourquoi les propositions ne sont pas retenues : cette raison est "
                "publique et obligatoire."
            ),
            "reason",
        )
    ids = sorted({int(i) for i in proposal_ids})
    if not ids:
        raise ProposalError(_("Cochez au moins une proposition."), "proposal_ids")
    proposals = db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.id.in_(ids), scope_clause(actor))
        .order_by(Proposal.id)
        .with_for_update(of=Proposal)
        .execution_options(populate_existing=True)
    ).all()
    changed = 0
    for proposal in proposals:
        if proposal.withdrawn_at is not None:
            continue
        if proposal.status == status:
            # Already there: a bulk change is about the status, so no event, audit entry or
            # notification, and its own public reason is not overwritten by the batch's.
            continue
        if change_status(proposal, status, actor, reason=reason, bulk=True) is not None:
            changed += 1
    return changed, len(ids) - changed


# --------------------------------------------------------------------------- staff: lists


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
    query.process_id = _int_or_none(args.get("process"))
    try:
        query.status = ProposalStatus(args.get("status") or "")
    except ValueError:
        query.status = None
    service = args.get("service")
    query.service_id = 0 if service == "0" else _int_or_none(service)
    query.theme_id = _int_or_none(args.get("theme"))
    query.neighbourhood_id = _int_or_none(args.get("neighbourhood"))
    query.waiting = args.get("waiting") in ("1", "on", "y")
    query.overdue = args.get("overdue") in ("1", "on", "y")
    query.q = " ".join((args.get("q") or "").split())[:200]
    query.page = _int_or_none(args.get("page")) or 1
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
                    Proposal.search_vector.op("@@")(_tsquery(query.q)),
                )
            )
        else:
            stmt = stmt.where(Proposal.search_vector.op("@@")(_tsquery(query.q)))
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


def staff_list(actor: User, query: StaffQuery, per_page: int = STAFF_PER_PAGE) -> Page:
    stmt = staff_select(actor, query)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    items = db.session.scalars(
        stmt.options(*_staff_options())
        .order_by(Proposal.created_at.asc(), Proposal.id.asc())
        .offset((query.page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(list(items), total, query.page, per_page)


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
    _audit("proposals.exported", actor, "proposal", None, rows=count, filters=filters)


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


# --------------------------------------------------------------------------- images

# Every image goes through core.uploads (content check, pixel cap, re-encoding without
# EXIF/GPS, random name under the tenant's images folder).
IMAGE_NAME_RE = uploads.IMAGE_NAME_RE


def read_image(stream, filename: str | None = None) -> tuple[bytes, str]:
    """The bytes and kind of an uploaded image (core.uploads' checks), or ProposalError."""
    try:
        return uploads.validate_image(stream)
    except uploads.UploadError as error:
        raise ProposalError(str(error), "image") from None


def store_image(tenant_id: int, data: bytes, kind: str) -> str:
    """Re-encode the image without metadata under a random name; return that name."""
    try:
        return uploads.store_image(tenant_id, data, kind)
    except uploads.UploadError as error:
        raise ProposalError(str(error), "image") from None


def delete_image(tenant_id: int, name: str | None) -> None:
    uploads.delete_image(tenant_id, name)


def proposal_with_image(name: str) -> Proposal | None:
    """The proposal showing this image: its state decides who may see the picture."""
    return db.session.scalar(
        sa.select(Proposal)
        .where(Proposal.image_path == name)
        .options(joinedload(Proposal.process), joinedload(Proposal.author))
        .limit(1)
    )
