"""Fair benchmarks: per-tenant snapshots, consent, peers, open data.

Platform pages (``network_benchmarks``): ``/reseaux/<slug>/indicateurs`` (comparison with
peers), ``.../territoires/<id>`` (a territory's months), ``/reseaux/indicateurs/definitions``,
open data ``/reseaux/<slug>/indicateurs.csv`` / ``.json`` / ``<metric>.svg``. Tenant page
(``staff_network_sharing``): ``/gestion/reseaux/partage``, the admin's consent per network.
Jobs: network/benchmarks/tasks.py (per tenant), cron.py (nightly fan-out), and
``flask network refresh-metrics [--tenant ID]``.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.audit import register_audit_labels
from core.routing import TENANT_SITE

AUDIT_ACTION_LABELS = {
    "network.metrics_sharing_updated": _l("Indicateurs partagés avec un réseau modifiés"),
}


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, Jinja globals and demo seeder."""
    if "network_benchmarks.index" in app.view_functions:
        return
    from network.benchmarks import demo  # noqa: F401 - registers the demo seeder
    from network.benchmarks.sharing import staff_bp
    from network.benchmarks.tasks import network_metrics_cli
    from network.benchmarks.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp, subdomain=TENANT_SITE)
    existing = app.cli.commands.get("network")
    if existing is None:
        app.cli.add_command(network_metrics_cli)
    else:
        for name, command in network_metrics_cli.commands.items():
            existing.add_command(command, name)
    register_audit_labels(AUDIT_ACTION_LABELS)
