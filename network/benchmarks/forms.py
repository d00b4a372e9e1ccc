"""Forms of the benchmarks (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectMultipleField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import FlaskForm
from network.benchmarks.metrics import METRICS


class RefreshForm(FlaskForm):
    """The coordinator's « recalculer » button: nothing but the CSRF token."""


class SharingForm(FlaskForm):
    network_id = HiddenField(validators=[DataRequired()])
    metrics = SelectMultipleField(
        _l("Indicateurs partagés avec ce réseau"),
        choices=[(m.key, m.name) for m in METRICS],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
