"""The app as wsgi.py builds it, plus one route that says what the app saw of the request:
the topology test (gunicorn behind nginx) checks the client address, host and scheme."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request

from core import create_app
from core.extensions import csrf
from core.routing import TENANT_SITE

PROBE_PATH = "/_topology/probe"


def _probe():
    received = len(request.get_data()) if request.method == "POST" else 0
    response = jsonify(
        remote_addr=request.remote_addr,
        host=request.host,
        scheme=request.scheme,
        received=received,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def create_probe_app() -> Flask:
    app = create_app()
    # Above nginx's limit on purpose: what the probe measures is what nginx lets through.
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    for name, subdomain in (("topology_probe", None), ("topology_probe_tenant", TENANT_SITE)):
        bp = Blueprint(name, __name__)
        bp.add_url_rule(PROBE_PATH, "probe", csrf.exempt(_probe), methods=["GET", "POST"])
        app.register_blueprint(bp, subdomain=subdomain)
    return app
