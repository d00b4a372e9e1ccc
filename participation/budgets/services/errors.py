"""The errors budget rules raise (views show their French message on the form)."""

from __future__ import annotations


class BudgetError(Exception):
    """A broken rule; ``str()`` is the French message, ``field`` the form field concerned."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AlreadyVoted(BudgetError):
    """This voter (or this person of the census list) has a ballot already."""
