"""A citizen's proposal: who may submit one, the checks of its content (title, body,
image and its text alternative, position, theme and quartier), submission, edition within
the window the collectivité set, withdrawal, and the image that goes with it (through
core.uploads)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _

from core import clock, uploads
from core.db import db
from core.mail import send_mail
from participation.accounts.models import Neighbourhood, User
from participation.engagement import services as engagement
from participation.processes.models import Process, Theme
from participation.proposals.models import (
    Proposal,
    ProposalEvent,
    ProposalEventKind,
    ProposalStatus,
)
from participation.proposals.services.common import (
    BODY_MAX,
    BODY_MIN,
    IMAGE_ALT_MAX,
    OPEN_STATUSES,
    TARGET,
    TITLE_MAX,
    TITLE_MIN,
    ProposalError,
    clean_text,
    proposal_path,
    proposal_url,
)
from participation.proposals.services.settings import edit_window_minutes
from tenants.context import current_tenant

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


def _check_content(title: str, body: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    body = clean_text(body)
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
