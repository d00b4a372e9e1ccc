"""The shortcuts of the staff home (/gestion/), filled by the features.

A feature adds its card from its own ``init_app`` with :func:`register_staff_card`; the home
page (``participation.staff.views.home``) shows the cards the current staff member may see,
in ``order``. The cards live in the ``"staff_home"`` area of :mod:`core.navigation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from core import navigation

AREA = "staff_home"


@dataclass(frozen=True)
class StaffCard(navigation.NavEntry):
    """A shortcut of the staff home. ``count() -> int``, when given, is the number the card
    will show (what awaits the team there, issue 15); today's page shows none."""

    count: Callable[[], int] | None = None


def register_staff_card(
    app: Flask,
    endpoint: str,
    label: Any,
    order: int,
    *,
    visible: Callable[[Any], bool] | None = None,
    count: Callable[[], int] | None = None,
) -> StaffCard:
    """Add the card linking to ``endpoint`` (no URL argument) to the staff home."""
    card = StaffCard(endpoint, label, order, visible, count=count)
    navigation.add_entry(app, AREA, card)
    return card


def staff_cards(user: Any = None) -> list[StaffCard]:
    """The cards ``user`` (default: the current user) may see, in order."""
    return navigation.nav_entries(AREA, user)
