"""Practice library: entries, tags, attachments, comments, French full-text search, and the
adoption of a process template by a member territory (copied by a tenant job).

Services add and flush, never commit; rules raise :class:`LibraryError` in French.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import clock, uploads
from core.db import db
from network.core import access
from network.core.models import Network
from network.library.models import (
    AdoptionStatus,
    Practice,
    PracticeAdoption,
    PracticeAttachment,
    PracticeCategory,
    PracticeComment,
    PracticeOutcome,
)
from network.library.schedule import MAX_PHASE_WEEKS
from participation.processes.models import PhaseKind
from tenants.platform.models import PlatformUser
from tenants.platform.services import record_platform_action

CATEGORY_LABELS = {
    PracticeCategory.TOOL: _l("Outils et méthodes"),
    PracticeCategory.EXPERIENCE: _l("Expériences et projets"),
    PracticeCategory.ACTOR: _l("Acteurs"),
}
OUTCOME_LABELS = {
    PracticeOutcome.SUCCESS: _l("Réussite"),
    PracticeOutcome.FAILURE: _l("Échec"),
    PracticeOutcome.MIXED: _l("Résultat mitigé"),
}
TEMPLATE_ACTIONS = ("propose", "support", "comment", "debate")
MAX_TAGS = 10
MAX_TEMPLATE_PHASES = 8

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Accepted attachment kinds: extension -> (MIME type, magic prefix of the content).
ATTACHMENT_KINDS = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (b"PK\x03\x04",)),
    "odp": ("application/vnd.oasis.opendocument.presentation", (b"PK\x03\x04",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (b"PK\x03\x04",),
    ),
}
STORED_NAME_RE = re.compile(r"^[0-9a-f]{32}\.(pdf|png|jpg|jpeg|odt|ods|odp|docx|xlsx|pptx)$")


class LibraryError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --------------------------------------------------------------------------- who


def contributor_tenant(user, network: Network) -> tuple[bool, int | None]:
    """(may contribute, territory written for): members of active member territories
    write for their territory; coordinators write for the network (no territory)."""
    tenant_id = access.member_tenant_id(user, network)
    if tenant_id is not None:
        return True, tenant_id
    if access.is_coordinator(user, network):
        return True, None
    return False, None


def can_contribute(user, network: Network) -> bool:
    return contributor_tenant(user, network)[0]


def can_comment(user, network: Network) -> bool:
    return can_contribute(user, network) or access.is_evaluator(user, network)


def can_edit(user, practice: Practice) -> bool:
    network = practice.network
    if access.is_coordinator(user, network):
        return True
    tenant_id = access.member_tenant_id(user, network)
    return tenant_id is not None and (
        tenant_id == practice.author_tenant_id or getattr(user, "id", None) == practice.author_id
    )


def can_adopt(user, practice: Practice) -> bool:
    return (
        practice.process_template is not None
        and access.member_tenant_id(user, practice.network) is not None
    )


# --------------------------------------------------------------------------- practices


@dataclass
class TemplatePhase:
    kind: str
    title: str
    weeks: int
    description: str = ""
    actions: list[str] = field(default_factory=list)


@dataclass
class PracticeFields:
    category: str
    title: str
    summary: str
    body: str
    outcome: str | None = None
    lessons: str = ""
    tags: str = ""
    template_title: str = ""
    template_summary: str = ""
    template_phases: list[TemplatePhase] = field(default_factory=list)


def parse_tags(text: str | None) -> list[str]:
    tags: list[str] = []
    for raw in re.split(r"[,;\n]", text or ""):
        tag = " ".join(raw.split()).lower().lstrip("#")
        if not tag:
            continue
        if len(tag) > 40:
            raise LibraryError(_("Un mot-clé ne peut pas dépasser 40 caractères."), "tags")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise LibraryError(_("Indiquez au plus %(n)d mots-clés.", n=MAX_TAGS), "tags")
    return tags


def _clean_template(fields: PracticeFields) -> dict | None:
    phases = [p for p in fields.template_phases if (p.title or "").strip()]
    title = " ".join((fields.template_title or "").split())
    if not phases and not title:
        return None
    if not title:
        raise LibraryError(_("Indiquez le titre de la démarche modèle."), "template_title")
    if len(title) > 200:
        raise LibraryError(_("Le titre ne peut pas dépasser 200 caractères."), "template_title")
    if not phases:
        raise LibraryError(_("Une démarche modèle compte au moins une phase."), "template_phases")
    if len(phases) > MAX_TEMPLATE_PHASES:
        raise LibraryError(
            _("Une démarche modèle compte au plus %(n)d phases.", n=MAX_TEMPLATE_PHASES),
            "template_phases",
        )
    cleaned = []
    for phase in phases:
        try:
            kind = PhaseKind(phase.kind).value
        except ValueError:
            raise LibraryError(_("Ce type de phase n'existe pas."), "template_phases") from None
        weeks = int(phase.weeks or 0)
        if not 1 <= weeks <= MAX_PHASE_WEEKS:
            raise LibraryError(
                _("Chaque phase dure de 1 à %(n)d semaines.", n=MAX_PHASE_WEEKS),
                "template_phases",
            )
        phase_title = " ".join(phase.title.split())[:200]
        cleaned.append(
            {
                "kind": kind,
                "title": phase_title,
                "description": (phase.description or "").strip(),
                "weeks": weeks,
                "actions": [a for a in TEMPLATE_ACTIONS if a in (phase.actions or [])],
            }
        )
    summary = " ".join((fields.template_summary or "").split())[:500]
    return {"title": title, "summary": summary, "phases": cleaned}


def _clean(fields: PracticeFields) -> dict:
    try:
        category = PracticeCategory(fields.category)
    except ValueError:
        raise LibraryError(_("Choisissez une catégorie."), "category") from None
    title = " ".join((fields.title or "").split())
    if not title:
        raise LibraryError(_("Indiquez un titre."), "title")
    if len(title) > 200:
        raise LibraryError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    summary = " ".join((fields.summary or "").split())
    if not summary:
        raise LibraryError(_("Résumez la pratique en une ou deux phrases."), "summary")
    if len(summary) > 500:
        raise LibraryError(_("Le résumé ne peut pas dépasser 500 caractères."), "summary")
    outcome = None
    lessons = ""
    template = None
    if category == PracticeCategory.EXPERIENCE:
        try:
            outcome = PracticeOutcome(fields.outcome or "")
        except ValueError:
            raise LibraryError(
                _("Indiquez le résultat de l'expérience : réussite, échec ou mitigé."), "outcome"
            ) from None
        lessons = (fields.lessons or "").strip()
        if not lessons:
            raise LibraryError(
                _("Racontez les enseignements : c'est ce qui sert aux autres territoires."),
                "lessons",
            )
        template = _clean_template(fields)
    tags = parse_tags(fields.tags)
    return {
        "category": category,
        "title": title,
        "summary": summary,
        "body": (fields.body or "").strip(),
        "outcome": outcome,
        "lessons": lessons,
        "tags": tags,
        "tags_text": " ".join(tags),
        "process_template": template,
    }


def create_practice(
    network: Network, fields: PracticeFields, actor: PlatformUser, tenant_id: int | None
) -> Practice:
    practice = Practice(
        network_id=network.id, author_id=actor.id, author_tenant_id=tenant_id, **_clean(fields)
    )
    db.session.add(practice)
    db.session.flush()
    record_platform_action(
        "network.practice_created",
        actor.id,
        "practice",
        practice.id,
        network_id=network.id,
        tenant_id=tenant_id,
    )
    return practice


def update_practice(practice: Practice, fields: PracticeFields, actor: PlatformUser) -> list[str]:
    values = _clean(fields)
    changed = [key for key, value in values.items() if getattr(practice, key) != value]
    for key in changed:
        setattr(practice, key, values[key])
    if changed:
        practice.updated_at = clock.utcnow()
        db.session.flush()
        record_platform_action(
            "network.practice_updated", actor.id, "practice", practice.id, fields=sorted(changed)
        )
    return changed


def get_practice(network: Network, practice_id: int) -> Practice | None:
    return db.session.scalar(
        sa.select(Practice).where(Practice.id == practice_id, Practice.network_id == network.id)
    )


@dataclass
class SearchQuery:
    text: str = ""
    category: str = ""
    outcome: str = ""
    tag: str = ""


def search_practices(network: Network, query: SearchQuery, limit: int = 100) -> list[Practice]:
    """French full text (websearch syntax: words, "phrases", -exclusions) over the title,
    summary, tags, body and lessons, best match first; filters by category, outcome, tag."""
    statement = sa.select(Practice).where(Practice.network_id == network.id)
    words = " ".join((query.text or "").split())[:200]
    if words:
        tsquery = sa.func.websearch_to_tsquery(sa.literal_column("'french'::regconfig"), words)
        statement = statement.where(Practice.search_vector.op("@@")(tsquery)).order_by(
            sa.func.ts_rank(Practice.search_vector, tsquery).desc()
        )
    if query.category in {c.value for c in PracticeCategory}:
        statement = statement.where(Practice.category == PracticeCategory(query.category))
    if query.outcome in {o.value for o in PracticeOutcome}:
        statement = statement.where(Practice.outcome == PracticeOutcome(query.outcome))
    tag = " ".join((query.tag or "").split()).lower()
    if tag:
        statement = statement.where(Practice.tags.contains([tag]))
    statement = statement.order_by(Practice.updated_at.desc(), Practice.id.desc()).limit(limit)
    return list(db.session.scalars(statement))


def network_tags(network: Network) -> list[tuple[str, int]]:
    tag = sa.func.unnest(Practice.tags).label("tag")
    sub = sa.select(tag).where(Practice.network_id == network.id).subquery()
    rows = db.session.execute(
        sa.select(sub.c.tag, sa.func.count()).group_by(sub.c.tag).order_by(sub.c.tag)
    )
    return [(row[0], row[1]) for row in rows]


# --------------------------------------------------------------------------- comments


def add_comment(
    practice: Practice, body: str, actor: PlatformUser, tenant_id: int | None
) -> PracticeComment:
    text = (body or "").strip()
    if not text:
        raise LibraryError(_("Écrivez votre commentaire."), "body")
    if len(text) > 5000:
        raise LibraryError(_("Un commentaire ne peut pas dépasser 5 000 caractères."), "body")
    comment = PracticeComment(
        practice_id=practice.id, author_id=actor.id, author_tenant_id=tenant_id, body=text
    )
    db.session.add(comment)
    db.session.flush()
    return comment


# --------------------------------------------------------------------------- attachments


def max_attachment_bytes() -> int:
    return int(current_app.config.get("MAX_ATTACHMENT_BYTES") or DEFAULT_MAX_ATTACHMENT_BYTES)


def attachment_folder(network_id: int) -> Path:
    base = current_app.config.get("UPLOAD_FOLDER") or str(
        Path(current_app.instance_path) / "uploads"
    )
    return Path(base) / "networks" / f"n{int(network_id)}" / "practices"


def _safe_filename(filename: str) -> str:
    name = Path(filename or "").name
    name = re.sub(r"[\x00-\x1f\x7f/\\\"]", "", name).strip() or "piece-jointe"
    return name[-200:]


def read_attachment(file_storage) -> tuple[bytes, str, str, str]:
    """(data, extension, MIME type, display name) of an upload, or LibraryError (French).

    The kind is checked on the content (magic bytes) *and* the extension: a renamed HTML
    page or executable is refused."""
    filename = _safe_filename(getattr(file_storage, "filename", "") or "")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in ATTACHMENT_KINDS:
        raise LibraryError(
            _(
                "Formats acceptés : PDF, images PNG ou JPEG, documents OpenDocument ou "
                "Microsoft Office (odt, ods, odp, docx, xlsx, pptx)."
            ),
            "file",
        )
    limit = max_attachment_bytes()
    stream = getattr(file_storage, "stream", file_storage)
    data = stream.read(limit + 1)
    if not data:
        raise LibraryError(_("Le fichier envoyé est vide."), "file")
    if len(data) > limit:
        raise LibraryError(
            _("Le fichier ne doit pas dépasser %(n)d Mo.", n=limit // (1024 * 1024)), "file"
        )
    content_type, magics = ATTACHMENT_KINDS[extension]
    if not any(data.startswith(magic) for magic in magics):
        raise LibraryError(
            _("Le contenu du fichier ne correspond pas à son extension (.%(ext)s).", ext=extension),
            "file",
        )
    return data, extension, content_type, filename


def add_attachment(practice: Practice, file_storage, actor: PlatformUser) -> PracticeAttachment:
    if len(practice.attachments) >= 10:
        raise LibraryError(_("Une pratique compte au plus 10 pièces jointes."), "file")
    data, extension, content_type, filename = read_attachment(file_storage)
    kind = "jpg" if extension == "jpeg" else extension
    # PDFs are rewritten without metadata or active content, pictures re-encoded without
    # EXIF/GPS and within the pixel cap, office documents without their author metadata
    # and within the zip-bomb caps (core.uploads).
    try:
        if kind in uploads.DOCUMENT_KINDS:
            data = uploads.clean_document(data, kind)
        elif kind in uploads.OFFICE_KINDS:
            data = uploads.clean_office_document(data, kind)
    except uploads.UploadError as error:
        raise LibraryError(str(error), "file") from None
    folder = attachment_folder(practice.network_id)
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    (folder / stored_name).write_bytes(data)
    attachment = PracticeAttachment(
        practice_id=practice.id,
        filename=filename,
        stored_name=stored_name,
        content_type=content_type,
        size=len(data),
        uploaded_by_id=actor.id,
    )
    practice.attachments.append(attachment)
    db.session.flush()
    record_platform_action(
        "network.attachment_added",
        actor.id,
        "practice",
        practice.id,
        attachment_id=attachment.id,
        filename=filename,
        size=len(data),
    )
    return attachment


def attachment_path(attachment: PracticeAttachment) -> Path | None:
    if not STORED_NAME_RE.fullmatch(attachment.stored_name or ""):
        return None
    path = attachment_folder(attachment.practice.network_id) / attachment.stored_name
    return path if path.is_file() else None


def delete_attachment(attachment: PracticeAttachment, actor: PlatformUser) -> str:
    """Remove the row; returns the stored name to unlink once committed."""
    stored = attachment.stored_name
    practice = attachment.practice
    practice.attachments.remove(attachment)
    db.session.flush()
    record_platform_action(
        "network.attachment_deleted",
        actor.id,
        "practice",
        practice.id,
        filename=attachment.filename,
    )
    return stored


def unlink_attachment(network_id: int, stored_name: str) -> None:
    if STORED_NAME_RE.fullmatch(stored_name or ""):
        (attachment_folder(network_id) / stored_name).unlink(missing_ok=True)


# --------------------------------------------------------------------------- adoption


def adoptions_for(practice: Practice, tenant_id: int | None) -> list[PracticeAdoption]:
    if tenant_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(PracticeAdoption)
            .where(
                PracticeAdoption.practice_id == practice.id, PracticeAdoption.tenant_id == tenant_id
            )
            .order_by(PracticeAdoption.id.desc())
        )
    )


def adopt_practice(practice: Practice, actor: PlatformUser) -> PracticeAdoption:
    """Record the adoption and enqueue (after commit) the job that copies the template into
    the actor's own territory — never any other."""
    from core.jobs import enqueue_after_commit
    from network.library.tasks import copy_practice_template
    from tenants.context import tenant_job_id

    tenant_id = access.member_tenant_id(actor, practice.network)
    if tenant_id is None:
        raise LibraryError(
            _("Seuls les membres d'une collectivité du réseau peuvent adopter une pratique.")
        )
    if practice.process_template is None:
        raise LibraryError(_("Cette pratique n'a pas de démarche modèle à copier."))
    pending = db.session.scalar(
        sa.select(PracticeAdoption).where(
            PracticeAdoption.practice_id == practice.id,
            PracticeAdoption.tenant_id == tenant_id,
            PracticeAdoption.status == AdoptionStatus.PENDING,
        )
    )
    if pending is not None:
        raise LibraryError(
            _("La copie de cette pratique est déjà en cours pour votre collectivité.")
        )
    adoption = PracticeAdoption(
        practice_id=practice.id,
        tenant_id=tenant_id,
        requested_by_id=actor.id,
        status=AdoptionStatus.PENDING,
    )
    db.session.add(adoption)
    db.session.flush()
    record_platform_action(
        "network.practice_adoption_requested",
        actor.id,
        "practice",
        practice.id,
        tenant_id=tenant_id,
        adoption_id=adoption.id,
    )
    enqueue_after_commit(
        copy_practice_template,
        tenant_id,
        adoption.id,
        job_id=tenant_job_id(tenant_id, "adopt-practice", adoption.id),
        description=f"copy_practice_template(t{tenant_id}, adoption {adoption.id})",
    )
    return adoption


# --------------------------------------------------------------------------- moderation


def can_delete(user, practice: Practice) -> bool:
    return can_edit(user, practice) or access.is_operator(user)


def can_delete_comment(user, comment: PracticeComment) -> bool:
    account_id = getattr(user, "id", None)
    network = comment.practice.network
    own = account_id is not None and comment.author_id == account_id and can_comment(user, network)
    return own or access.can_manage(user, network)


def delete_practice(practice: Practice, actor: PlatformUser) -> list[str]:
    """Remove the entry with its comments and attachment rows; returns the stored file
    names to unlink once committed."""
    stored = [a.stored_name for a in practice.attachments]
    record_platform_action(
        "network.practice_deleted",
        actor.id,
        "practice",
        practice.id,
        network_id=practice.network_id,
        title=practice.title,
    )
    db.session.delete(practice)
    db.session.flush()
    return stored


def delete_comment(comment: PracticeComment, actor: PlatformUser) -> None:
    record_platform_action(
        "network.practice_comment_deleted",
        actor.id,
        "practice",
        comment.practice_id,
        comment_id=comment.id,
        author_id=comment.author_id,
    )
    comment.practice.comments.remove(comment)
    db.session.flush()
