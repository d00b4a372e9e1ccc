"""Sign-up of a collectivité on the platform site: find it, create its space, follow it.

Services only: they add and flush, never commit and never read the request; the views in
``billing/signup_views.py`` commit. The steps:

1. :func:`search_collectivites` finds the collectivité in the official data shipped with
   the product (``tenants.official``).
2. :func:`sign_up_collectivite` creates the tenant, starts its 30-day trial and queues,
   for after the commit, its provisioning, the first-admin invitation and the record of
   who signed up and accepted the terms (kept in the new space's audit log).
3. :func:`progress_token` names the tenant in a signed link (``billing.progress_links``);
   :func:`progress_of` says where its provisioning stands, for the page that follows it
   without a log-in.

A self-service space is created ``pending_verification`` (docs/features/verification.md):
its requester
prepares it, citizens see a "being verified" page until the operator approves the request
(``billing.verification``) or the requester confirms an address at one of the
collectivité's official e-mail domains. The subdomain is one of the official name's
variants (``tenants.services.slug_variants``).

A collectivité has at most one space: a second sign-up is refused with
:class:`AlreadySignedUp`; the visitor may write to the space's administrators through
:func:`contact_admins` (never shown their addresses) or, when the space is not theirs,
dispute it with the operator (``billing.verification.create_dispute``).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from billing.progress_links import progress_token, tenant_id_from_token  # noqa: F401 - re-exported
from core import clock
from core.db import db
from core.jobs import enqueue_after_commit, get_queue, redis_connection
from core.mail import send_mail
from tenants import official
from tenants.context import TenantRef, load_tenant_ref, tenant_context, tenant_job, tenant_job_id
from tenants.models import Tenant, TenantStatus
from tenants.official import Collectivite
from tenants.provisioning import enqueue_provisioning, provision_job_id
from tenants.services import (
    TenantError,
    create_tenant,
    platform_subdomain,
    slug_variants,
    taken_slugs,
    validate_slug,
    validate_variant_slug,
)

log = logging.getLogger(__name__)

SEARCH_LIMIT = 10
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
CONTACT_MESSAGE_MAX_LENGTH = 3000
#: Shown on /conditions-plateforme and recorded with each sign-up.
PLATFORM_TERMS_VERSION = "2026-01"
SIGNUP_AUDIT_ACTION = "tenant.signed_up"

#: Provisioning takes seconds; past this, something is stuck (no worker, a failed job
#: already cleaned up): the page says so and gives an address to write to.
PROVISIONING_DEADLINE = timedelta(minutes=15)

_CHOICE = re.compile(r"^(commune|epci|departement|region):([0-9A-Za-z]{2,12})$")


class SignupError(ValueError):
    """A French, user-facing reason why the sign-up cannot go on."""


class SubdomainUnavailable(SignupError):
    """The chosen subdomain is malformed, reserved or taken."""


class AlreadySignedUp(SignupError):
    """The collectivité already has a space (``tenant`` is a snapshot of it)."""

    def __init__(self, collectivite: Collectivite, tenant: TenantRef) -> None:
        self.collectivite = collectivite
        self.tenant = tenant
        super().__init__(f"{collectivite.name} dispose déjà d'un espace de participation sur Pnyx.")


# --------------------------------------------------------------------------- finding


def search_collectivites(query: str | None, limit: int = SEARCH_LIMIT) -> list[Collectivite]:
    """Collectivités by name, postal code or official code; nothing for a too short query."""
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    if len(query) < MIN_QUERY_LENGTH:
        return []
    return official.search(query, limit=limit)


def choice_value(collectivite: Collectivite) -> str:
    """``commune:68224``: the value of a search result in forms."""
    return f"{collectivite.kind}:{collectivite.code}"


def parse_choice(value: str | None) -> tuple[str, str] | None:
    match = _CHOICE.fullmatch((value or "").strip())
    return (match.group(1), match.group(2)) if match else None


def get_collectivite(kind: str, code: str) -> Collectivite | None:
    if kind not in official.KINDS:
        return None
    try:
        return official.lookup(code, kind=kind)
    except official.UnknownCollectivite:
        return None


def existing_tenant(collectivite: Collectivite) -> TenantRef | None:
    """The space this collectivité already has, read outside the ORM session."""
    with db.engine.connect() as conn:
        tenant_id = conn.scalar(
            sa.text("SELECT id FROM public.tenants WHERE kind = :kind AND code = :code"),
            {"kind": collectivite.kind, "code": collectivite.code},
        )
    return load_tenant_ref(tenant_id) if tenant_id is not None else None


def check_slug(slug: str | None, collectivite: Collectivite | None = None) -> str:
    """The normalised subdomain, or :class:`SignupError` saying why it cannot be used.

    With ``collectivite``, the subdomain must also be a variant of its official name."""
    try:
        if collectivite is not None:
            return validate_variant_slug(collectivite, slug or "")
        return validate_slug(slug or "")
    except TenantError as error:
        raise SubdomainUnavailable(str(error)) from error


def available_slugs(collectivite: Collectivite) -> list[str]:
    """The variants of the official name nobody has taken yet, best first."""
    variants = slug_variants(collectivite)
    taken = taken_slugs(variants)
    return [slug for slug in variants if slug not in taken]


def space_host(slug: str) -> str:
    """``mulhouse.pnyx.fr`` (with the platform's port, if any, as in the address bar)."""
    return platform_subdomain(slug, current_app.config["PLATFORM_DOMAIN"]) + _port()


def _port() -> str:
    domain = current_app.config["PLATFORM_DOMAIN"]
    return ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""


# --------------------------------------------------------------------------- signing up


def trial_days() -> int:
    from billing.services import trial_period

    return trial_period().days


@dataclass(frozen=True)
class Agent:
    """Who signs the collectivité up."""

    name: str
    role: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class Proof:
    """A document showing the agent speaks for the collectivité (an uploaded file)."""

    kind: str
    file: object  # werkzeug FileStorage


def sign_up_collectivite(
    collectivite: Collectivite, agent: Agent, slug: str, proof: Proof | None = None
) -> Tenant:
    """Create the collectivité's space, pending verification, with its trial; the rest
    (provisioning, invitation, address confirmation, the operator's notice) runs after the
    commit.

    Raises :class:`AlreadySignedUp` when the collectivité has a space already,
    :class:`SubdomainUnavailable` when the subdomain cannot be used, and
    :class:`SignupError` when no trial can be opened (no plan fits the collectivité), and
    ``core.uploads.UploadError`` when the proof is not a usable PDF or image.
    Two sign-ups racing for the same collectivité or subdomain end in an
    ``IntegrityError`` at flush: the caller rolls back and asks again, and the loser then
    gets one of the errors above.
    """
    from billing import services as billing_services

    if (tenant := existing_tenant(collectivite)) is not None:
        raise AlreadySignedUp(collectivite, tenant)
    try:
        tenant = create_tenant(
            collectivite.code,
            current_app.config["PLATFORM_DOMAIN"],
            slug=check_slug(slug, collectivite),
            kind=collectivite.kind,
            verification_required=True,
        )
    except TenantError as error:
        raise SubdomainUnavailable(str(error)) from error
    from billing import verification

    request = verification.create_request(
        tenant, name=agent.name, role=agent.role, phone=agent.phone, email=agent.email
    )
    if proof is not None and proof.file is not None:
        verification.add_proof(request, proof.kind, proof.file)
    try:
        billing_services.start_trial(tenant.id)
    except billing_services.BillingError as error:
        raise SignupError(str(error)) from error
    enqueue_provisioning(tenant.id)
    _enqueue_after_provisioning(
        _invite_first_admin(), tenant.id, agent.email, job_id=_first_admin_job_id(tenant.id)
    )
    _enqueue_after_provisioning(
        record_signup,
        tenant.id,
        {
            "agent_name": agent.name,
            "agent_role": agent.role,
            "email": agent.email,
            "terms_version": PLATFORM_TERMS_VERSION,
            "accepted_at": clock.utcnow().isoformat(timespec="seconds"),
        },
        job_id=tenant_job_id(tenant.id, "signup-record"),
    )
    verification.send_email_confirmation(request)
    verification.notify_operator_of_request(request)
    log.info("collectivité %s:%s signed up as tenant %s", tenant.kind, tenant.code, tenant.id)
    return tenant


def _invite_first_admin():
    from participation.staff.tasks import invite_first_admin

    return invite_first_admin


def _first_admin_job_id(tenant_id: int) -> str:
    from participation.staff.tasks import first_admin_job_id

    return first_admin_job_id(tenant_id)


def _enqueue_after_provisioning(func, tenant_id: int, *args, job_id: str) -> None:
    """After the commit, and after the provisioning job when the queue is asynchronous
    (a synchronous queue runs the jobs in the order they were queued)."""
    options = {}
    if get_queue("high").is_async:
        options["depends_on"] = provision_job_id(tenant_id)
    enqueue_after_commit(func, tenant_id, *args, queue="high", job_id=job_id, **options)


@tenant_job
def record_signup(tenant_id: int, details: dict) -> str:
    """Keep, in the new space's audit log, who signed it up and accepted which terms."""
    from core.audit import AuditEntry, record_action

    done = db.session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.action == SIGNUP_AUDIT_ACTION).limit(1)
    )
    if done is not None:
        return "recorded"  # a retried job
    record_action(
        SIGNUP_AUDIT_ACTION,
        actor_label=details.get("agent_name"),
        target_type="tenant",
        target_id=tenant_id,
        **details,
    )
    db.session.commit()
    return "recorded"


# --------------------------------------------------------------------------- following


class Progress(enum.StrEnum):
    PROVISIONING = "provisioning"
    PENDING = "pending_verification"  # built, the requester may prepare it; not public yet
    READY = "ready"
    FAILED = "failed"


def progress_of(tenant: Tenant, now: datetime | None = None) -> Progress:
    if tenant.status in (TenantStatus.ACTIVE, TenantStatus.SUSPENDED):
        return Progress.READY
    if tenant.status == TenantStatus.PENDING_VERIFICATION:
        return Progress.PENDING
    if tenant.status != TenantStatus.PROVISIONING:
        return Progress.FAILED
    if _provisioning_job_failed(tenant.id):
        return Progress.FAILED
    now = now or clock.utcnow()
    if tenant.created_at is not None and now - tenant.created_at > PROVISIONING_DEADLINE:
        return Progress.FAILED
    return Progress.PROVISIONING


def _provisioning_job_failed(tenant_id: int) -> bool:
    try:
        job = Job.fetch(provision_job_id(tenant_id), connection=redis_connection())
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        return False  # not queued yet, or cleaned up: the deadline decides
    except RedisError:
        log.warning("signup progress: Redis unavailable for tenant %s", tenant_id)
        return False
    return status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


# --------------------------------------------------------------------------- contact


def admin_addresses(tenant: TenantRef) -> list[str]:
    """E-mail addresses of the space's active administrators (none while it is built).

    Call with no transaction open on the session: entering the tenant starts one of its
    own (and leaving it rolls back).
    """
    from participation.accounts.models import StaffRole, User

    if tenant.status not in (TenantStatus.ACTIVE, TenantStatus.SUSPENDED):
        return []
    with tenant_context(tenant):
        emails = db.session.scalars(
            sa.select(User.email).where(
                User.staff_role == StaffRole.ADMIN,
                User.email.is_not(None),
                User.is_active_account.is_(True),
                User.deleted_at.is_(None),
                User.blocked_at.is_(None),
            )
        ).all()
    return sorted({email.lower() for email in emails})


def contact_admins(
    collectivite: Collectivite, tenant: TenantRef, *, name: str, email: str, message: str
) -> int:
    """Mail the visitor's message to every administrator of ``tenant`` (after the commit).

    The visitor's address goes in Reply-To, so an administrator simply answers. It is
    never a recipient: the form must not let anyone send mail to an address they choose.
    When the space has no administrator yet, the platform's support gets the message.
    Returns how many mails were queued.
    """
    recipients = admin_addresses(tenant) or [current_app.config["SIGNUP_SUPPORT_EMAIL"]]
    headers = {}
    # An address the header cannot carry is left out: it is in the text anyway.
    with contextlib.suppress(ValueError, IndexError):
        headers["Reply-To"] = str(Address(display_name=name, addr_spec=email))
    for recipient in recipients:
        send_mail(
            recipient,
            "signup_contact_admin",
            headers=headers,
            collectivite=collectivite,
            space_name=tenant.name,
            space_url=f"{current_app.config['PREFERRED_URL_SCHEME']}://"
            f"{tenant.primary_host}{_port()}/",
            visitor_name=name,
            visitor_email=email,
            message=message,
        )
    return len(recipients)
