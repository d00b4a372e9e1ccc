"""Two cheap defences of every citizen form that publishes something.

- :class:`HoneypotForm`: a form base (mixin) with a text field that people never see and
  that naive bots fill in. Render it with ``{{ honeypot(form) }}`` from
  ``templates/engagement/_macros.html`` (or ``honeypot_field(suffix)`` when the page has
  several forms). A filled field makes the form invalid: the view refuses it with
  :data:`HONEYPOT_MESSAGE` and saves nothing. ``form.caught_bot`` tells why it failed.
- :func:`posting_limit`: a Flask-Limiter limit on POST keyed by the logged-in user and the
  tenant (every publishing form shares one budget), answered with 429 and a French page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import ValidationError

from core.forms import FlaskForm
from core.security.limits import client_key, limiter
from tenants.context import current_tenant

HONEYPOT_FIELD = "website"
HONEYPOT_LABEL = _l("Ne remplissez pas ce champ : il sert à bloquer les robots")
HONEYPOT_MESSAGE = _l(
    "Votre envoi n'a pas pu être enregistré. Vérifiez votre message et réessayez."
)

#: Per person and collectivité, shared by every form that publishes (comments, arguments,
#: reports, proposals…).
POSTING_LIMIT = "10 per minute;60 per hour"
POSTING_SCOPE = "pnyx-posting"


class HoneypotForm(FlaskForm):
    """Inherit from it (alone or next to another form class) to add the honeypot."""

    website = StringField(HONEYPOT_LABEL, default="")

    def validate_website(self, field) -> None:
        if (field.data or "").strip():
            raise ValidationError(HONEYPOT_MESSAGE)

    @property
    def caught_bot(self) -> bool:
        return bool(self.website.errors)


def posting_key() -> str:
    """The logged-in person on this tenant; else the client address on this site.

    The tenant's slug is in the key with its id, so a recreated tenant (same id in a new
    database) never inherits old counters."""
    tenant = current_tenant()
    if tenant is not None and current_user.is_authenticated:
        return f"t{tenant.id}-{tenant.slug}|u{current_user.id}"
    return client_key()


def posting_limit(view: Callable | None = None, *, limit: str = POSTING_LIMIT) -> Callable:
    """Decorate a view that publishes: ``@posting_limit`` or ``@posting_limit(limit=...)``."""
    decorator = limiter.shared_limit(
        limit, scope=POSTING_SCOPE, key_func=posting_key, methods=["POST"]
    )
    return decorator(view) if view is not None else decorator
