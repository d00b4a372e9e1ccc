"""Forms of follows, reports, moderation and unsubscription (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from core.forms import FlaskForm
from participation.accounts.forms import Chosen, Required
from participation.engagement.antispam import HoneypotForm
from participation.engagement.models import ReportReason
from participation.engagement.services.moderation import REASON_LABELS

DETAILS_MAX = 2000
REASON_MAX = 1000


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF only."""


class FollowForm(FlaskForm):
    target_type = HiddenField()
    target_id = HiddenField()
    next = HiddenField()


class ReportForm(HoneypotForm):
    reason = RadioField(
        _l("Pourquoi signalez-vous ce contenu ?"),
        choices=[SelectChoice(reason.value, label) for reason, label in REASON_LABELS.items()],
        validators=[Chosen(_l("Choisissez la raison du signalement."))],
    )
    details = TextAreaField(
        _l("Précisions"),
        validators=[
            Length(max=DETAILS_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if (
            valid
            and self.reason.data == ReportReason.OTHER.value
            and not (self.details.data or "").strip()
        ):
            self.details.errors.append(_l("Précisez la raison du signalement."))
            return False
        return valid


class ModerationReasonForm(FlaskForm):
    """Hide, restore, block, unblock: the reason is required (shown with hidden content)."""

    reason = TextAreaField(
        _l("Raison"),
        validators=[
            Required(_l("Indiquez la raison.")),
            Length(max=REASON_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )


class DismissForm(FlaskForm):
    note = TextAreaField(
        _l("Note (facultative)"),
        validators=[Length(max=REASON_MAX, message=_l("%(max)d caractères au plus."))],
    )
