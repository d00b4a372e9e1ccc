"""Processes name the agent who created them (registered in the tenant registry)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from participation.accounts.personal_data import register_staff_publication
from participation.processes.models import Process

register_staff_publication(
    "processes",
    Process,
    columns=("created_by_id", "title", "summary", "description"),
    reason=_l("Démarche publiée par la collectivité ; l'agent devient anonyme."),
    file_name="demarches_creees.json",
    fields={"id": Process.id, "titre": Process.title, "creee_le": Process.created_at},
)
