"""A process's life as the staff edit it: its fields checked and saved (with its image),
publication, archiving, and the deletion of a draft. Every change writes its audit row."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from core.audit import audit
from core.db import db
from participation.accounts.models import Neighbourhood, User
from participation.processes.models import InvalidProcessTransition, Process, ProcessState, Theme
from participation.processes.services.common import ProcessError
from participation.processes.services.images import store_image


@dataclass
class ProcessFields:
    """What the staff form gives for a process (the image is handled apart)."""

    title: str
    summary: str
    description: str
    theme_id: int | None
    neighbourhood_id: int | None
    image_alt: str | None
    support_threshold: int | None


FIELD_NAMES = (
    "title",
    "summary",
    "description",
    "theme_id",
    "neighbourhood_id",
    "image_path",
    "image_alt",
    "support_threshold",
)


def _clean_fields(fields: ProcessFields, will_have_image: bool) -> dict:
    title = " ".join((fields.title or "").split())
    if not title:
        raise ProcessError(_("Indiquez le titre de la démarche."), "title")
    if len(title) > 200:
        raise ProcessError(_("Le titre ne peut pas dépasser 200 caractères."), "title")
    summary = " ".join((fields.summary or "").split())
    if not summary:
        raise ProcessError(_("Indiquez un résumé en une ou deux phrases."), "summary")
    if len(summary) > 500:
        raise ProcessError(_("Le résumé ne peut pas dépasser 500 caractères."), "summary")
    theme_id = fields.theme_id or None
    if theme_id is not None and db.session.get(Theme, theme_id) is None:
        raise ProcessError(_("Ce thème n'existe plus : choisissez-en un autre."), "theme_id")
    neighbourhood_id = fields.neighbourhood_id or None
    if neighbourhood_id is not None and db.session.get(Neighbourhood, neighbourhood_id) is None:
        raise ProcessError(
            _("Ce quartier n'existe plus : choisissez-en un autre."), "neighbourhood_id"
        )
    image_alt = " ".join((fields.image_alt or "").split()) or None
    if will_have_image and not image_alt:
        raise ProcessError(
            _(
                "Décrivez l'image en quelques mots pour les personnes qui ne la voient pas "
                "(par exemple « Vue des berges de l'Ill au printemps »)."
            ),
            "image_alt",
        )
    threshold = fields.support_threshold
    if threshold is not None and threshold < 1:
        raise ProcessError(_("Le seuil doit être d'au moins 1 soutien."), "support_threshold")
    return {
        "title": title,
        "summary": summary,
        "description": (fields.description or "").strip(),
        "theme_id": theme_id,
        "neighbourhood_id": neighbourhood_id,
        "image_alt": image_alt if will_have_image else None,
        "support_threshold": threshold,
    }


def create_process(
    fields: ProcessFields,
    actor: User,
    *,
    tenant_id: int,
    image: tuple[bytes, str] | None = None,
) -> Process:
    """A new draft process (its image, when given, is stored once the fields are valid)."""
    values = _clean_fields(fields, will_have_image=image is not None)
    process = Process(state=ProcessState.DRAFT, created_by_id=actor.id, **values)
    if image is not None:
        process.image_path = store_image(tenant_id, *image)
    db.session.add(process)
    db.session.flush()
    audit("processes.process_created", actor, "process", process.id, title=process.title)
    return process


def update_process(
    process: Process,
    fields: ProcessFields,
    actor: User,
    *,
    tenant_id: int,
    image: tuple[bytes, str] | None = None,
    remove_image: bool = False,
) -> tuple[list[str], str | None]:
    """Save the form; return the names of the changed fields and the image file to delete
    once the transaction is committed (the replaced or removed one)."""
    will_have_image = image is not None or (bool(process.image_path) and not remove_image)
    values = _clean_fields(fields, will_have_image=will_have_image)
    old_image = None
    if image is not None:
        old_image = process.image_path
        values["image_path"] = store_image(tenant_id, *image)
    elif remove_image and process.image_path:
        old_image = process.image_path
        values["image_path"] = None
    changed = [name for name, value in values.items() if getattr(process, name) != value]
    if not changed:
        return [], None
    for name in changed:
        setattr(process, name, values[name])
    db.session.flush()
    audit("processes.process_updated", actor, "process", process.id, fields=sorted(changed))
    return changed, old_image


def publish_process(process: Process, actor: User) -> None:
    """Raises InvalidProcessTransition (French message) when the process cannot be published."""
    process.publish()
    db.session.flush()
    audit("processes.process_published", actor, "process", process.id, title=process.title)


def archive_process(process: Process, actor: User) -> None:
    if process.state == ProcessState.DRAFT:
        # A draft was never public: there is nothing to keep as a record.
        raise InvalidProcessTransition(
            _("Un brouillon ne peut pas être archivé : publiez-le ou supprimez-le.")
        )
    process.archive()
    db.session.flush()
    audit("processes.process_archived", actor, "process", process.id, title=process.title)


def delete_draft(process: Process, actor: User) -> str | None:
    """Delete a draft; return its image file, to delete once committed."""
    if process.state != ProcessState.DRAFT:
        raise ProcessError(
            _("Seul un brouillon peut être supprimé ; une démarche publiée peut être archivée.")
        )
    audit("processes.process_deleted", actor, "process", process.id, title=process.title)
    image = process.image_path
    db.session.delete(process)
    db.session.flush()
    return image
