"""``flask tenants …`` end to end against the test database."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import sqlalchemy as sa

from core.db import db
from tenants import official
from tenants.context import load_tenant_ref
from tenants.migrate import read_revision


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=["tenants", *args])


def _free_commune(app) -> official.Collectivite:
    with app.app_context():
        used = set(db.session.scalars(sa.text("SELECT code FROM public.tenants")))
    return next(
        c for c in official.search("ville", limit=200) if c.kind == "commune" and c.code not in used
    )


def test_create_list_suspend_activate_archive_drop(app):
    commune = _free_commune(app)
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    result = _invoke(app, "create", "--code", commune.code, "--slug", slug, "--wait")
    assert result.exit_code == 0, result.output
    assert "Ready." in result.output and f"{slug}.pnyx.test" in result.output

    listed = {t["slug"]: t for t in json.loads(_invoke(app, "list", "--json").output)}
    tenant = listed[slug]
    assert tenant["status"] == "active" and tenant["name"] == commune.name
    assert tenant["code"] == commune.code and tenant["population"] == commune.population
    assert tenant["schema"] == f"t_{tenant['id']}"

    assert _invoke(app, "suspend", slug).exit_code == 0
    with app.app_context():
        assert load_tenant_ref(tenant["id"]).status == "suspended"
    assert _invoke(app, "activate", slug).exit_code == 0

    refused = _invoke(app, "drop", slug, "--yes")
    assert refused.exit_code == 1 and "archivée" in refused.output
    assert _invoke(app, "drop", slug).exit_code == 1  # no --yes

    archived = _invoke(app, "archive", slug)
    assert archived.exit_code == 0, archived.output
    export = Path(archived.output.split("Exported to ", 1)[1].split()[0])
    dump = export.read_text()
    assert (
        f'CREATE TABLE "{tenant["schema"]}".settings' in dump
        or f"CREATE TABLE {tenant['schema']}.settings" in dump
    )
    assert "public.tenants" not in dump  # only this tenant's schema
    assert _invoke(app, "activate", slug).exit_code == 1  # archived is final

    assert _invoke(app, "drop", slug, "--yes").exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        assert read_revision(conn, tenant["schema"]) is None
        assert (
            conn.scalar(sa.text("SELECT count(*) FROM public.tenants WHERE slug=:s"), {"s": slug})
            == 0
        )


def test_create_refuses_unknown_code_in_french(app):
    result = _invoke(app, "create", "--code", "99999")
    assert result.exit_code == 1
    assert "Aucune collectivité ne correspond" in result.output


def test_create_refuses_duplicates_and_reserved_slugs(app, tenant_a):
    duplicate = _invoke(app, "create", "--code", tenant_a.code)
    assert duplicate.exit_code == 1 and "dispose déjà d'un espace" in duplicate.output
    commune = _free_commune(app)
    for slug, message in (
        ("www", "réservée"),
        ("Bad_Slug", "lettres minuscules"),
        (tenant_a.slug, "déjà utilisée"),
    ):
        result = _invoke(app, "create", "--code", commune.code, "--slug", slug)
        assert result.exit_code == 1 and message in result.output, result.output


def test_create_fills_official_data(app):
    result = _invoke(
        app,
        "create",
        "--code",
        "region:44",
        "--slug",
        f"grand-est-{uuid.uuid4().hex[:6]}",
        "--wait",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(_invoke(app, "list", "--json").output)
    region = next(t for t in rows if t["kind"] == "region" and t["code"] == "44")
    assert region["name"] == "Grand Est" and region["population"] > 5_000_000
