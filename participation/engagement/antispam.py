"""Two cheap defences of every citizen form that publishes something.

- :class:`HoneypotForm`: a form base (mixin) with a text field that people never see and
  that naive bots fill in. Render it with ``{{ honeypot(form) }}`` from
  ``templates/engagement/_macros.html`` (or ``honeypot_field(suffix)`` when the page has
  several forms). A filled field makes the form invalid: the view refuses it with
  :data:`HONEYPOT_MESSAGE` and saves nothing. ``form.caught_bot`` tells why it failed.
- :func:`posting_limit` (from core.security.limits): a Flask-Limiter limit on POST keyed by
  the logged-in user and the tenant (every publishing form shares one budget), answered with
  429 and a French page.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import ValidationError

from core.forms import FlaskForm
from core.security.limits import posting_key, posting_limit  # noqa: F401 - re-exported

HONEYPOT_FIELD = "website"
HONEYPOT_LABEL = _l("Ne remplissez pas ce champ : il sert à bloquer les robots")
HONEYPOT_MESSAGE = _l(
    "Votre envoi n'a pas pu être enregistré. Vérifiez votre message et réessayez."
)


class HoneypotForm(FlaskForm):
    """Inherit from it (alone or next to another form class) to add the honeypot."""

    website = StringField(HONEYPOT_LABEL, default="")

    def validate_website(self, field) -> None:
        if (field.data or "").strip():
            raise ValidationError(HONEYPOT_MESSAGE)

    @property
    def caught_bot(self) -> bool:
        return bool(self.website.errors)
