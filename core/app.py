"""The application factory."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from flask import Flask
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from core import charts, i18n, markdown, navigation
from core import config as config_module
from core.db import NO_TENANT_SCHEMA, TENANT_SCHEMA_PLACEHOLDER, ping_connections_idle_for
from core.extensions import csrf, db
from core.routing import PnyxFlask
from core.security import auth, body_limits, headers, limits
from core.security.sessions import SiteSessionInterface

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_overrides: dict | None = None) -> Flask:
    app = PnyxFlask(
        "pnyx",
        root_path=str(ROOT),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "core" / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(config_module.load_from_environment())
    app.config.update(config_overrides or {})
    config_module.check_production_safety(app.config)
    if app.config["PNYX_ENV"] == "production":
        # Whatever the overrides say: production cookies only travel over HTTPS.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    # Even a Core statement on the raw engine must never resolve a tenant table to a real
    # schema: the placeholder points to one that does not exist until a tenant is bound.
    engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    engine_options.setdefault("execution_options", {}).setdefault(
        "schema_translate_map", {TENANT_SCHEMA_PLACEHOLDER: NO_TENANT_SCHEMA}
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    app.url_map.platform_host = app.config["PLATFORM_DOMAIN"]

    if app.config["TRUSTED_PROXY_COUNT"] > 0:
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)

    db.init_app(app)
    with app.app_context():
        ping_connections_idle_for(db.engine, app.config["DATABASE_POOL_PING_IDLE_SECONDS"])
    i18n.init_app(app)
    # First: the site and tenant must be known (and a suspended tenant's writes refused)
    # before any other before_request hook, CSRF included, runs.
    _install(app, config_module.TENANCY_PACKAGE)
    # Before CSRF, which reads the form: upload views raise their body limit first.
    body_limits.init_app(app)
    csrf.init_app(app)
    app.session_interface = SiteSessionInterface()
    auth.init_app(app)
    limits.init_app(app)
    headers.init_app(app)
    markdown.init_app(app)
    charts.init_app(app)
    app.jinja_env.globals["get_locale"] = get_locale
    # The menus: the features add their links from their init_app (core/navigation.py).
    navigation.init_app(app)

    from core import cli, errors, health

    errors.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    # The packages that add pages, platform or tenant side.
    for name in config_module.FEATURE_PACKAGES:
        _install(app, name)
    # Last: its lookup runs after every other before_request hook, its store first of the
    # after_request hooks.
    _install(app, config_module.PAGE_CACHE_MODULE)
    return app


def _install(app: Flask, name: str) -> None:
    """Install the package (or module) ``name``, listed in core/config.py: its ``init_app``
    registers its pages, hooks, commands and registry entries. Imported by name, so that
    the core depends on none of the packages above it."""
    importlib.import_module(name).init_app(app)
