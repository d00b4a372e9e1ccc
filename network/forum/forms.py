"""Forms of the network forum."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from core.forms import FlaskForm
from tenants.platform.forms import Required


class QuestionForm(FlaskForm):
    title = StringField(
        _l("Votre question, en une phrase"),
        validators=[Required(_l("Indiquez votre question en une phrase.")), Length(max=200)],
    )
    body = TextAreaField(
        _l("Précisez le contexte"),
        validators=[Required(_l("Écrivez votre message.")), Length(max=10000)],
    )


class AnswerForm(FlaskForm):
    body = TextAreaField(
        _l("Votre réponse"),
        validators=[Required(_l("Écrivez votre message.")), Length(max=10000)],
    )
