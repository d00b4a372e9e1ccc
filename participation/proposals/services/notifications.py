"""Who hears of a change to a proposal: its followers, and its author even after they
stopped following it (they are owed the collectivité's answer). ``actor_id`` (the staff
member who acted, None for the platform) is never told of their own change."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db
from participation.accounts.models import User
from participation.engagement import services as engagement
from participation.engagement.models import Follow
from participation.proposals.models import Proposal
from participation.proposals.services.common import TARGET, proposal_path


def notify_author_and_followers(
    proposal: Proposal, *, kind: str, title: str, body: str, actor_id: int | None
) -> None:
    """Followers, and the author even if they stopped following (they are owed the answer)."""
    url = proposal_path(proposal.id)
    engagement.notify_followers(
        TARGET, proposal.id, kind=kind, title=title, body=body, url=url, exclude_user_id=actor_id
    )
    author_id = proposal.author_id
    if author_id is None or author_id == actor_id:
        return
    follows = db.session.scalar(
        sa.select(sa.literal(True)).where(
            Follow.user_id == author_id,
            Follow.target_type == TARGET,
            Follow.target_id == proposal.id,
        )
    )
    if follows is None:
        author = db.session.get(User, author_id)
        if author is not None and author.is_active:
            engagement.notify_user(author_id, kind=kind, title=title, body=body, url=url)
