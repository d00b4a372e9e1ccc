"""``flask --app wsgi platform …``: create and list platform accounts."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from core.db import db
from core.security.passwords import password_problems
from tenants.platform.models import ROLE_VALUES, PlatformUser
from tenants.platform.services import PlatformAccountError, create_platform_user
from tenants.services import TenantError, get_tenant_by_slug

platform_cli = AppGroup(
    "platform", help="Platform accounts: operators, network coordinators and members."
)


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@platform_cli.command("create-user")
@click.option("--email", required=True, help="Log-in e-mail (stored in lower case).")
@click.option("--name", "display_name", required=True, help="Name shown in the interface.")
@click.option("--role", type=click.Choice(ROLE_VALUES), required=True)
@click.option("--tenant", "tenant_slug", help="The member's collectivité (its slug).")
@click.option(
    "--password",
    help="Initial password; asked for (hidden) when omitted, which keeps it out of the "
    "shell history.",
)
def create_user_command(
    email: str, display_name: str, role: str, tenant_slug: str | None, password: str | None
) -> None:
    """Create a platform account; TOTP enrolment happens at its first log-in."""
    if password is None:
        password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    problems = password_problems(password, [email, email.partition("@")[0], display_name])
    if problems:
        _fail(" ".join(problems))
    tenant_id = None
    if tenant_slug:
        try:
            tenant_id = get_tenant_by_slug(tenant_slug.strip().lower()).id
        except TenantError as exc:
            _fail(str(exc))
    try:
        user = create_platform_user(email, display_name, role, password, tenant_id)
        db.session.commit()
    except PlatformAccountError as exc:
        db.session.rollback()
        _fail(str(exc))
    click.echo(
        f"Created {user.role.value} {user.email} (id {user.id}). Two-factor enrolment is "
        "asked at the first log-in on the platform (/connexion)."
    )


@platform_cli.command("list-users")
def list_users_command() -> None:
    """List the platform accounts."""
    users = db.session.scalars(sa.select(PlatformUser).order_by(PlatformUser.id)).all()
    if not users:
        click.echo("No platform account yet (flask platform create-user).")
        return
    for user in users:
        flags = [
            "2FA" if user.totp_enabled else "no 2FA yet",
            "active" if user.is_active else "inactive",
        ]
        tenant = f" tenant={user.tenant.slug}" if user.tenant else ""
        last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "never"
        click.echo(
            f"{user.id:>4}  {user.email:<40} {user.role.value:<12}{tenant}  "
            f"{user.display_name}  [{', '.join(flags)}; last log-in: {last}]"
        )


def _user_by_email(email: str) -> PlatformUser:
    from tenants.platform.services import get_platform_user_by_email

    user = get_platform_user_by_email(email)
    if user is None:
        _fail(f"No platform account with the e-mail {email!r}.")
    return user


@platform_cli.command("reset-2fa")
@click.option("--email", required=True, help="The account whose phone was lost.")
def reset_two_factor_command(email: str) -> None:
    """Forget an account's TOTP secret and recovery codes; its sessions end at once and it
    enrols again at its next log-in."""
    from tenants.platform.services import reset_two_factor

    user = _user_by_email(email)
    reset_two_factor(user, source="cli")
    db.session.commit()
    click.echo(f"Two-factor authentication reset for {user.email}; every session ended.")


@platform_cli.command("deactivate-user")
@click.option("--email", required=True)
def deactivate_user_command(email: str) -> None:
    """Block an account: log-in refused and every session ended at once."""
    from tenants.platform.services import set_platform_user_active

    user = _user_by_email(email)
    set_platform_user_active(user, False, source="cli")
    db.session.commit()
    click.echo(f"{user.email} is deactivated; every session ended.")


@platform_cli.command("reactivate-user")
@click.option("--email", required=True)
def reactivate_user_command(email: str) -> None:
    """Let a deactivated account log in again."""
    from tenants.platform.services import set_platform_user_active

    user = _user_by_email(email)
    set_platform_user_active(user, True, source="cli")
    db.session.commit()
    click.echo(f"{user.email} can log in again.")
