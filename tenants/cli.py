"""``flask --app wsgi tenants …``: create, list, migrate, status and lifecycle."""

from __future__ import annotations

import json
import sys
import time

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from rq import Worker

from core.db import db
from core.jobs import get_queue, redis_connection
from tenants import invalidate_host_cache, lifecycle, migrate
from tenants.models import InvalidTenantTransition, Tenant, TenantStatus
from tenants.provisioning import enqueue_provisioning, provision_tenant
from tenants.services import TenantError, create_tenant, get_tenant_by_slug
from tenants.signals import first_admin_named

tenants_cli = AppGroup("tenants", help="Manage the collectivités' spaces (tenants).")


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _tenant_dict(t: Tenant) -> dict:
    return {
        "id": t.id,
        "slug": t.slug,
        "name": t.name,
        "kind": t.kind.value,
        "code": t.code,
        "population": t.population,
        "status": t.status.value,
        "schema": t.schema,
        "hosts": [d.host for d in t.domains],
        "primary_host": t.primary_host,
        "migration_state": t.migration_state.value,
    }


@tenants_cli.command("create")
@click.option(
    "--code",
    required=True,
    help="Official code: INSEE (commune), SIREN (EPCI), département code, or region:CODE.",
)
@click.option("--slug", help="Subdomain (default: derived from the name).")
@click.option("--domain", "custom_domain", help="A custom domain, made the primary host.")
@click.option("--wait/--no-wait", default=False, help="Wait until the space is ready.")
@click.option(
    "--admin-email",
    metavar="EMAIL",
    callback=lambda ctx, param, value: _check_email(value),
    help="E-mail the first administrator an invitation once the space is ready.",
)
def create_command(
    code: str, slug: str | None, custom_domain: str | None, wait: bool, admin_email: str | None
) -> None:
    """Create a tenant from its official code and provision it with a job."""
    try:
        tenant = create_tenant(
            code, current_app.config["PLATFORM_DOMAIN"], slug=slug, custom_domain=custom_domain
        )
        enqueue_provisioning(tenant.id)
        if admin_email:
            # participation.staff queues the invitation (tenants.signals).
            first_admin_named.send(
                current_app._get_current_object(), tenant_id=tenant.id, email=admin_email
            )
        db.session.commit()
    except TenantError as exc:
        db.session.rollback()
        _fail(str(exc))
    tenant_id, slug = tenant.id, tenant.slug
    click.echo(
        f"Created {tenant.name} ({tenant.kind.value} {tenant.code}) as '{slug}', "
        f"schema {tenant.schema}, host {tenant.primary_host}."
    )
    if admin_email:
        click.echo(f"The first administrator, {admin_email}, will be invited by e-mail.")
    if wait:
        _wait_until_active(tenant_id)
    click.echo(f"http://{tenant.primary_host}{_port()}/")


def _check_email(value: str | None) -> str | None:
    if value is None:
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise click.BadParameter(f"not a valid e-mail address ({exc})") from exc


def _port() -> str:
    domain = current_app.config["PLATFORM_DOMAIN"]
    return ":" + domain.rsplit(":", 1)[1] if ":" in domain else ""


def _wait_until_active(tenant_id: int, timeout: float = 120.0) -> None:
    queue = get_queue("high")
    if queue.is_async and Worker.count(connection=redis_connection(), queue=queue) == 0:
        click.echo("No worker is running: provisioning in this process.")
        provision_tenant(tenant_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = db.session.scalar(sa.select(Tenant.status).where(Tenant.id == tenant_id))
        db.session.rollback()
        if status == TenantStatus.ACTIVE:
            click.echo("Ready.")
            return
        time.sleep(0.2)
    _fail("The space is not ready yet: check the worker (flask --app wsgi worker).")


@tenants_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_command(as_json: bool) -> None:
    """List tenants."""
    tenants = db.session.scalars(sa.select(Tenant).order_by(Tenant.id)).all()
    rows = [_tenant_dict(t) for t in tenants]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['id']:>5}  {r['slug']:<24} {r['status']:<13} {r['kind']:<11} "
            f"{r['population']:>9}  {r['primary_host']}"
        )
    click.echo(f"{len(rows)} tenant(s)")


@tenants_cli.command("migrate")
@click.option("--jobs", "-j", default=4, show_default=True, help="Parallel schema migrations.")
def migrate_command(jobs: int) -> None:
    """Migrate the public schema, then every tenant schema not at head."""
    started = time.perf_counter()

    def report(result: migrate.SchemaResult) -> None:
        colour = "red" if result.status == "failed" else None
        click.secho(
            f"  {result.schema:<10} {result.slug:<24} {result.status:<9} "
            f"{result.before} -> {result.after} ({result.seconds:.2f}s)"
            + (f"  {result.error}" if result.error else ""),
            fg=colour,
        )

    results = migrate.migrate_all(
        db.engine,
        current_app.config["SQLALCHEMY_DATABASE_URI"],
        jobs=jobs,
        lock_timeout=current_app.config["TENANT_MIGRATION_LOCK_TIMEOUT"],
        on_result=report,
    )
    counts = {s: sum(r.status == s for r in results) for s in ("migrated", "skipped", "failed")}
    click.echo(
        f"public at {migrate.head_revision(migrate.SHARED)}; tenants: "
        f"{counts['migrated']} migrated, {counts['skipped']} already at head, "
        f"{counts['failed']} failed ({time.perf_counter() - started:.2f}s)"
    )
    if counts["failed"]:
        sys.exit(1)


@tenants_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_command(as_json: bool) -> None:
    """Show each schema's revision."""
    statuses = migrate.schema_statuses(db.engine)
    if as_json:
        click.echo(json.dumps(statuses, ensure_ascii=False, indent=2))
        return
    for s in statuses:
        mark = "ok " if s["at_head"] else "OLD"
        extra = f" FAILED: {s['migration_error']}" if s.get("migration_state") == "failed" else ""
        click.echo(
            f"{mark} {s['schema']:<10} {s['tenant'] or '':<24} {s['revision']}"
            f" (head {s['head']}){extra}"
        )


def _change_state(slug: str, action: str) -> None:
    try:
        tenant = get_tenant_by_slug(slug)
        if action == "archive":
            path = lifecycle.archive_tenant(tenant)
            click.echo(f"Exported to {path}")
        elif action == "drop":
            lifecycle.drop_tenant(tenant)
        else:
            getattr(tenant, action)()
        db.session.commit()
    except (TenantError, InvalidTenantTransition) as exc:
        db.session.rollback()
        _fail(str(exc))
    invalidate_host_cache()
    click.echo(f"{slug}: {action} done.")


@tenants_cli.command("suspend")
@click.argument("slug")
def suspend_command(slug: str) -> None:
    """Suspend a tenant: readable, every write refused."""
    _change_state(slug, "suspend")


@tenants_cli.command("activate")
@click.argument("slug")
def activate_command(slug: str) -> None:
    """Reactivate a suspended tenant."""
    _change_state(slug, "activate")


@tenants_cli.command("archive")
@click.argument("slug")
def archive_command(slug: str) -> None:
    """Export the tenant's schema with pg_dump, then mark it archived (its hosts answer 404)."""
    _change_state(slug, "archive")


@tenants_cli.command("drop")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Confirm the irreversible deletion.")
def drop_command(slug: str, yes: bool) -> None:
    """Drop an archived tenant's schema and rows. Irreversible."""
    if not yes:
        _fail("Refusing to drop without --yes.")
    _change_state(slug, "drop")


def init_app(app: Flask) -> None:
    app.cli.add_command(tenants_cli)
