"""The signed link that follows a sign-up without a log-in (``/inscription/suivi/<token>``).

It names the tenant only; the sign-up pages (``billing.signup``) hand it out and read it
back, the verification mails (``billing.verification``) link to it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

PROGRESS_SALT = "pnyx-signup-progress"
PROGRESS_MAX_AGE = timedelta(days=30)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=PROGRESS_SALT)


def progress_token(tenant_id: int) -> str:
    return _serializer().dumps({"tenant": int(tenant_id)})


def tenant_id_from_token(token: str) -> int | None:
    try:
        data = _serializer().loads(token, max_age=int(PROGRESS_MAX_AGE.total_seconds()))
    except BadSignature:  # SignatureExpired included
        return None
    tenant_id = data.get("tenant") if isinstance(data, dict) else None
    return tenant_id if isinstance(tenant_id, int) else None
