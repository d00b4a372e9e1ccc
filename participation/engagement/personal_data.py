"""What follows, notifications, moderation reports, comments and arguments hold about a
person (registered in the tenant registry)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable
from participation.accounts.personal_data import registry, with_the_account
from participation.engagement import _export_sections
from participation.engagement.models import Follow, Notification

_contributions, _follows_and_notifications = _export_sections()
PUBLIC_ARCHIVE = _l("Durée de la démarche et de son archive publique.")


def export(user: Any) -> list[tuple[str, Any]]:
    return [_contributions(user), _follows_and_notifications(user)]


def erase(user: Any) -> None:
    db.session.execute(sa.delete(Follow).where(Follow.user_id == user.id))
    db.session.execute(sa.delete(Notification).where(Notification.user_id == user.id))


registry.register(
    PersonalData(
        name="engagement",
        export=export,
        erase=erase,
        tables=(
            PersonalTable("follows", ("user_id",), Erasure.DELETE, retention=with_the_account),
            PersonalTable(
                "notifications",
                ("user_id", "title", "body"),
                Erasure.DELETE,
                retention=with_the_account,
            ),
            PersonalTable(
                "reports",
                ("reporter_id", "details", "reason", "resolved_by_id", "resolution_note"),
                Erasure.KEEP,
                retention=_l("Durée de la modération du contenu signalé."),
                reason=_l(
                    "Traçabilité de la modération : le signalement reste relié au compte anonymisé."
                ),
            ),
            PersonalTable(
                "comments",
                ("author_id", "body", "hidden_reason"),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l("Contribution publique, signée « Participant·e anonyme »."),
            ),
            PersonalTable(
                "arguments",
                ("author_id", "body", "hidden_reason"),
                Erasure.KEEP,
                retention=PUBLIC_ARCHIVE,
                reason=_l("Contribution publique, signée « Participant·e anonyme »."),
            ),
        ),
    )
)
