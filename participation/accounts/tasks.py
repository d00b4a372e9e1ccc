"""RGPD export ("Télécharger mes données"): a job builds a ZIP of JSON files and mails a link.

Other features add what they hold about a user by appending to :data:`export_sections` a
callable ``section(user) -> (filename, data)`` (or ``None`` when it has nothing); ``data``
must be JSON-serialisable (dates are written in ISO 8601).

Archives live in ``<TENANT_EXPORT_DIR>/t<tenant_id>/``: the path is built from the tenant
id and the user id only, never from user input. They are deleted after 7 days, when the
user asks for a new one, and when the account is deleted.
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
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from flask import current_app

from core.db import db
from core.mail import send_mail
from participation.accounts import services
from participation.accounts.models import LegalDocumentKind, User
from tenants.context import current_tenant, tenant_job
from tenants.urls import tenant_url

EXPORT_RETENTION_SECONDS = services.EXPORT_MAX_AGE
_EXPORT_NAME = re.compile(r"^user-(\d+)-[0-9a-f]{16}\.zip$")

Section = Callable[[User], "tuple[str, Any] | None"]


# --------------------------------------------------------------------------- sections


def _profile(user: User) -> tuple[str, Any]:
    return "profil.json", {
        "id": user.id,
        "nom_affiche": user.display_name,
        "email": user.email,
        "email_confirme_le": user.email_confirmed_at,
        "compte_cree_le": user.created_at,
        "derniere_connexion": user.last_login_at,
        "role": user.staff_role,
        "double_authentification_active": bool(user.totp_enabled),
        "donnees_demographiques": {
            "consentement_le": user.demographics_consent_at,
            "tranche_age": user.age_bracket,
            "quartier": user.neighbourhood.name if user.neighbourhood else None,
        },
    }


def _preferences(user: User) -> tuple[str, Any]:
    return "preferences.json", {
        "frequence_des_notifications": user.notification_frequency,
        "reponses_de_la_collectivite": user.notify_answers,
        "commentaires_sur_mes_contributions": user.notify_comments,
        "nouvelles_demarches": user.notify_processes,
    }


def _consents(user: User) -> tuple[str, Any]:
    documents = services.current_legal_documents()
    terms = documents.get(LegalDocumentKind.TERMS)
    charter = documents.get(LegalDocumentKind.CHARTER)
    return "consentements.json", {
        "conditions_generales": {
            "version_acceptee": user.terms_version,
            "version_en_vigueur": terms.version if terms else None,
        },
        "charte_de_participation": {
            "version_acceptee": user.charter_version,
            "version_en_vigueur": charter.version if charter else None,
        },
        "donnees_demographiques_consenties_le": user.demographics_consent_at,
    }


def _staff(user: User) -> tuple[str, Any] | None:
    if user.staff_role is None:
        return None
    return "agent.json", {
        "role": user.staff_role,
        "services": [{"nom": s.name, "email": s.email} for s in user.services],
    }


#: What goes into the archive; features append their own sections.
export_sections: list[Section] = [_profile, _preferences, _consents, _staff]

README = """\
Vos données sur la plateforme de participation de {name}
=========================================================

Cette archive contient toutes les données personnelles liées à votre compte, au format
JSON (lisible avec un éditeur de texte ou un tableur) :

{files}

Archive créée le {created} (heure UTC). Elle ne sera plus téléchargeable après 7 jours.
Pour toute question sur vos données, consultez la page « Confidentialité » du site.
"""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"not serialisable in an export: {type(value).__name__}")


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
    if not path.is_file() or time.time() - path.stat().st_mtime > EXPORT_RETENTION_SECONDS:
        return None
    return path


def delete_user_exports(tenant_id: int, user_id: int) -> None:
    for path in export_dir(tenant_id).glob(f"user-{int(user_id)}-*.zip"):
        path.unlink(missing_ok=True)


def purge_expired_exports(tenant_id: int) -> None:
    limit = time.time() - EXPORT_RETENTION_SECONDS
    for path in export_dir(tenant_id).glob("user-*.zip"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            pass


def build_archive(user: User, destination: Path) -> list[str]:
    """Write the ZIP of ``user``'s data to ``destination``; return the file names in it."""
    tenant = current_tenant()
    written: list[str] = []
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in export_sections:
            result = section(user)
            if result is None:
                continue
            filename, data = result
            archive.writestr(
                filename,
                json.dumps(data, ensure_ascii=False, indent=2, default=_json_default),
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
