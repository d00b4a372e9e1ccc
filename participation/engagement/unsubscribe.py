"""One-click unsubscribe links (RFC 8058) carried by every notification e-mail.

Below both the services and the mail jobs (``participation.engagement.tasks`` writes the
links, the ``engagement.unsubscribe`` page reads them), so neither imports the other.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from core.db import db
from participation.accounts.models import NotificationFrequency, User
from tenants.context import TenantRef, current_tenant

UNSUBSCRIBE_PURPOSE = "unsubscribe"


def _unsubscribe_serializer(tenant: TenantRef | None = None) -> URLSafeSerializer:
    tenant = tenant or current_tenant()
    if tenant is None:
        raise RuntimeError("engagement services need a current tenant")
    # No expiry: an unsubscribe link must keep working in an old e-mail (RFC 8058).
    return URLSafeSerializer(
        current_app.secret_key, salt=f"pnyx-engagement:{UNSUBSCRIBE_PURPOSE}:tenant:{tenant.id}"
    )


def unsubscribe_token(user_id: int) -> str:
    return _unsubscribe_serializer().dumps({"u": user_id})


def user_for_unsubscribe_token(token: str) -> User | None:
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or user.is_deleted:
        return None
    return user


def unsubscribe(user: User) -> bool:
    """No more notification e-mails (the notification centre stays). True if it changed."""
    if user.notification_frequency == NotificationFrequency.NEVER:
        return False
    user.notification_frequency = NotificationFrequency.NEVER
    db.session.flush()
    return True
