"""What the verification services share: their error, the operator's address, links to the
platform site and the length of a reason."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

REASON_MAX_LENGTH = 2000


class VerificationError(ValueError):
    """A French, user-facing reason why a verification action is refused."""


def operator_address() -> str:
    return current_app.config.get("OPERATOR_EMAIL") or current_app.config["SIGNUP_SUPPORT_EMAIL"]


def platform_url(endpoint: str, **values) -> str:
    from flask import url_for

    scheme = current_app.config["PREFERRED_URL_SCHEME"]
    return f"{scheme}://{current_app.config['PLATFORM_DOMAIN']}{url_for(endpoint, **values)}"


def reason_text(text: str | None, missing: str) -> str:
    """The operator's reason, stripped: ``missing`` when blank, refused when too long."""
    value = (text or "").strip()
    if not value:
        raise VerificationError(missing)
    if len(value) > REASON_MAX_LENGTH:
        raise VerificationError(
            _("Ce texte ne peut pas dépasser %(n)d caractères.", n=REASON_MAX_LENGTH)
        )
    return value
