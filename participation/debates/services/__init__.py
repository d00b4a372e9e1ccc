"""Debates (a question, arguments pour / contre with one level of replies) and comments on
processes, proposals and debates (threaded to ``COMMENT_MAX_DEPTH`` levels).

Services add and flush, never commit and never touch the request. Rules broken raise
:class:`DebateError` with a French message.

- :mod:`.debates`: debates, their arguments, and the notice of a new contribution;
- :mod:`.comments`: comments, the edit window and the paged thread of a page.

This module re-exports the names the views, the templates' helpers and the tests use.
"""

from participation.debates.services.comments import (
    COMMENT_MAX,
    COMMENTABLE,
    DEFAULT_EDIT_WINDOW_MINUTES,
    EDIT_WINDOW_SETTING,
    CommentNode,
    CommentThread,
    can_edit_comment,
    comment_target,
    comment_thread,
    commenting_closed_reason,
    create_comment,
    delete_comment,
    edit_comment,
    edit_deadline,
    edit_window_minutes,
    get_comment,
    target_is_public,
    target_label,
)
from participation.debates.services.debates import (
    ARGUMENT_MAX,
    PUBLIC_PROCESS_STATES,
    QUESTION_MAX,
    ArgumentNode,
    DebateError,
    DebateSummary,
    add_argument,
    can_argue,
    close_debate,
    closed_reason,
    create_debate,
    debate_columns,
    debate_is_public,
    delete_argument,
    get_argument,
    get_debate,
    list_processes,
    process_debates,
    public_debates,
    reopen_debate,
    staff_debates,
    update_debate,
)

__all__ = [
    "ARGUMENT_MAX",
    "COMMENTABLE",
    "COMMENT_MAX",
    "DEFAULT_EDIT_WINDOW_MINUTES",
    "EDIT_WINDOW_SETTING",
    "PUBLIC_PROCESS_STATES",
    "QUESTION_MAX",
    "ArgumentNode",
    "CommentNode",
    "CommentThread",
    "DebateError",
    "DebateSummary",
    "add_argument",
    "can_argue",
    "can_edit_comment",
    "close_debate",
    "closed_reason",
    "comment_target",
    "comment_thread",
    "commenting_closed_reason",
    "create_comment",
    "create_debate",
    "debate_columns",
    "debate_is_public",
    "delete_argument",
    "delete_comment",
    "edit_comment",
    "edit_deadline",
    "edit_window_minutes",
    "get_argument",
    "get_comment",
    "get_debate",
    "list_processes",
    "process_debates",
    "public_debates",
    "reopen_debate",
    "staff_debates",
    "target_is_public",
    "target_label",
    "update_debate",
]
