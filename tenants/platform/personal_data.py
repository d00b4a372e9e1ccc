"""Platform accounts in the platform registry (core.personal_data.platform_registry), and
the export and erasure of a platform account for the operator (``flask platform
personal-data``): the network features register their own tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import (
    Erasure,
    PersonalData,
    PersonalTable,
    platform_registry,
    rows_of,
)
from tenants.platform.models import PlatformUser, PlatformUserSession

ANONYMOUS_NAME = "Compte supprimé"


def _profile(user: PlatformUser) -> tuple[str, Any]:
    return "compte_plateforme.json", {
        "id": user.id,
        "nom_affiche": user.display_name,
        "email": user.email,
        "role": user.role,
        "collectivite": user.tenant_id,
        "derniere_connexion": user.last_login_at,
        "cree_le": user.created_at,
        "sessions_ouvertes": rows_of(
            "platform_user_sessions", ("user_id",), ("created_at", "expires_at")
        )(user),
        "journal_des_actions": rows_of(
            "platform_audit_log", ("actor_id",), ("occurred_at", "action", "target_type")
        )(user),
        "domaines_officiels_ajoutes": rows_of(
            "official_email_domains", ("created_by",), ("domain",)
        )(user),
    }


def _erase(user: PlatformUser) -> None:
    db.session.execute(sa.delete(PlatformUserSession).where(PlatformUserSession.user_id == user.id))
    user.email = f"supprime-{user.id}@invalid"  # unique and NOT NULL; .invalid never delivers
    user.display_name = ANONYMOUS_NAME
    user.password_hash = None
    user.totp_secret = None
    user.totp_enabled = False
    user.recovery_codes = []
    user.is_active = False
    user.session_version += 1


def export_platform_user(user: PlatformUser) -> dict[str, Any]:
    """Every registered section of ``user``: {file name: data}."""
    out: dict[str, Any] = {}
    for section in platform_registry.export_sections():
        result = section(user)
        for filename, data in [result] if isinstance(result, tuple) else (result or []):
            out[filename] = data
    return out


def erase_platform_user(user: PlatformUser) -> None:
    """Every registered erasure rule, the account row last (adds/flushes, no commit)."""
    platform_registry.erase(user)
    db.session.flush()


platform_registry.register(
    PersonalData(
        name="platform_accounts",
        export=_profile,
        erase=_erase,
        order=900,
        tables=(
            PersonalTable(
                "platform_users",
                ("email", "display_name"),
                Erasure.ANONYMISE,
                retention=_l("Tant que la personne exerce sa fonction ; effacé à sa demande."),
                reason=_l("La ligne reste pour les actes signés (engagements, publications)."),
            ),
            PersonalTable(
                "platform_user_sessions",
                ("user_id",),
                Erasure.DELETE,
                retention=_l("Jusqu'à la déconnexion ou l'expiration."),
            ),
            PersonalTable(
                "platform_audit_log",
                ("actor_id",),
                Erasure.KEEP,
                retention=_l("Tant que la plateforme existe."),
                reason=_l("Traçabilité de l'exploitation ; identifiant seulement."),
            ),
            PersonalTable(
                "official_email_domains",
                ("created_by",),
                Erasure.KEEP,
                retention=_l("Tant que le domaine est listé."),
                reason=_l("Qui a ajouté un domaine officiel (contrôle de la vérification)."),
            ),
        ),
    )
)
