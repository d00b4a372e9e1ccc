"""Demo follows, notifications and open reports on the demo debates, for the demo citizens
(after the debates demo). Idempotent: found by their text. The notifications are marked as
already e-mailed, so seeding sends no e-mail and the next digest stays quiet.

It lives with the debates (engagement knows no feature's content): it follows, reports and
notifies about a debate, its arguments and its comments."""

from __future__ import annotations

import sqlalchemy as sa

from core import clock, demo
from core.db import db
from participation.debates.demo import DEBATES, _tenant_ids, demo_citizens
from participation.debates.models import Argument, Debate
from participation.engagement.comments import Comment
from participation.engagement.models import (
    Follow,
    Notification,
    Report,
    ReportReason,
    ReportStatus,
    TargetType,
)
from tenants.context import tenant_context


def _follow(user_id: int, target_type: TargetType, target_id: int) -> None:
    if db.session.get(Follow, (user_id, target_type, target_id)) is None:
        db.session.add(Follow(user_id=user_id, target_type=target_type, target_id=target_id))


def _report(reporter_id: int, target_type: TargetType, target_id: int, reason, details) -> bool:
    exists = db.session.scalar(
        sa.select(Report.id).where(
            Report.reporter_id == reporter_id,
            Report.target_type == target_type,
            Report.target_id == target_id,
        )
    )
    if exists:
        return False
    db.session.add(
        Report(
            reporter_id=reporter_id,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
            details=details,
            status=ReportStatus.OPEN,
        )
    )
    return True


def _notification(user_id: int, kind: str, title: str, body: str, url: str) -> bool:
    exists = db.session.scalar(
        sa.select(Notification.id).where(
            Notification.user_id == user_id, Notification.title == title
        )
    )
    if exists:
        return False
    db.session.add(
        Notification(
            user_id=user_id,
            kind=kind,
            title=title,
            body=body,
            url=url,
            emailed_at=clock.utcnow(),  # demo: never e-mailed
        )
    )
    return True


@demo.register(order=71)
def seed_engagement():
    ids = _tenant_ids()
    for slug in DEBATES:
        if slug not in ids:
            yield f"engagement demo: {slug} is not an active tenant, skipped"
            continue
        with tenant_context(ids[slug]) as tenant:
            citizens = demo_citizens(slug)
            debate = db.session.scalar(sa.select(Debate).order_by(Debate.id).limit(1))
            reports = notifications = 0
            if debate is not None and len(citizens) >= 2:
                first, second = citizens[0], citizens[1]
                for person in (first, second):
                    _follow(person.id, TargetType.DEBATE, debate.id)
                    _follow(person.id, TargetType.PROCESS, debate.process_id)
                argument = db.session.scalar(
                    sa.select(Argument)
                    .where(Argument.debate_id == debate.id, Argument.author_id != first.id)
                    .order_by(Argument.id.desc())
                    .limit(1)
                )
                if argument is not None:
                    reports += _report(
                        first.id,
                        TargetType.ARGUMENT,
                        argument.id,
                        ReportReason.OFF_TOPIC,
                        "Cet argument ne répond pas à la question posée.",
                    )
                comment = db.session.scalar(
                    sa.select(Comment)
                    .where(Comment.author_id != second.id, Comment.deleted_at.is_(None))
                    .order_by(Comment.id)
                    .limit(1)
                )
                if comment is not None:
                    reports += _report(
                        second.id,
                        TargetType.COMMENT,
                        comment.id,
                        ReportReason.ABUSE,
                        "Le ton me semble agressif.",
                    )
                url = f"/debats/{debate.id}"
                notifications += _notification(
                    first.id,
                    "argument",
                    f"Nouvel argument dans le débat « {debate.question} »",
                    "Un habitant a ajouté un argument contre.",
                    url,
                )
                notifications += _notification(
                    first.id,
                    "debate",
                    f"Nouveau débat : {debate.question}",
                    "Un débat vient d'être ouvert dans une démarche que vous suivez.",
                    url,
                )
                notifications += _notification(
                    second.id,
                    "reply",
                    f"{first.display_name} a répondu à votre argument",
                    "Merci pour cet éclairage !",
                    url,
                )
            db.session.commit()
            yield (
                f"{tenant.name} engagement: {reports} signalement(s) et {notifications} "
                "notification(s) ajoutés; modération sur /gestion/moderation/"
            )
