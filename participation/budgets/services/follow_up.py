"""Follow-up of the retained projects after the vote: residents follow a project; staff
record its progress, milestones and public updates, and followers are notified."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.audit import audit
from core.db import db
from participation.accounts.models import User
from participation.budgets.models import (
    BudgetMilestone,
    BudgetPhase,
    BudgetProject,
    BudgetUpdate,
    ProjectFollow,
)
from participation.budgets.services.errors import BudgetError
from participation.budgets.services.results import retained_project_ids


def is_following(project: BudgetProject, user: User | None) -> bool:
    if user is None:
        return False
    return db.session.get(ProjectFollow, (project.id, user.id)) is not None


def toggle_follow(project: BudgetProject, user: User) -> bool:
    """Follow or stop following; returns the new state."""
    row = db.session.get(ProjectFollow, (project.id, user.id))
    if row is None:
        db.session.execute(
            pg_insert(ProjectFollow)
            .values(project_id=project.id, user_id=user.id)
            .on_conflict_do_nothing()
        )
        return True
    db.session.delete(row)
    db.session.flush()
    return False


def _check_follow_up(project: BudgetProject, today: date) -> None:
    if project.budget.phase(today) not in (BudgetPhase.RESULTS, BudgetPhase.IMPLEMENTATION):
        raise BudgetError(_("Le suivi de réalisation commence après le vote."))
    if project.id not in retained_project_ids(project.budget):
        raise BudgetError(_("Seuls les projets retenus par le vote ont un suivi de réalisation."))


def set_progress(project: BudgetProject, progress: int, actor: User, today: date) -> None:
    _check_follow_up(project, today)
    if progress is None or not 0 <= progress <= 100:
        raise BudgetError(_("L'avancement est un pourcentage entre 0 et 100."), "progress")
    previous = project.progress
    project.progress = progress
    db.session.flush()
    audit(
        "budgets.progress_updated",
        actor,
        "budget_project",
        project.id,
        before=previous,
        after=progress,
    )


def add_milestone(
    project: BudgetProject, title: str, due_on: date | None, actor: User, today: date
) -> BudgetMilestone:
    _check_follow_up(project, today)
    title = (title or "").strip()
    if not title:
        raise BudgetError(_("Donnez un intitulé à l'étape."), "title")
    milestone = BudgetMilestone(
        project_id=project.id, title=title[:200], due_on=due_on, position=len(project.milestones)
    )
    db.session.add(milestone)
    db.session.flush()
    audit("budgets.milestone_added", actor, "budget_project", project.id, milestone=title)
    return milestone


def complete_milestone(milestone: BudgetMilestone, actor: User, today: date) -> None:
    _check_follow_up(milestone.project, today)
    milestone.done_on = None if milestone.done_on else today
    db.session.flush()
    audit(
        "budgets.milestone_done" if milestone.done_on else "budgets.milestone_reopened",
        actor,
        "budget_project",
        milestone.project_id,
        milestone=milestone.title,
    )


def post_update(
    project: BudgetProject,
    body: str,
    actor: User,
    today: date,
    photo_path: str | None = None,
    photo_alt: str | None = None,
) -> BudgetUpdate:
    _check_follow_up(project, today)
    body = (body or "").strip()
    if len(body) < 10:
        raise BudgetError(_("L'actualité doit faire au moins 10 caractères."), "body")
    if photo_path and not (photo_alt or "").strip():
        raise BudgetError(
            _("Décrivez la photo pour les personnes qui ne la voient pas."), "photo_alt"
        )
    update = BudgetUpdate(
        project_id=project.id,
        body=body,
        author_id=actor.id,
        photo_path=photo_path,
        photo_alt=(photo_alt or "").strip()[:300] or None,
    )
    db.session.add(update)
    db.session.flush()
    audit("budgets.update_posted", actor, "budget_project", project.id, update_id=update.id)
    from participation.engagement.services import local_url, notify_user

    followers = db.session.scalars(
        sa.select(ProjectFollow.user_id).where(ProjectFollow.project_id == project.id)
    ).all()
    for user_id in followers:
        notify_user(
            user_id,
            kind="process.budget_update",
            title=_("Du nouveau sur le projet « %(title)s »", title=project.title),
            body=body[:300],
            url=local_url("budgets.project", project_id=project.id),
        )
    return update
