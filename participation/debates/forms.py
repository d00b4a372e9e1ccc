"""Forms of debates, arguments and comments (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from core.forms import FlaskForm, IntegerField
from participation.accounts.forms import Chosen, Required
from participation.debates.models import Side
from participation.debates.services.comments import COMMENT_MAX
from participation.debates.services.debates import ARGUMENT_MAX, QUESTION_MAX
from participation.engagement.antispam import HoneypotForm

SIDE_LABELS = {Side.FOR: _l("Pour"), Side.AGAINST: _l("Contre")}


class DebateForm(FlaskForm):
    process_id = SelectField(
        _l("Démarche"), coerce=int, validators=[Chosen(_l("Choisissez la démarche."))]
    )
    question = StringField(
        _l("Question posée"),
        validators=[
            Required(_l("Indiquez la question du débat.")),
            Length(max=QUESTION_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )
    description = TextAreaField(_l("Présentation (facultative, Markdown)"))

    def set_processes(self, processes) -> None:
        self.process_id.choices = [SelectChoice(p.id, p.title) for p in processes]


class ArgumentForm(HoneypotForm):
    side = RadioField(
        _l("Votre argument est"),
        choices=[SelectChoice(side.value, label) for side, label in SIDE_LABELS.items()],
        validators=[Optional()],
    )
    body = TextAreaField(
        _l("Votre argument"),
        validators=[
            Required(_l("Écrivez votre argument.")),
            Length(max=ARGUMENT_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )
    parent_id = IntegerField(validators=[Optional()])


class CommentForm(HoneypotForm):
    target_type = HiddenField()
    target_id = IntegerField(validators=[Optional()])
    parent_id = IntegerField(validators=[Optional()])
    next = HiddenField()
    body = TextAreaField(
        _l("Votre commentaire"),
        validators=[
            Required(_l("Écrivez votre commentaire.")),
            Length(max=COMMENT_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )


class CommentEditForm(FlaskForm):
    body = TextAreaField(
        _l("Votre commentaire"),
        validators=[
            Required(_l("Écrivez votre commentaire.")),
            Length(max=COMMENT_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )
