"""Follows, notifications, reports and moderation, over a registry of targets.

Services add and flush, never commit and never touch the request: the caller commits once.
E-mails and jobs are enqueued for after that commit (``core.jobs.enqueue_after_commit``).

- :mod:`.targets`: the registry of what engagement may point at (each feature registers its
  content types), target lookups and pages, comment links;
- :mod:`.follows`: follow and unfollow;
- :mod:`.notifications`: who is told of what, the notification centre, the e-mail scheduled;
- :mod:`.moderation`: reports, hiding and restoring content, blocking accounts, the queue.

Unsubscribe links are :mod:`participation.engagement.unsubscribe` and the notification
e-mails and daily digest :mod:`participation.engagement.tasks`: both sit below these services
(``notifications`` enqueues the e-mail job; the jobs never import the services). This module
re-exports the names the rest of the code uses.
"""

from participation.engagement.services.follows import (
    follow,
    follower_count,
    is_following,
    unfollow,
)
from participation.engagement.services.moderation import (
    BLOCKED_CONTENT_REASON,
    REASON_LABELS,
    ModerationError,
    QueueItem,
    block_user,
    blocked_users,
    contribution_counts,
    dismiss_reports,
    hide_content,
    moderation_queue,
    open_report_count,
    report_content,
    reports_on,
    restore_content,
    unblock_user,
)
from participation.engagement.services.notifications import (
    KIND_PREFERENCES,
    mark_all_read,
    mark_read,
    notifications_page,
    notify_followers,
    notify_user,
    preference_for,
    unread_count,
)
from participation.engagement.services.targets import (
    EngagementError,
    Target,
    as_target_type,
    comment_page,
    comment_parent,
    comment_url,
    content_preview,
    get_target,
    is_followable,
    is_reportable,
    load_targets,
    local_url,
    moderated_models,
    page_url,
    register_target,
    registered_target,
    registered_targets,
    target_url,
)
from participation.engagement.unsubscribe import (
    unsubscribe,
    unsubscribe_token,
    user_for_unsubscribe_token,
)

__all__ = [
    "BLOCKED_CONTENT_REASON",
    "KIND_PREFERENCES",
    "REASON_LABELS",
    "EngagementError",
    "ModerationError",
    "QueueItem",
    "Target",
    "as_target_type",
    "block_user",
    "blocked_users",
    "comment_page",
    "comment_parent",
    "comment_url",
    "content_preview",
    "contribution_counts",
    "dismiss_reports",
    "follow",
    "follower_count",
    "get_target",
    "hide_content",
    "is_followable",
    "is_following",
    "is_reportable",
    "load_targets",
    "local_url",
    "mark_all_read",
    "mark_read",
    "moderated_models",
    "moderation_queue",
    "notifications_page",
    "notify_followers",
    "notify_user",
    "open_report_count",
    "page_url",
    "preference_for",
    "register_target",
    "registered_target",
    "registered_targets",
    "report_content",
    "reports_on",
    "restore_content",
    "target_url",
    "unblock_user",
    "unfollow",
    "unread_count",
    "unsubscribe",
    "unsubscribe_token",
    "user_for_unsubscribe_token",
]
