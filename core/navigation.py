"""Menus filled by the features: each feature adds its links from its own ``init_app``, and
the menu templates loop over the links of their area, so no template names a feature.

Areas and the templates that show them:

- ``"tenant"``: the public menu of a collectivité's site (templates/_nav_tenant.html), before
  the log-in and log-out controls;
- ``"staff"``: the staff menu under /gestion (templates/staff/_layout.html), which marks the
  current page with ``aria-current``;
- ``"platform"``: the menu of the platform site (templates/_nav_platform.html);
- ``"staff_home"``: the shortcuts of the staff home (``participation.staff.home``).

Links are kept per application (``app.extensions``): a link exists only on an app whose
feature registered it, so a template never builds the URL of an endpoint the app lacks.
Within an area links are sorted by ``order`` (then endpoint); the features use steps of ten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

EXTENSION_KEY = "pnyx_navigation"


@dataclass(frozen=True)
class NavEntry:
    """One link of a menu."""

    endpoint: str
    label: Any  # a lazy French label (``lazy_gettext``)
    order: int
    #: ``visible(user) -> bool`` with the current user (anonymous included); None: everyone.
    visible: Callable[[Any], bool] | None = None
    #: What makes the link the current page: endpoints, or blueprint prefixes ending with
    #: "." (``"staff_processes."``). Empty: the link's own endpoint.
    current: tuple[str, ...] = ()
    #: ``badge() -> str | None``: a short text shown in brackets after the label (the
    #: number of unread notifications), computed only when the link is shown.
    badge: Callable[[], str | None] | None = None

    def is_visible(self, user: Any) -> bool:
        return self.visible is None or bool(self.visible(user))

    def is_current(self, endpoint: str | None) -> bool:
        endpoint = endpoint or ""
        for marker in self.current or (self.endpoint,):
            if endpoint.startswith(marker) if marker.endswith(".") else endpoint == marker:
                return True
        return False

    def badge_text(self) -> str | None:
        return self.badge() if self.badge is not None else None


def signed_in(user: Any) -> bool:
    """A ``visible`` rule: links for logged-in people only."""
    return bool(getattr(user, "is_authenticated", False))


def _areas(app: Flask) -> dict[str, dict[str, NavEntry]]:
    return app.extensions.setdefault(EXTENSION_KEY, {})


def add_entry(app: Flask, area: str, entry: NavEntry) -> NavEntry:
    """Add (or replace: registering twice is harmless) a link of ``area``."""
    _areas(app).setdefault(area, {})[entry.endpoint] = entry
    return entry


def register_nav_entry(
    app: Flask,
    area: str,
    endpoint: str,
    label: Any,
    order: int,
    *,
    visible: Callable[[Any], bool] | None = None,
    current: Iterable[str] = (),
    badge: Callable[[], str | None] | None = None,
) -> NavEntry:
    """Add the link to ``endpoint`` (no URL argument) to the menu of ``area``."""
    entry = NavEntry(endpoint, label, order, visible, tuple(current), badge)
    return add_entry(app, area, entry)


def registered_entries(area: str, app: Flask | None = None) -> list[NavEntry]:
    """Every link of ``area``, in menu order, whoever looks."""
    entries = _areas(app or current_app).get(area, {}).values()
    return sorted(entries, key=lambda entry: (entry.order, entry.endpoint))


def nav_entries(area: str, user: Any = None) -> list[NavEntry]:
    """The links of ``area`` that ``user`` (default: the current user) may see, in order."""
    if user is None:
        from flask_login import current_user

        user = current_user
    return [entry for entry in registered_entries(area) if entry.is_visible(user)]


def init_app(app: Flask) -> None:
    """Templates call ``nav_entries(area)``."""
    app.jinja_env.globals["nav_entries"] = nav_entries
