"""The collectivité's proposal settings: the label of each status and how long an author
may still edit a proposal after submitting it. Both are read once per request (in one
query, kept per process and tenant by tenants.cache) and changed from the staff settings
page, audited."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_app_context
from flask_babel import gettext as _

from core.audit import audit
from core.db import db
from participation.accounts.models import User
from participation.proposals.models import DEFAULT_STATUS_LABELS, ProposalStatus
from participation.proposals.services.common import ProposalError
from tenants import cache as tenant_values
from tenants.context import current_tenant
from tenants.models import TenantSetting

# Read on every proposal page, cached per process and tenant (tenants.cache).
tenant_values.watch(TenantSetting)

EDIT_WINDOW_SETTING = "proposal_edit_window_minutes"
DEFAULT_EDIT_WINDOW_MINUTES = 60
MAX_EDIT_WINDOW_MINUTES = 60 * 24 * 30
STATUS_LABELS_SETTING = "proposal_status_labels"
STATUS_LABEL_MAX_LENGTH = 40


def _request_cache() -> dict:
    """Values read once per request (or app context), keyed by tenant."""
    if not has_app_context():
        return {}
    tenant = current_tenant()
    cache = g.setdefault("pnyx_proposals_cache", {})
    return cache.setdefault(tenant.id if tenant else None, {})


def _settings() -> dict:
    """Both proposal settings, read in one query once per request."""
    cache = _request_cache()
    if "settings" not in cache:
        cache["settings"] = tenant_values.cached("proposal_settings", _load_settings)
    return cache["settings"]


def _load_settings() -> dict:
    rows = db.session.execute(
        sa.select(TenantSetting.key, TenantSetting.value).where(
            TenantSetting.key.in_((STATUS_LABELS_SETTING, EDIT_WINDOW_SETTING))
        )
    ).all()
    return {row.key: row.value for row in rows}


def status_labels() -> dict[ProposalStatus, str]:
    """The labels the collectivité chose for each status (defaults where it chose none)."""
    stored = _settings().get(STATUS_LABELS_SETTING)
    # Plain strings in the current language (JSON for the audit log, CSV, the API).
    labels = {status: str(label) for status, label in DEFAULT_STATUS_LABELS.items()}
    if isinstance(stored, dict):
        for status in ProposalStatus:
            value = stored.get(status.value)
            if isinstance(value, str) and value.strip():
                labels[status] = value.strip()[:STATUS_LABEL_MAX_LENGTH]
    return labels


def status_label(status: ProposalStatus | str | None) -> str:
    if status is None:
        return ""
    try:
        return status_labels()[ProposalStatus(status)]
    except ValueError:
        return str(status)


def edit_window_minutes() -> int:
    value = _settings().get(EDIT_WINDOW_SETTING)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        value = DEFAULT_EDIT_WINDOW_MINUTES
    return min(value, MAX_EDIT_WINDOW_MINUTES)


def forget_settings() -> None:
    _request_cache().pop("settings", None)


def update_proposal_settings(
    labels: dict[ProposalStatus | str, str], edit_window: int, actor: User
) -> dict:
    """Save the status labels and the edit window; return what changed (audited)."""
    clean: dict[str, str] = {}
    for status in ProposalStatus:
        label = " ".join((labels.get(status) or labels.get(status.value) or "").split())
        if not label:
            raise ProposalError(_("Indiquez un libellé pour chaque statut."), status.value)
        if len(label) > STATUS_LABEL_MAX_LENGTH:
            raise ProposalError(
                _("Un libellé ne peut pas dépasser %(n)d caractères.", n=STATUS_LABEL_MAX_LENGTH),
                status.value,
            )
        clean[status.value] = label
    if len({label.casefold() for label in clean.values()}) < len(clean):
        raise ProposalError(_("Deux statuts ne peuvent pas porter le même libellé."))
    if isinstance(edit_window, bool) or not 0 <= int(edit_window) <= MAX_EDIT_WINDOW_MINUTES:
        raise ProposalError(
            _("Indiquez un délai entre 0 et %(n)d minutes.", n=MAX_EDIT_WINDOW_MINUTES),
            "edit_window",
        )
    current_labels = {s.value: label for s, label in status_labels().items()}
    wanted = {STATUS_LABELS_SETTING: clean, EDIT_WINDOW_SETTING: int(edit_window)}
    current = {STATUS_LABELS_SETTING: current_labels, EDIT_WINDOW_SETTING: edit_window_minutes()}
    changed = {key: (current[key], value) for key, value in wanted.items() if current[key] != value}
    for key, (_before, value) in changed.items():
        row = db.session.get(TenantSetting, key)
        if row is None:
            db.session.add(TenantSetting(key=key, value=value))
        else:
            row.value = value
    if changed:
        db.session.flush()
        audit(
            "proposals.settings_updated",
            actor,
            "settings",
            "proposals",
            keys=sorted(changed),
            changes={k: {"before": b, "after": a} for k, (b, a) in changed.items()},
        )
    forget_settings()
    return changed
