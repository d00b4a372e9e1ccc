"""Uploaded images: checked by their content, re-encoded without metadata, stored per tenant.

- :func:`validate_image` reads at most ``MAX_IMAGE_BYTES`` (setting, 5 MB by default) and
  lets Pillow recognise the content: PNG, JPEG or WebP only, whatever the file's name says
  (an SVG or an HTML page renamed ``photo.jpg`` is refused). Errors are French.
- :func:`store_image` decodes the image again, applies the EXIF orientation, and writes a
  fresh encoding: the EXIF block (GPS position, camera serial number…), XMP, ICC comments
  and PNG text chunks are not copied. Very large pictures are scaled down. The file gets a
  random name under ``<UPLOAD_FOLDER>/t<tenant_id>/images/`` (the folder convention of
  ``participation.staff.branding``): the uploaded name never reaches the disk.
- :func:`image_file` / :func:`send_image` serve a stored file of the *current* tenant
  only: the tenant id comes from the host, never from the URL, so tenant B cannot read
  A's pictures even with their names.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path

from flask import current_app, send_from_directory
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.exceptions import NotFound

DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
#: Larger pictures are scaled down to fit this box (a phone photo is 4000 px wide).
MAX_DIMENSION = 2560
#: Pillow's decompression-bomb guard, made an error: 40 megapixels is plenty for a photo.
MAX_PIXELS = 40_000_000
IMAGE_SUBFOLDER = "images"
IMAGE_NAME_RE = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")
MIMETYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
_PILLOW_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
_SAVE_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}


class UploadError(ValueError):
    """A French reason why an uploaded file is refused."""


def max_image_bytes() -> int:
    return int(current_app.config.get("MAX_IMAGE_BYTES") or DEFAULT_MAX_IMAGE_BYTES)


def format_megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise UploadError(_("Cette image est trop grande (en pixels)."))
            return image
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadError(_("Cette image est trop grande (en pixels).")) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise UploadError(_("L'image doit être au format PNG, JPEG ou WebP.")) from None


def validate_image(file_storage) -> tuple[bytes, str]:
    """The bytes and kind (``png``, ``jpg``, ``webp``) of an uploaded image, or UploadError.

    ``file_storage`` is a werkzeug ``FileStorage`` (or anything with a ``stream`` or a
    ``read``)."""
    limit = max_image_bytes()
    stream = getattr(file_storage, "stream", file_storage)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadError(
            _("L'image ne doit pas dépasser %(size)s Mo.", size=format_megabytes(limit))
        )
    if not data:
        raise UploadError(_("Le fichier envoyé est vide."))
    image = _open(data)
    kind = _PILLOW_FORMATS.get(image.format or "")
    if kind is None:
        raise UploadError(_("L'image doit être au format PNG, JPEG ou WebP."))
    try:
        image.verify()  # a truncated or corrupt file is refused now, not when served
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a broken file
        raise UploadError(_("Ce fichier image est endommagé ou incomplet.")) from None
    return data, kind


def reencode(data: bytes, kind: str) -> bytes:
    """A fresh encoding of the picture, upright, without any metadata."""
    image = _open(data)
    try:
        image.load()
        image = ImageOps.exif_transpose(image)  # the pixels turn; the EXIF tag goes
    except UploadError:
        raise
    except Exception:  # noqa: BLE001
        raise UploadError(_("Ce fichier image est endommagé ou incomplet.")) from None
    if image.width > MAX_DIMENSION or image.height > MAX_DIMENSION:
        image.thumbnail((MAX_DIMENSION, MAX_DIMENSION))
    # A new image holds the pixels only: no ``info`` (exif, icc_profile, xmp, text chunks).
    if kind == "jpg":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    clean = Image.new(image.mode, image.size)
    if image.mode == "P":
        clean.putpalette(image.getpalette())
        if "transparency" in image.info:
            clean.info["transparency"] = image.info["transparency"]
    clean.paste(image)
    out = io.BytesIO()
    options: dict = {}
    if kind == "jpg":
        options = {"quality": 85, "optimize": True}
    elif kind == "webp":
        options = {"quality": 85}
    elif kind == "png" and "transparency" in clean.info:
        options = {"transparency": clean.info["transparency"]}
    clean.save(out, format=_SAVE_FORMATS[kind], **options)
    return out.getvalue()


def tenant_folder(tenant_id: int) -> Path:
    """``<UPLOAD_FOLDER>/t<tenant_id>`` (``instance/uploads`` by default), as branding."""
    base = current_app.config.get("UPLOAD_FOLDER") or str(
        Path(current_app.instance_path) / "uploads"
    )
    return Path(base) / f"t{int(tenant_id)}"


def image_folder(tenant_id: int) -> Path:
    return tenant_folder(tenant_id) / IMAGE_SUBFOLDER


def store_image(tenant_id: int, data: bytes, kind: str | None = None) -> str:
    """Re-encode ``data`` (EXIF and metadata dropped) and write it under a random name;
    returns the name (``<32 hex>.<kind>``). ``kind`` defaults to what the content is."""
    if kind is None:
        kind = _PILLOW_FORMATS.get(_open(data).format or "")
        if kind is None:
            raise UploadError(_("L'image doit être au format PNG, JPEG ou WebP."))
    encoded = reencode(data, kind)
    folder = image_folder(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind}"
    (folder / name).write_bytes(encoded)
    return name


def image_file(tenant_id: int, name: str | None) -> Path | None:
    """The path of a stored image of this tenant, None for a name we never make or a file
    that does not exist (no path ever comes from the user unchecked)."""
    if not name or not IMAGE_NAME_RE.fullmatch(name):
        return None
    path = image_folder(tenant_id) / name
    return path if path.is_file() else None


def delete_image(tenant_id: int, name: str | None) -> None:
    if name and IMAGE_NAME_RE.fullmatch(name):
        (image_folder(tenant_id) / name).unlink(missing_ok=True)


def send_image(tenant_id: int, name: str | None, max_age: int = 365 * 24 * 3600):
    """A response with the stored image (404 if none), sandboxed like the logo."""
    path = image_file(tenant_id, name)
    if path is None:
        raise NotFound()
    kind = IMAGE_NAME_RE.fullmatch(name).group(1)
    response = send_from_directory(
        path.parent, path.name, mimetype=MIMETYPES[kind], max_age=max_age
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
