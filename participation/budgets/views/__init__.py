"""Participatory budget pages: ``public`` (blueprint ``budgets``, under
/budgets-participatifs) and ``staff`` (blueprint ``staff_budgets``, under /gestion/budgets);
``common`` holds what both share. ``participation.budgets.init_app`` registers ``bp`` and
``staff_bp``."""

from participation.budgets.views.public import bp
from participation.budgets.views.staff import staff_bp

__all__ = ["bp", "staff_bp"]
