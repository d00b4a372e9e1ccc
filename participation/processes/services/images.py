"""A process's image: checked, re-encoded without metadata and stored by core.uploads under
a random name; the process showing an image decides who may see it."""

from __future__ import annotations

import sqlalchemy as sa

from core import uploads
from core.db import db
from participation.processes.models import Process
from participation.processes.services.common import ProcessError


def read_image(stream, filename: str | None = None) -> tuple[bytes, str]:
    """The bytes and kind (``png``/``jpg``/``webp``) of an uploaded image, or ProcessError.

    core.uploads checks the content, never the name (an SVG or an HTML page called
    ``photo.png`` is refused) and the pixel count."""
    try:
        return uploads.validate_image(stream)
    except uploads.UploadError as error:
        raise ProcessError(str(error), "image") from None


def store_image(tenant_id: int, data: bytes, kind: str) -> str:
    """Re-encode the image without metadata under a random name (core.uploads)."""
    try:
        return uploads.store_image(tenant_id, data, kind)
    except uploads.UploadError as error:
        raise ProcessError(str(error), "image") from None


def delete_image(tenant_id: int, name: str | None) -> None:
    uploads.delete_image(tenant_id, name)


def is_image_name(name: str) -> bool:
    return uploads.IMAGE_NAME_RE.fullmatch(name or "") is not None


def process_with_image(name: str) -> Process | None:
    """The process showing this image (its draft state decides who may see it)."""
    return db.session.scalar(sa.select(Process).where(Process.image_path == name).limit(1))
