"""Follows: a citizen follows a process, a proposal or a debate to hear of its news
(:func:`participation.engagement.services.notifications.notify_followers`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.db import db
from participation.engagement.models import Follow, TargetType
from participation.engagement.services.targets import (
    EngagementError,
    as_target_type,
    get_target,
    is_followable,
)


def follow(user_id: int, target_type: TargetType | str, target_id: int) -> bool:
    """Follow a process, a proposal or a debate. Idempotent; True if the follow is new."""
    target_type = as_target_type(target_type)
    if not is_followable(target_type):
        raise EngagementError(_("Ce contenu ne peut pas être suivi."))
    if get_target(target_type, target_id) is None:
        raise EngagementError(_("Ce contenu n'existe pas."))
    result = db.session.execute(
        pg_insert(Follow)
        .values(user_id=user_id, target_type=target_type, target_id=target_id)
        .on_conflict_do_nothing()
        .returning(Follow.user_id)
    )
    return result.first() is not None


def unfollow(user_id: int, target_type: TargetType | str, target_id: int) -> bool:
    """Stop following; True if there was a follow to remove."""
    result = db.session.execute(
        sa.delete(Follow)
        .where(
            Follow.user_id == user_id,
            Follow.target_type == as_target_type(target_type),
            Follow.target_id == target_id,
        )
        .returning(Follow.user_id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def is_following(user_id: int | None, target_type: TargetType | str, target_id: int) -> bool:
    if not user_id:
        return False
    return (
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                Follow.user_id == user_id,
                Follow.target_type == as_target_type(target_type),
                Follow.target_id == target_id,
            )
        )
        is True
    )


def follower_count(target_type: TargetType | str, target_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Follow.target_type == as_target_type(target_type), Follow.target_id == target_id
        )
    )
