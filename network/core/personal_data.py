"""Network roles (coordination) in the platform registry: deleted with the account."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.personal_data import Erasure, PersonalData, PersonalTable, platform_registry, rows_of
from network.core.models import NetworkRole


def _export(user):
    rows = rows_of("network_roles", ("platform_user_id",), ("network_id", "role"))(user)
    return ("roles_reseaux.json", rows) if rows else None


def _erase(user):
    db.session.execute(sa.delete(NetworkRole).where(NetworkRole.platform_user_id == user.id))


platform_registry.register(
    PersonalData(
        name="network_roles",
        export=_export,
        erase=_erase,
        tables=(
            PersonalTable(
                "network_roles",
                ("platform_user_id",),
                Erasure.DELETE,
                retention=_l("Tant que la personne coordonne le réseau."),
            ),
        ),
    )
)
