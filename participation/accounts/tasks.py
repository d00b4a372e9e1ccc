"""RGPD export ("Télécharger mes données"): a job builds a ZIP of JSON files and mails a link.

The sections come from the personal-data registry (``participation/accounts/personal_data.py``):
every feature registers a callable ``section(user) -> (filename, data)`` (a list of such
pairs, or ``None`` when it has nothing); ``data`` must be JSON-serialisable (dates are
written in ISO 8601).

Archives live in ``<TENANT_EXPORT_DIR>/t<tenant_id>/``: the path is built from the tenant
id and the user id only, never from user input. They are deleted after
``RETENTION_EXPORT_DAYS`` (7) by a daily job (participation/accounts/retention.py), when
the user asks for a new one, and when the account is deleted.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app

from core.db import db
from core.mail import send_mail
from core.personal_data import json_default
from participation.accounts import services
from participation.accounts.models import User
from tenants.context import current_tenant, tenant_job
from tenants.urls import tenant_url

EXPORT_RETENTION_SECONDS = services.EXPORT_MAX_AGE
_EXPORT_NAME = re.compile(r"^user-(\d+)-[0-9a-f]{16}\.zip$")

Section = Callable[[User], "tuple[str, Any] | None"]


# --------------------------------------------------------------------------- sections

#: Extra sections appended at run time (tests, plug-ins). Features do not use it: they
#: register in ``participation.accounts.personal_data.registry`` with their erasure rule.
export_sections: list[Section] = []


def all_sections() -> list[Section]:
    from participation.accounts.personal_data import registry

    return [*registry.export_sections(), *export_sections]


README = """\
Vos données sur la plateforme de participation de {name}
=========================================================

Cette archive contient toutes les données personnelles liées à votre compte, au format
JSON (lisible avec un éditeur de texte ou un tableur) :

{files}

Archive créée le {created} (heure UTC). Elle ne sera plus téléchargeable après 7 jours.
Pour toute question sur vos données, consultez la page « Confidentialité » du site.
"""


# --------------------------------------------------------------------------- files


def export_dir(tenant_id: int) -> Path:
    base = Path(current_app.config.get("TENANT_EXPORT_DIR") or "instance/exports")
    if not base.is_absolute():
        base = Path(current_app.root_path) / base
    path = base / f"t{int(tenant_id)}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(tenant_id: int, user_id: int, filename: str) -> Path | None:
    """The archive ``filename`` of ``user_id``, if the name is one we made for that user and
    the file is still there."""
    match = _EXPORT_NAME.fullmatch(filename or "")
    if match is None or int(match.group(1)) != user_id:
        return None
    path = export_dir(tenant_id) / filename
    if not path.is_file() or time.time() - path.stat().st_mtime > export_retention_seconds():
        return None
    return path


def delete_user_exports(tenant_id: int, user_id: int) -> None:
    for path in export_dir(tenant_id).glob(f"user-{int(user_id)}-*.zip"):
        path.unlink(missing_ok=True)


def export_retention_seconds() -> int:
    days = current_app.config.get("RETENTION_EXPORT_DAYS")
    return int(days) * 86400 if days else EXPORT_RETENTION_SECONDS


def purge_expired_exports(tenant_id: int, now: float | None = None) -> int:
    """Delete the archives older than the retention; returns how many went."""
    limit = (time.time() if now is None else now) - export_retention_seconds()
    count = 0
    for path in export_dir(tenant_id).glob("user-*.zip"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                count += 1
        except FileNotFoundError:
            pass
    return count


def build_archive(user: User, destination: Path) -> list[str]:
    """Write the ZIP of ``user``'s data to ``destination``; return the file names in it."""
    tenant = current_tenant()
    written: list[str] = []
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in all_sections():
            result = section(user)
            if result is None:
                continue
            for filename, data in [result] if isinstance(result, tuple) else result:
                if filename in written:
                    raise ValueError(f"two export sections write {filename}")
                archive.writestr(
                    filename,
                    json.dumps(data, ensure_ascii=False, indent=2, default=json_default),
                )
                written.append(filename)
        archive.writestr(
            "LISEZMOI.txt",
            README.format(
                name=tenant.name if tenant else "",
                files="\n".join(f"- {name}" for name in written),
                created=datetime.now().astimezone().strftime("%d/%m/%Y à %H:%M"),
            ),
        )
    return written


# --------------------------------------------------------------------------- the job


@tenant_job
def export_user_data(tenant_id: int, user_id: int) -> str | None:
    """Build the archive of ``user_id`` and mail the download link. Returns the file name."""
    user = db.session.get(User, user_id)
    if user is None or user.is_deleted or not user.email:
        return None
    purge_expired_exports(tenant_id)
    delete_user_exports(tenant_id, user_id)  # only the newest archive is kept
    folder = export_dir(tenant_id)
    filename = f"user-{int(user_id)}-{secrets.token_hex(8)}.zip"
    # Built beside its final place, then renamed: a half-written archive is never served.
    with tempfile.TemporaryDirectory(dir=folder, prefix=".building-") as tmp:
        partial = Path(tmp) / filename
        build_archive(user, partial)
        os.replace(partial, folder / filename)
    tenant = current_tenant()
    link = tenant_url(
        tenant, "accounts.download_export", token=services.export_token(user, filename)
    )
    send_mail(user.email, "account_export_ready", user=user, tenant=tenant, link=link, days=7)
    db.session.commit()  # delivers the mail (enqueued after commit)
    return filename
