"""Themes (the staff's list, and those the public filter offers) and the quartiers a
process can be about."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from core.audit import audit
from core.db import db
from participation.accounts.models import Neighbourhood, User
from participation.processes import visibility
from participation.processes.models import Process, Theme
from participation.processes.services.common import ProcessError


def all_themes() -> list[Theme]:
    return list(db.session.scalars(sa.select(Theme).order_by(Theme.position, Theme.name)))


def themes_in_use() -> list[Theme]:
    """Themes of at least one public process (the public filter offers only those)."""
    used = sa.select(Process.theme_id).where(visibility.public_clause())
    return list(
        db.session.scalars(
            sa.select(Theme).where(Theme.id.in_(used)).order_by(Theme.position, Theme.name)
        )
    )


def all_neighbourhoods() -> list[Neighbourhood]:
    return list(
        db.session.scalars(
            sa.select(Neighbourhood).order_by(Neighbourhood.position, Neighbourhood.name)
        )
    )


def _clean_theme_name(name: str | None, current_id: int | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ProcessError(_("Indiquez le nom du thème."), "name")
    if len(name) > 120:
        raise ProcessError(_("Le nom ne peut pas dépasser 120 caractères."), "name")
    clash = db.session.scalar(
        sa.select(Theme.id).where(
            sa.func.lower(Theme.name) == name.lower(), Theme.id != (current_id or 0)
        )
    )
    if clash is not None:
        raise ProcessError(_("Un thème porte déjà ce nom."), "name")
    return name


def create_theme(name: str, position: int | None, actor: User) -> Theme:
    name = _clean_theme_name(name, None)
    if position is None:
        position = (db.session.scalar(sa.select(sa.func.max(Theme.position))) or 0) + 1
    theme = Theme(name=name, position=position)
    db.session.add(theme)
    db.session.flush()
    audit("processes.theme_created", actor, "theme", theme.id, name=name, position=position)
    return theme


def update_theme(theme: Theme, name: str, position: int | None, actor: User) -> bool:
    name = _clean_theme_name(name, theme.id)
    position = theme.position if position is None else position
    if (theme.name, theme.position) == (name, position):
        return False
    before = {"name": theme.name, "position": theme.position}
    theme.name, theme.position = name, position
    db.session.flush()
    audit(
        "processes.theme_updated",
        actor,
        "theme",
        theme.id,
        before=before,
        after={"name": name, "position": position},
    )
    return True


def delete_theme(theme: Theme, actor: User) -> None:
    # Its processes stay, without a theme (the foreign key sets NULL).
    audit("processes.theme_deleted", actor, "theme", theme.id, name=theme.name)
    db.session.delete(theme)
    db.session.flush()
