"""What the public sees of what accounts write, the rules every feature's ``visibility``
module starts from:

- what a blocked account wrote is not shown (:func:`is_blocked`, :func:`not_blocked_clause`);
- a contribution (a comment, an argument) deleted by its author or hidden by moderation
  keeps its place in its thread, without author nor body (:func:`visible_clause` tells the
  ones shown); the open data publishes only those, and none by a blocked account
  (:func:`published_clause`).
"""

from __future__ import annotations

import sqlalchemy as sa

from participation.accounts.models import User


def is_blocked(user: User | None) -> bool:
    return user is not None and user.blocked_at is not None


def not_blocked_clause(author_id_column):
    """SQL twin of ``not is_blocked(author)``: true when no blocked account has this id
    (also for a NULL author, an account erased since)."""
    return ~sa.exists().where(User.id == author_id_column, User.blocked_at.is_not(None))


def visible_clause(contribution):
    """Shown with its author and body: neither deleted nor hidden (``contribution`` is the
    model, ``Comment`` or ``Argument``, or an alias of one)."""
    return sa.and_(contribution.deleted_at.is_(None), contribution.hidden_at.is_(None))


def published_clause(contribution):
    """What the open data publishes: visible, and not written by a blocked account."""
    return sa.and_(visible_clause(contribution), not_blocked_clause(contribution.author_id))
