"""The tenant's personal-data registry and the accounts' own entry.

Each feature of ``participation`` registers what it holds about a citizen or an agent from
its own ``personal_data.py`` (imported by the feature's ``init_app``)::

    from participation.accounts.personal_data import registry
    registry.register(PersonalData(name="budgets", tables=(...), export=..., erase=...))

"Télécharger mes données" (``tasks.build_archive``) writes every entry's export section;
"Supprimer mon compte" (``services.delete_account``) runs every entry's erase rule, then
anonymises the account row. Retention periods come from the settings (``RETENTION_*``) and
are written on /confidentialite from :func:`retention_periods`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalDataRegistry, PersonalTable
from participation.accounts.legal import current_legal_documents
from participation.accounts.models import Invitation, LegalDocumentKind, User, UserSession

#: Citizens and staff of the current tenant (schema ``t_<id>``).
registry = PersonalDataRegistry("tenant")


def setting(name: str, default: int) -> int:
    try:
        return int(current_app.config.get(name, default))
    except (RuntimeError, TypeError, ValueError):
        return default


def retention_periods() -> dict[str, int]:
    """The periods of the retention jobs (participation/accounts/retention.py)."""
    return {
        "census_months": setting("RETENTION_BUDGET_CENSUS_MONTHS", 6),
        "unconfirmed_days": setting("RETENTION_UNCONFIRMED_DAYS", 30),
        "export_days": setting("RETENTION_EXPORT_DAYS", 7),
        "inactive_months": setting("RETENTION_INACTIVE_MONTHS", 36),
        "inactive_warning_days": setting("RETENTION_INACTIVE_WARNING_DAYS", 30),
    }


def account_retention() -> str:
    p = retention_periods()
    return _(
        "Tant que le compte est utilisé ; sans connexion pendant %(months)d mois, le compte "
        "est anonymisé (prévenu·e %(days)d jours avant) ; un compte jamais confirmé est "
        "supprimé après %(unconfirmed)d jours.",
        months=p["inactive_months"],
        days=p["inactive_warning_days"],
        unconfirmed=p["unconfirmed_days"],
    )


def with_the_account() -> str:
    return _("Aussi longtemps que le compte ; effacé avec lui.")


# --------------------------------------------------------------------------- the accounts' entry


def _profile(user: User) -> tuple[str, Any]:
    return "profil.json", {
        "id": user.id,
        "nom_affiche": user.display_name,
        "email": user.email,
        "email_confirme_le": user.email_confirmed_at,
        "compte_cree_le": user.created_at,
        "derniere_connexion": user.last_login_at,
        "derniere_visite": getattr(user, "last_seen_at", None),
        "role": user.staff_role,
        "double_authentification_active": bool(user.totp_enabled),
        "compte_bloque_le": user.blocked_at,
        "raison_du_blocage": user.blocked_reason,
        "donnees_demographiques": {
            "consentement_le": user.demographics_consent_at,
            "tranche_age": user.age_bracket,
            "quartier": user.neighbourhood.name if user.neighbourhood else None,
        },
        "sessions_ouvertes": [
            {"ouverte_le": s.created_at, "expire_le": s.expires_at}
            for s in db.session.scalars(
                sa.select(UserSession)
                .where(UserSession.user_id == user.id)
                .order_by(UserSession.created_at)
            )
        ],
    }


def _preferences(user: User) -> tuple[str, Any]:
    return "preferences.json", {
        "frequence_des_notifications": user.notification_frequency,
        "reponses_de_la_collectivite": user.notify_answers,
        "commentaires_sur_mes_contributions": user.notify_comments,
        "nouvelles_demarches": user.notify_processes,
    }


def _consents(user: User) -> tuple[str, Any]:
    documents = current_legal_documents()
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
    invitations = []
    if user.email:
        invitations = db.session.scalars(
            sa.select(Invitation).where(sa.func.lower(Invitation.email) == user.email.lower())
        ).all()
    sent = db.session.scalars(
        sa.select(Invitation).where(Invitation.invited_by_id == user.id)
    ).all()
    if user.staff_role is None and not invitations and not sent:
        return None
    return "agent.json", {
        "role": user.staff_role,
        "services": [{"nom": s.name, "email": s.email} for s in user.services],
        "invitations_recues": [
            {"role": i.role, "le": i.created_at, "acceptee_le": i.accepted_at} for i in invitations
        ],
        "invitations_envoyees": [
            {"email": i.email, "role": i.role, "le": i.created_at} for i in sent
        ],
    }


def _accounts_export(user: User) -> list[tuple[str, Any]]:
    return [s for s in (_profile(user), _preferences(user), _consents(user), _staff(user)) if s]


def _accounts_erase(user: User) -> None:
    # Invitations sent to the address: they would let someone holding the mailbox back in.
    if user.email:
        db.session.execute(
            sa.delete(Invitation).where(
                sa.func.lower(Invitation.email) == user.email.lower(),
                Invitation.accepted_at.is_(None),
            )
        )
    # Sessions and services go with the row's anonymisation (services.delete_account).


def _tables() -> tuple[PersonalTable, ...]:
    return (
        PersonalTable(
            "users",
            ("email", "display_name", "blocked_reason", "neighbourhood_id"),
            Erasure.ANONYMISE,
            retention=account_retention,
            reason=_l(
                "La ligne reste pour que les contributions publiques gardent un auteur, "
                "« Participant·e anonyme » ; nom, adresse, mot de passe, 2FA et données "
                "démographiques sont effacés."
            ),
        ),
        PersonalTable("user_services", ("user_id",), Erasure.DELETE, retention=with_the_account),
        PersonalTable("user_sessions", ("user_id",), Erasure.DELETE, retention=with_the_account),
        PersonalTable(
            "invitations",
            ("email", "invited_by_id"),
            Erasure.ANONYMISE,
            retention=with_the_account,
            reason=_l(
                "Les invitations non acceptées envoyées à l'adresse sont supprimées ; celles "
                "envoyées par l'agent restent reliées au compte anonymisé (qui a invité qui)."
            ),
        ),
    )


registry.register(
    PersonalData(
        name="accounts", tables=_tables(), export=_accounts_export, erase=_accounts_erase, order=900
    )
)


#: Retention of what the collectivité publishes (processes, debates, meetings).
PUBLIC_ARCHIVE = _l("Archive publique de la démarche.")


def register_staff_publication(
    name: str,
    model: Any,
    *,
    columns: tuple[str, ...],
    reason: Any,
    file_name: str,
    fields: dict[str, Any],
) -> None:
    """Register a table of what agents publish for the collectivité (a process, a debate),
    each row naming its author in ``created_by_id``: the rows are kept, as the public
    archive, when the agent's account goes (the account row is anonymised, so the agent
    becomes anonymous); the agent's export lists theirs, ``fields`` (JSON key: column) in
    ``file_name``."""

    def export(user: Any) -> tuple[str, Any] | None:
        created = db.session.execute(
            sa.select(*fields.values()).where(model.created_by_id == user.id)
        ).all()
        if not created:
            return None
        return file_name, [dict(zip(fields, row, strict=True)) for row in created]

    registry.register(
        PersonalData(
            name=name,
            export=export,
            tables=(
                PersonalTable(
                    model.__tablename__,
                    columns,
                    Erasure.KEEP,
                    retention=PUBLIC_ARCHIVE,
                    reason=reason,
                ),
            ),
        )
    )


def user_rows(model: Any, column: Any, user: User, *order: Any) -> list[Any]:
    """The rows of ``model`` whose ``column`` is ``user``'s id (export helper)."""
    query = sa.select(model).where(column == user.id)
    if order:
        query = query.order_by(*order)
    return list(db.session.scalars(query))


#: Tenant columns that match core.personal_data.PERSONAL_WORDS but hold no one's personal
#: data, each with its reason (tests/participation/test_personal_data_registry.py).
TENANT_NOT_PERSONAL: dict[str, str] = {
    "legal_documents.title": "texte juridique publié par la collectivité",
    "legal_documents.body": "texte juridique publié par la collectivité",
    "neighbourhoods.name": "nom d'un quartier",
    "themes.name": "nom d'un thème",
    "services.name": "nom d'un service de la collectivité",
    "services.email": "adresse fonctionnelle d'un service (voirie@…), pas d'une personne",
    "phases.title": "étape d'une démarche, écrite par la collectivité",
    "phases.description": "étape d'une démarche, écrite par la collectivité",
    "problem_categories.name": "catégorie de signalement définie par la collectivité",
    "problem_categories.description": "catégorie de signalement définie par la collectivité",
    "budgets.title": "budget participatif publié par la collectivité",
    "budgets.description": "budget participatif publié par la collectivité",
    "budget_milestones.title": "étape de réalisation d'un projet, écrite par la collectivité",
    "survey_sections.title": "questionnaire écrit par la collectivité",
    "survey_sections.description": "questionnaire écrit par la collectivité",
    "survey_questions.text": "questionnaire écrit par la collectivité",
    "survey_questions.help_text": "questionnaire écrit par la collectivité",
    "survey_questions.scale_min_label": "questionnaire écrit par la collectivité",
    "survey_questions.scale_max_label": "questionnaire écrit par la collectivité",
    "survey_options.label": "questionnaire écrit par la collectivité",
}
