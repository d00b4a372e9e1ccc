"""What a tenant's plan allows, as the features ask it: an interface the tenancy owns.

The features (participation) sit below billing and must not import it; they ask here, and
billing answers from its ``init_app`` (:func:`install`, with ``billing.limits``). In an app
where nothing answered, every feature is included::

    from tenants.plan_limits import require_feature

    @require_feature("budget_module")  # a tenant view: 403 and why, when the plan excludes it
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol

from flask import Flask, current_app

_EXTENSION = "pnyx_plan_limits"


class PlanLimits(Protocol):
    def ensure_feature(self, tenant_id: int, key: str) -> None:
        """Raise when the tenant's plan does not include ``key``: an exception whose
        ``str()`` is the French explanation, answered with a 403 by its owner."""


class NoLimits:
    """Nothing answers: every feature is included."""

    def ensure_feature(self, tenant_id: int, key: str) -> None:
        return None


def install(app: Flask, limits: PlanLimits) -> None:
    app.extensions[_EXTENSION] = limits


def ensure_feature(tenant_id: int, key: str) -> None:
    current_app.extensions.get(_EXTENSION, NoLimits()).ensure_feature(tenant_id, key)


def require_feature(key: str) -> Callable:
    """A tenant view available only when the plan includes ``key`` (else 403 and why)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            from tenants.context import current_tenant

            tenant = current_tenant()
            if tenant is not None:
                ensure_feature(tenant.id, key)
            return view(*args, **kwargs)

        return wrapper

    return decorator
