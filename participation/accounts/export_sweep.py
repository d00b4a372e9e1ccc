"""Sweep: RGPD exports stuck in ``building`` are built again, their partial files deleted.

``export_user_data`` (tasks.py) builds the archive in a ``.building-*`` folder beside its final
place and renames it when complete. A worker killed mid-build leaves that folder behind; the
job itself is retried (core.jobs retry policies), but if it has run out of retries the user
never gets the archive. Every few minutes (core/cron.py) this deletes every ``.building-*``
folder older than ``SWEEP_EXPORT_AFTER_MINUTES`` and, when no newer archive of that user
exists, queues the export again (through the outbox). The user id comes from the partial
archive's name (``user-<id>-<random>.zip``), never from anything a user typed.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

from flask import current_app

from core.db import db
from core.jobs import enqueue_after_commit, job

log = logging.getLogger(__name__)

_TENANT_DIR = re.compile(r"^t(\d+)$")
_PARTIAL = re.compile(r"^user-(\d+)-[0-9a-f]{16}\.zip$")


def _export_base() -> Path:
    base = Path(current_app.config.get("TENANT_EXPORT_DIR") or "instance/exports")
    return base if base.is_absolute() else Path(current_app.root_path) / base


def _has_newer_archive(folder: Path, user_id: int, since: float) -> bool:
    for path in folder.glob(f"user-{int(user_id)}-*.zip"):
        try:
            if path.stat().st_mtime >= since:
                return True
        except FileNotFoundError:
            continue
    return False


def sweep_stuck_exports_now(minutes: int | None = None) -> dict[str, int]:
    from participation.accounts.tasks import export_user_data
    from tenants.context import load_tenant_ref, tenant_job_id

    minutes = (
        minutes if minutes is not None else current_app.config.get("SWEEP_EXPORT_AFTER_MINUTES", 60)
    )
    limit = time.time() - 60 * int(minutes)
    base = _export_base()
    deleted = requeued = 0
    if not base.is_dir():
        return {"deleted": 0, "requeued": 0}
    for folder in sorted(base.iterdir()):
        match = _TENANT_DIR.match(folder.name)
        if not match or not folder.is_dir():
            continue
        tenant_id = int(match.group(1))
        for building in folder.glob(".building-*"):
            try:
                started = building.stat().st_mtime
            except FileNotFoundError:
                continue
            if started >= limit:
                continue  # perhaps still being built
            user_ids = {
                int(m.group(1)) for path in building.iterdir() if (m := _PARTIAL.match(path.name))
            }
            shutil.rmtree(building, ignore_errors=True)
            deleted += 1
            tenant = load_tenant_ref(tenant_id)
            if tenant is None or tenant.status not in ("active", "suspended"):
                continue
            for user_id in sorted(user_ids):
                if _has_newer_archive(folder, user_id, started):
                    continue  # a retry of the job finished it
                enqueue_after_commit(
                    export_user_data,
                    tenant_id,
                    user_id,
                    queue="low",
                    job_id=tenant_job_id(
                        tenant_id, "account-export", f"{user_id}-sweep-{int(started)}"
                    ),
                )
                requeued += 1
    if deleted:
        log.warning("sweep: %d partial export(s) deleted, %d re-queued", deleted, requeued)
    return {"deleted": deleted, "requeued": requeued}


@job
def sweep_stuck_exports() -> dict[str, int]:
    result = sweep_stuck_exports_now()
    db.session.commit()  # the outbox rows, handed to rq after the commit
    return result


def _register_schedule() -> None:
    # Listed in core.cron.FEATURE_SCHEDULES: importing this module adds the sweep to the
    # schedule (the accounts package has no cron module of its own for it).
    from rq import cron

    cron.register(sweep_stuck_exports, "low", interval=300, job_timeout=300)


_register_schedule()
