"""Extensions as module globals, bound to the app in ``create_app`` (Flask's factory pattern)."""

from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from core.db import db

babel = Babel()
csrf = CSRFProtect()

__all__ = ["babel", "csrf", "db"]
