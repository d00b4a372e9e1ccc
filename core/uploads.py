"""Uploaded images: checked by their content, re-encoded without metadata, stored per tenant.

- :func:`validate_image` reads at most ``MAX_IMAGE_BYTES`` (setting, 15 MB by default: an
  ordinary 8–12 MB phone photo passes and is re-encoded to a few hundred kB) and
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

Documents (platform side: verification proofs, practice-library files, commitment
evidence) have their own small API, not tenant-scoped:

- :func:`validate_document` reads at most ``MAX_DOCUMENT_BYTES`` (10 MB) and accepts a
  real PDF (``%PDF-`` header, parsed by pypdf, not encrypted, at most
  ``MAX_DOCUMENT_PAGES`` pages, 50 by default) or a PNG/JPEG/WebP picture; returns
  ``(data, kind)`` with ``kind`` in ``pdf``, ``png``, ``jpg``, ``webp``.
- :func:`clean_document` rewrites it: a PDF gets a new file with the pages only (no
  document information, no XMP metadata, no JavaScript/open action, no annotations or
  form fields, no embedded files; the EXIF blocks of its JPEG pictures are cut out);
  a picture is re-encoded as above.
- :func:`store_document` cleans and writes it as ``<UPLOAD_FOLDER>/platform/<folder>/<32
  hex>.<kind>`` (``folder`` is a fixed name chosen by the caller, e.g. ``verification``),
  returns the name; :func:`document_file`, :func:`send_document` (always an attachment,
  private caching) and :func:`delete_document` take the same ``folder``.

Office documents (practice-library attachments: odt, ods, odp, docx, xlsx, pptx):

- :func:`clean_office_document` rewrites the zip member by member: OOXML
  ``docProps/core.xml``, ``app.xml`` and ``custom.xml`` (author, last editor, company,
  dates) and ODF ``meta.xml`` (initial creator, creator, dates) are replaced by empty,
  valid property documents; ODF ``Thumbnails/`` (a picture of the first page) is dropped
  with its manifest entries; OOXML thumbnails are kept (a relationship points to them).
  ODF's ``mimetype`` is written first and uncompressed, as the ODF spec requires; member
  dates, extra fields and the zip comment are not copied. A file that is not a real
  document of its kind, a password-protected ODF, more than ``MAX_OFFICE_MEMBERS``
  members or more than ``MAX_OFFICE_UNCOMPRESSED_BYTES`` once uncompressed (zip bomb)
  is refused in French. Names, comments and tracked changes *inside* the content (who
  wrote a comment) are content and stay.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
import zipfile
import zlib
from pathlib import Path

from flask import current_app, send_from_directory
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.exceptions import NotFound

DEFAULT_MAX_IMAGE_BYTES = 15 * 1024 * 1024
#: Larger pictures are scaled down to fit this box (a phone photo is 4000 px wide).
MAX_DIMENSION = 2560
#: Pillow's decompression-bomb guard, made an error: 50 megapixels takes the 48/50 MP
#: photos of today's phones and refuses a 40000×40000 PNG (1.6 gigapixels).
MAX_PIXELS = 50_000_000
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


def validate_image(file_storage, max_bytes: int | None = None) -> tuple[bytes, str]:
    """The bytes and kind (``png``, ``jpg``, ``webp``) of an uploaded image, or UploadError.

    ``file_storage`` is a werkzeug ``FileStorage`` (or anything with a ``stream`` or a
    ``read``); ``max_bytes`` lowers the limit for small pictures (a logo)."""
    limit = int(max_bytes or max_image_bytes())
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
        if image.format == "JPEG":
            # Decode a big photo at 1/2 or 1/4 scale directly (libjpeg): a quarter of the
            # memory and time, and it is scaled down below anyway.
            image.draft("RGB", (MAX_DIMENSION, MAX_DIMENSION))
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


#: Cache lifetime of the media of content that can be hidden (a proposal, a report…):
#: ``private`` keeps them out of shared caches (proxies, the page cache), and a browser
#: asks again after an hour, so a hidden picture stops being served quickly.
HIDEABLE_MAX_AGE = 3600


def send_image(
    tenant_id: int,
    name: str | None,
    max_age: int = 365 * 24 * 3600,
    *,
    hideable: bool = False,
    restricted: bool = False,
):
    """A response with the stored image (404 if none), sandboxed like the logo.

    ``hideable``: the image belongs to content moderation or its author can hide, so it is
    cached ``private`` for at most :data:`HIDEABLE_MAX_AGE`. ``restricted``: it is being
    shown to staff only (hidden, withdrawn, draft content): ``private, no-store``."""
    path = image_file(tenant_id, name)
    if path is None:
        raise NotFound()
    kind = IMAGE_NAME_RE.fullmatch(name).group(1)
    if hideable or restricted:
        max_age = min(max_age, HIDEABLE_MAX_AGE)
    response = send_from_directory(
        path.parent, path.name, mimetype=MIMETYPES[kind], max_age=0 if restricted else max_age
    )
    if restricted:
        response.headers["Cache-Control"] = "private, no-store"
    elif hideable:
        response.headers["Cache-Control"] = f"private, max-age={max_age}"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- documents

DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_DOCUMENT_PAGES = 50
DOCUMENT_KINDS = ("pdf", "png", "jpg", "webp")
DOCUMENT_NAME_RE = re.compile(r"^[0-9a-f]{32}\.(pdf|png|jpg|webp)$")
_FOLDER_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$")
DOCUMENT_MIMETYPES = {"pdf": "application/pdf", **MIMETYPES}
#: Page-level and object-level keys that carry metadata or active content.
_PDF_DROPPED_KEYS = ("/Metadata", "/PieceInfo", "/AA", "/Annots", "/Thumb", "/B", "/StructParents")


def max_document_bytes() -> int:
    return int(current_app.config.get("MAX_DOCUMENT_BYTES") or DEFAULT_MAX_DOCUMENT_BYTES)


def max_document_pages() -> int:
    return int(current_app.config.get("MAX_DOCUMENT_PAGES") or DEFAULT_MAX_DOCUMENT_PAGES)


def _pdf_error() -> UploadError:
    return UploadError(_("Ce fichier PDF est endommagé ou illisible."))


def _strip_jpeg_metadata(data: bytes) -> bytes:
    """The JPEG without its APP1…APP13 and comment segments (EXIF, GPS, XMP, camera
    notes); APP0 (JFIF) and APP14 (Adobe colour transform) are kept: the pixels depend
    on them. Unknown layouts are returned unchanged rather than broken."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return data
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is picture data
            out += data[pos:]
            return bytes(out)
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos : pos + 2 + length]
        if not (0xE1 <= marker <= 0xED or marker == 0xFE):
            out += segment
        pos += 2 + length
    return data


def _clean_pdf_object(obj, seen: set[int], depth: int = 0) -> None:
    """Drop metadata from a page's resources (form and image XObjects), recursively."""
    from pypdf.generic import DictionaryObject, StreamObject

    if depth > 8 or id(obj) in seen:
        return
    seen.add(id(obj))
    if not isinstance(obj, DictionaryObject):
        return
    for key in ("/Metadata", "/PieceInfo"):
        if key in obj:
            del obj[key]
    is_jpeg = obj.get("/Subtype") == "/Image" and obj.get("/Filter") == "/DCTDecode"
    if isinstance(obj, StreamObject) and is_jpeg:
        obj._data = _strip_jpeg_metadata(obj._data)
    resources = obj.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is not None:
        for ref in xobjects.get_object().values():
            _clean_pdf_object(ref.get_object(), seen, depth + 1)


def clean_pdf(data: bytes) -> bytes:
    """A new PDF holding the pages of ``data`` only (see the module docstring)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    if not data.lstrip(b"\t\n\r ").startswith(b"%PDF-"):
        raise UploadError(_("Le fichier doit être un PDF ou une image PNG, JPEG ou WebP."))
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadError(_("Ce PDF est protégé par un mot de passe : envoyez-le sans."))
        count = len(reader.pages)
        limit = max_document_pages()
        if count == 0:
            raise _pdf_error()
        if count > limit:
            raise UploadError(_("Ce PDF ne doit pas dépasser %(n)d pages.", n=limit))
        writer = PdfWriter()
        seen: set[int] = set()
        for page in reader.pages:
            # Cleaned before copying: what is dropped is then never cloned into the writer.
            for key in _PDF_DROPPED_KEYS:
                if key in page:
                    del page[key]
            _clean_pdf_object(page, seen)
            writer.add_page(page)
        writer.metadata = None  # no /Info: no author, producer, creation software
        out = io.BytesIO()
        writer.write(out)
    except UploadError:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, OSError):
        raise _pdf_error() from None
    except RecursionError:
        raise _pdf_error() from None
    return out.getvalue()


def validate_document(file_storage, max_bytes: int | None = None) -> tuple[bytes, str]:
    """The bytes and kind (``pdf``, ``png``, ``jpg``, ``webp``) of an uploaded proof or
    document, checked on its content; UploadError (French) otherwise."""
    limit = int(max_bytes or max_document_bytes())
    stream = getattr(file_storage, "stream", file_storage)
    data = stream.read(limit + 1)
    if not data:
        raise UploadError(_("Le fichier envoyé est vide."))
    if len(data) > limit:
        raise UploadError(
            _("Le fichier ne doit pas dépasser %(size)s Mo.", size=format_megabytes(limit))
        )
    if data.lstrip(b"\t\n\r ").startswith(b"%PDF-"):
        return data, "pdf"
    try:
        image = _open(data)
    except UploadError as error:
        if "pixels" in str(error):
            raise
        raise UploadError(
            _("Le fichier doit être un PDF ou une image PNG, JPEG ou WebP.")
        ) from None
    kind = _PILLOW_FORMATS.get(image.format or "")
    if kind is None:
        raise UploadError(_("Le fichier doit être un PDF ou une image PNG, JPEG ou WebP."))
    try:
        image.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a broken file
        raise UploadError(_("Ce fichier image est endommagé ou incomplet.")) from None
    return data, kind


def clean_document(data: bytes, kind: str) -> bytes:
    if kind == "pdf":
        return clean_pdf(data)
    if kind not in MIMETYPES:
        raise UploadError(_("Le fichier doit être un PDF ou une image PNG, JPEG ou WebP."))
    return reencode(data, kind)


def document_folder(folder: str) -> Path:
    if not _FOLDER_RE.fullmatch(folder or ""):
        raise ValueError(f"not a document folder name: {folder!r}")
    base = current_app.config.get("UPLOAD_FOLDER") or str(
        Path(current_app.instance_path) / "uploads"
    )
    return Path(base) / "platform" / folder


def store_document(data: bytes, kind: str, folder: str = "documents") -> str:
    """Clean ``data`` and write it under a random name in the platform ``folder``."""
    cleaned = clean_document(data, kind)
    target = document_folder(folder)
    target.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind}"
    (target / name).write_bytes(cleaned)
    return name


def document_file(name: str | None, folder: str = "documents") -> Path | None:
    if not name or not DOCUMENT_NAME_RE.fullmatch(name):
        return None
    path = document_folder(folder) / name
    return path if path.is_file() else None


def delete_document(name: str | None, folder: str = "documents") -> None:
    if name and DOCUMENT_NAME_RE.fullmatch(name):
        (document_folder(folder) / name).unlink(missing_ok=True)


def send_document(name: str | None, folder: str = "documents", download_name: str | None = None):
    """The stored document as an attachment (never rendered inline by the browser from our
    origin), privately cached: proofs and evidence are not for shared caches."""
    path = document_file(name, folder)
    if path is None:
        raise NotFound()
    kind = DOCUMENT_NAME_RE.fullmatch(name).group(1)
    response = send_from_directory(
        path.parent,
        path.name,
        mimetype=DOCUMENT_MIMETYPES[kind],
        as_attachment=True,
        download_name=download_name or f"document.{kind}",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- office documents

OFFICE_KINDS = ("odt", "ods", "odp", "docx", "xlsx", "pptx")
MAX_OFFICE_MEMBERS = 2000
MAX_OFFICE_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
#: ODF kind -> the content of its ``mimetype`` member.
_ODF_MIMETYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
#: OOXML kind -> the content type of its main part in ``[Content_Types].xml`` (a
#: macro-enabled or template file has another one and is refused).
_OOXML_MAIN_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OOXML_EMPTY_CORE = _XML_DECLARATION + (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_OOXML_EMPTY_APP = _XML_DECLARATION + (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"/>'
)
_OOXML_EMPTY_CUSTOM = _XML_DECLARATION + (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"/>'
)
#: Content type in ``[Content_Types].xml`` -> the empty part that replaces it.
_OOXML_PROPERTY_PARTS = {
    "application/vnd.openxmlformats-package.core-properties+xml": _OOXML_EMPTY_CORE,
    "application/vnd.openxmlformats-officedocument.extended-properties+xml": _OOXML_EMPTY_APP,
    "application/vnd.openxmlformats-officedocument.custom-properties+xml": _OOXML_EMPTY_CUSTOM,
}
_OOXML_OVERRIDE_RE = re.compile(r"<(?:\w+:)?Override\b[^>]*>")
_XML_ATTRIBUTE_RE = r'\b{}\s*=\s*["\']([^"\']*)["\']'
_ODF_VERSION_RE = re.compile(r'office:version\s*=\s*["\']([0-9.]{1,8})["\']')
_ODF_THUMBNAIL_ENTRY_RE = re.compile(
    r"<(?:\w+:)?file-entry\b[^>]*\bfull-path\s*=\s*[\"']Thumbnails/[^\"']*[\"'][^>]*/>\s*"
)


def _office_error(kind: str) -> UploadError:
    return UploadError(
        _("Ce fichier n'est pas un document bureautique valide (.%(ext)s).", ext=kind)
    )


def _xml_attribute(element: str, name: str) -> str | None:
    match = re.search(_XML_ATTRIBUTE_RE.format(name), element)
    return match.group(1) if match else None


def _read_office_members(data: bytes, kind: str) -> list[tuple[str, bytes]]:
    """(name, content) of every member, in order, within the member and size caps."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise _office_error(kind) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_OFFICE_MEMBERS:
            raise UploadError(
                _(
                    "Ce document contient trop de fichiers internes (plus de %(n)d).",
                    n=MAX_OFFICE_MEMBERS,
                )
            )
        too_large = UploadError(
            _(
                "Ce document est trop volumineux une fois décompressé (plus de %(size)s Mo).",
                size=format_megabytes(MAX_OFFICE_UNCOMPRESSED_BYTES),
            )
        )
        # Declared sizes first (cheap), then what really comes out, read with a cap.
        if sum(info.file_size for info in infos) > MAX_OFFICE_UNCOMPRESSED_BYTES:
            raise too_large
        names = [info.filename for info in infos]
        if len({name.lower() for name in names}) != len(names):
            raise _office_error(kind)  # two members of the same name: which one is read?
        members: list[tuple[str, bytes]] = []
        left = MAX_OFFICE_UNCOMPRESSED_BYTES
        for info in infos:
            try:
                with archive.open(info) as member:
                    content = member.read(left + 1)
            except (
                zipfile.BadZipFile,
                zlib.error,
                NotImplementedError,
                RuntimeError,  # an encrypted member
                ValueError,
                OSError,
                EOFError,
            ):
                raise _office_error(kind) from None
            left -= len(content)
            if left < 0:
                raise too_large
            members.append((info.filename, content))
    return members


def _clean_odf(members: list[tuple[str, bytes]], kind: str) -> list[tuple[str, bytes]]:
    contents = dict(members)
    mimetype = contents.get("mimetype", b"").strip()
    manifest = contents.get("META-INF/manifest.xml")
    if mimetype != _ODF_MIMETYPES[kind].encode() or manifest is None:
        raise _office_error(kind)
    manifest_text = manifest.decode("utf-8", "replace")
    if "encryption-data" in manifest_text:
        raise UploadError(_("Ce document est protégé par un mot de passe : envoyez-le sans."))
    # The thumbnail (a picture of the first page) goes with its manifest entries; if an
    # entry we do not recognise still names it, it stays rather than break the document.
    new_manifest = _ODF_THUMBNAIL_ENTRY_RE.sub("", manifest_text)
    drop_thumbnails = "Thumbnails/" not in new_manifest
    meta = contents.get("meta.xml")
    version_match = _ODF_VERSION_RE.search(meta.decode("utf-8", "replace")) if meta else None
    version = version_match.group(1) if version_match else "1.2"
    empty_meta = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        f' office:version="{version}"><office:meta/></office:document-meta>'
    )
    cleaned = [("mimetype", _ODF_MIMETYPES[kind].encode())]
    for name, content in members:
        if name == "mimetype" or (drop_thumbnails and name.startswith("Thumbnails/")):
            continue
        if name == "meta.xml":
            content = empty_meta.encode()
        elif name == "META-INF/manifest.xml" and drop_thumbnails:
            content = new_manifest.encode()
        cleaned.append((name, content))
    return cleaned


def _clean_ooxml(members: list[tuple[str, bytes]], kind: str) -> list[tuple[str, bytes]]:
    by_name = {name.lower(): content for name, content in members}
    content_types = by_name.get("[content_types].xml")
    if content_types is None or "_rels/.rels" not in by_name:
        raise _office_error(kind)
    replacements = {
        "docprops/core.xml": _OOXML_EMPTY_CORE,
        "docprops/app.xml": _OOXML_EMPTY_APP,
        "docprops/custom.xml": _OOXML_EMPTY_CUSTOM,
    }
    has_main_part = False
    for override in _OOXML_OVERRIDE_RE.findall(content_types.decode("utf-8", "replace")):
        content_type = (_xml_attribute(override, "ContentType") or "").strip()
        part = (_xml_attribute(override, "PartName") or "").strip().lstrip("/").lower()
        if content_type == _OOXML_MAIN_TYPES[kind]:
            has_main_part = has_main_part or part in by_name
        elif content_type in _OOXML_PROPERTY_PARTS and part:
            replacements[part] = _OOXML_PROPERTY_PARTS[content_type]
    if not has_main_part:
        raise _office_error(kind)
    return [
        (name, replacements[name.lower()].encode() if name.lower() in replacements else content)
        for name, content in members
    ]


def clean_office_document(data: bytes, kind: str) -> bytes:
    """A new zip of the office document ``data`` without its author metadata (see the
    module docstring); UploadError (French) for anything that is not one."""
    if kind not in OFFICE_KINDS:
        raise _office_error(kind)
    members = _read_office_members(data, kind)
    cleaned = _clean_odf(members, kind) if kind in _ODF_MIMETYPES else _clean_ooxml(members, kind)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in cleaned:
            # A fresh entry: a fixed date, no extra fields (times, owner ids), no comment.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            if name.endswith("/"):
                info.external_attr = 0o40755 << 16 | 0x10
            else:
                info.external_attr = 0o644 << 16
            stored = name == "mimetype" or name.endswith("/")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()
