"""Per-tenant branding: site name, logo and primary colour.

The primary colour is the background of the header, whose text is white: a colour whose
WCAG contrast ratio with white is below 4.5:1 (AA, normal text) is refused. Logos are
PNG, JPEG or WebP only — an SVG can carry script — recognised by their content, not by
their name, and stored by ``core.uploads`` (re-encoded without metadata, pixel cap, random
name under ``<UPLOAD_FOLDER>/t<tenant_id>/images/``).
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, current_app, g, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from core import uploads
from core.db import db
from tenants import cache as tenant_values
from tenants.context import current_tenant
from tenants.models import TenantSetting
from tenants.provisioning import DEFAULT_PRIMARY_COLOUR

bp = Blueprint("branding", __name__)

SITE_NAME = "site_name"
LOGO_URL = "logo_url"
LOGO_FILE = "logo_file"
PRIMARY_COLOUR = "primary_colour"
DPO_CONTACT = "dpo_contact"
BRANDING_KEYS = (SITE_NAME, LOGO_URL, LOGO_FILE, PRIMARY_COLOUR)

MIN_CONTRAST_WITH_WHITE = 4.5
MAX_LOGO_BYTES = 1024 * 1024
COLOUR_RE = re.compile(r"^#[0-9a-f]{6}$")
LOGO_NAME_RE = uploads.IMAGE_NAME_RE
THEME_MAX_AGE = 60  # seconds: a new colour shows within a minute even without the ?v=

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_LOGO_MIMETYPES = {"png": "image/png", "jpg": "image/jpeg"}


tenant_values.watch(TenantSetting)


class BrandingError(ValueError):
    """A French reason why a branding value is refused."""


# --------------------------------------------------------------------------- colour


def normalise_colour(value: str | None) -> str:
    colour = (value or "").strip().lower()
    if not COLOUR_RE.fullmatch(colour):
        raise BrandingError(
            _("Indiquez la couleur au format #rrggbb, par exemple %(example)s.", example="#1d4e89")
        )
    return colour


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb`` (0 for black, 1 for white)."""
    colour = normalise_colour(colour)
    r, g_, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g_) + 0.0722 * _linear(b)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check_primary_colour(value: str | None) -> str:
    """The normalised colour, or BrandingError when white text on it is not readable."""
    colour = normalise_colour(value)
    ratio = contrast_ratio(colour, "#ffffff")
    if ratio < MIN_CONTRAST_WITH_WHITE:
        # Floor, not round: 4.47 must not be shown as "4,5" next to "at least 4,5".
        shown = format_decimal(int(ratio * 10) / 10, format="0.0")
        raise BrandingError(
            _(
                "Cette couleur n'offre pas assez de contraste avec le texte blanc de l'en-tête "
                "(%(ratio)s:1, il faut au moins 4,5:1) : choisissez une teinte plus foncée.",
                ratio=shown,
            )
        )
    return colour


# --------------------------------------------------------------------------- logo


def check_logo_url(value: str | None) -> str | None:
    url = (value or "").strip()
    if not url:
        return None
    if len(url) > 500:
        raise BrandingError(_("Cette adresse est trop longue (500 caractères au plus)."))
    if not re.fullmatch(r"https://[^\s\"'<>\\]+", url) or url.startswith("https:///"):
        raise BrandingError(
            _("L'adresse du logo doit être une adresse sécurisée commençant par https://.")
        )
    return url


def upload_folder(tenant_id: int) -> Path:
    base = current_app.config.get("UPLOAD_FOLDER") or str(
        Path(current_app.instance_path) / "uploads"
    )
    return Path(base) / f"t{int(tenant_id)}"


def logo_kind(data: bytes) -> str | None:
    """``png`` or ``jpg`` from the file's first bytes, None for anything else."""
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data.startswith(_JPEG_MAGIC):
        return "jpg"
    return None


def read_logo(stream, filename: str | None) -> tuple[bytes, str]:
    """The bytes and kind of an uploaded logo, or BrandingError (core.uploads' checks)."""
    data = stream.read(MAX_LOGO_BYTES + 1)
    if len(data) > MAX_LOGO_BYTES:
        raise BrandingError(_("Le logo ne doit pas dépasser 1 Mo."))
    if not data:
        raise BrandingError(_("Le fichier envoyé est vide."))
    try:
        return uploads.validate_image(io.BytesIO(data), max_bytes=MAX_LOGO_BYTES)
    except uploads.UploadError as error:
        head = data[:1024].lstrip().lower()
        if (
            (filename or "").lower().endswith((".svg", ".svgz"))
            or b"<svg" in head
            or (head.startswith(b"<?xml"))
        ):
            raise BrandingError(
                _(
                    "Les logos SVG ne sont pas acceptés, car ils peuvent contenir du code : "
                    "envoyez une image PNG ou JPEG."
                )
            ) from None
        if logo_kind(data) is None:
            raise BrandingError(_("Le logo doit être une image PNG ou JPEG.")) from None
        raise BrandingError(str(error)) from None


def store_logo(tenant_id: int, data: bytes, kind: str) -> str:
    """Re-encode the logo without metadata under a random name (core.uploads)."""
    try:
        return uploads.store_image(tenant_id, data, kind)
    except uploads.UploadError as error:
        raise BrandingError(str(error)) from None


def delete_logo(tenant_id: int, name: str | None) -> None:
    uploads.delete_image(tenant_id, name)


# --------------------------------------------------------------------------- settings


def read_settings(keys: tuple[str, ...]) -> dict:
    rows = db.session.execute(
        sa.select(TenantSetting.key, TenantSetting.value).where(TenantSetting.key.in_(keys))
    ).all()
    values = {key: None for key in keys}
    values.update({row.key: row.value for row in rows})
    return values


def theme_stylesheet(colour: str | None) -> str:
    try:
        colour = normalise_colour(colour)
    except BrandingError:
        colour = DEFAULT_PRIMARY_COLOUR
    return (
        f":root {{ --primary: {colour}; }}\n"
        ".site-logo { height: 2.5rem; width: auto; max-width: 10rem; object-fit: contain;"
        " vertical-align: middle; margin-right: .5rem; background: #fff; }\n"
    )


def current_branding() -> dict | None:
    """The branding of the current tenant site, read once per request (None elsewhere)."""
    site = g.get("site")
    tenant = current_tenant()
    if tenant is None or site is None or getattr(site, "kind", None) != "tenant":
        return None
    if "pnyx_branding" in g:
        return g.pnyx_branding
    try:
        # Every page shows the branding: read once per process and tenant, dropped
        # when a setting changes (tenants.cache).
        values = tenant_values.cached("branding", lambda: read_settings(BRANDING_KEYS))
    except SQLAlchemyError:
        # An error page after a failed statement must still render.
        current_app.logger.warning("branding settings unavailable", exc_info=True)
        values = dict.fromkeys(BRANDING_KEYS)
    if values[LOGO_FILE] and LOGO_NAME_RE.fullmatch(str(values[LOGO_FILE])):
        from flask import url_for

        logo_src = url_for("branding.logo", filename=values[LOGO_FILE])
    else:
        logo_src = values[LOGO_URL] or None
    site_name = (values[SITE_NAME] or "").strip() or tenant.name
    colour = values[PRIMARY_COLOUR] or DEFAULT_PRIMARY_COLOUR
    g.pnyx_branding = {
        "site_name": site_name,
        "logo_src": logo_src,
        "primary_colour": colour,
        "theme_version": hashlib.sha256(theme_stylesheet(colour).encode()).hexdigest()[:12],
    }
    return g.pnyx_branding


def forget_branding() -> None:
    """After a settings change, the rest of this request shows the new values."""
    g.pop("pnyx_branding", None)


# --------------------------------------------------------------------------- routes


@bp.get("/theme.css", endpoint="theme_css")
def theme_css_view():
    colour = read_settings((PRIMARY_COLOUR,))[PRIMARY_COLOUR]
    body = theme_stylesheet(colour)
    response = current_app.response_class(body, mimetype="text/css")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = THEME_MAX_AGE
    return response.make_conditional(request)


@bp.get("/medias/logo/<filename>")
def logo(filename: str):
    # Only the current logo: the images folder also holds pictures moderation can hide.
    current = tenant_values.cached("branding", lambda: read_settings(BRANDING_KEYS))
    if filename != current.get(LOGO_FILE):
        abort(404)
    # The name changes with the content, and a logo is public by nature: long caching.
    return uploads.send_image(current_tenant().id, filename)


def init_app(app: Flask) -> None:
    from core.routing import TENANT_SITE

    app.register_blueprint(bp, subdomain=TENANT_SITE)

    @app.context_processor
    def _branding_context():
        return {"branding": current_branding()}
