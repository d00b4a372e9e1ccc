"""``/healthz`` on every host: is the database reachable, is Redis reachable."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from core.db import db
from core.redis_client import redis_connection
from core.routing import TENANT_SITE


def healthz():
    checks = {"database": "ok", "redis": "ok"}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "down"
        checks["database"] = "unavailable"
    try:
        redis_connection().ping()
    except Exception:  # noqa: BLE001
        checks["redis"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    response = jsonify({"status": "ok" if ok else "degraded", **checks})
    response.status_code = 200 if ok else 503
    # Live every time: neither a proxy nor the page cache (tenants.pagecache) may answer for it.
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    # The same route on both sites (and unknown hosts, which route like the platform).
    platform = Blueprint("health", __name__)
    platform.add_url_rule("/healthz", "healthz", healthz)
    tenant = Blueprint("tenant_health", __name__)
    tenant.add_url_rule("/healthz", "healthz", healthz)
    app.register_blueprint(platform)
    app.register_blueprint(tenant, subdomain=TENANT_SITE)
