"""Log-in plumbing shared by the two account realms (tenant accounts, platform accounts).

A user id in the session names its realm and, for tenant accounts, the tenant:
``t<tenant_id>:<user_id>:<session_version>`` or ``p:<user_id>:<session_version>``. The
loader refuses an id from another realm or tenant, and bumping ``session_version`` (new
password, deleted account, removed staff) ends every session of that user at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user

login_manager = LoginManager()
login_manager.login_message = _l("Merci de vous connecter pour accéder à cette page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"

TWO_FACTOR_KEY = "pnyx_2fa"


@dataclass(frozen=True)
class Realm:
    name: str  # "tenant" or "platform"
    load: Callable[[int], object | None]  # user id -> user (in the current site)
    login_view: str
    two_factor_view: str  # asks for the code of an enrolled user
    enrol_view: str  # first-time TOTP enrolment


_realms: dict[str, Realm] = {}


def register_realm(realm: Realm) -> None:
    _realms[realm.name] = realm


def current_realm() -> Realm | None:
    site = g.get("site")
    if site is None:
        return None
    return _realms.get("tenant" if site.kind == "tenant" else "platform")


def session_id_prefix() -> str:
    site = g.get("site")
    if site is not None and site.kind == "tenant":
        return f"t{site.tenant.id}"
    return "p"


def make_user_id(user_id: int, session_version: int) -> str:
    return f"{session_id_prefix()}:{user_id}:{session_version}"


@login_manager.user_loader
def _load_user(value: str):
    realm = current_realm()
    try:
        prefix, user_id, version = value.split(":")
        user_id, version = int(user_id), int(version)
    except (ValueError, AttributeError):
        return None
    if realm is None or prefix != session_id_prefix():
        return None
    user = realm.load(user_id)
    if user is None or getattr(user, "session_version", 0) != version:
        return None
    if not getattr(user, "is_active", True):
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    realm = current_realm()
    if request.path.startswith("/api/") or realm is None:
        from core.errors import render_error

        return render_error(401, str(login_manager.login_message))
    from flask import flash

    flash(str(login_manager.login_message), "info")
    return redirect(url_for(realm.login_view, next=request.full_path.rstrip("?")))


def _kept_language() -> str | None:
    from core.i18n import SESSION_KEY

    return session.get(SESSION_KEY)


def _restore_language(language: str | None) -> None:
    from core.i18n import SESSION_KEY

    if language:
        session[SESSION_KEY] = language


def start_session(user, *, two_factor_verified: bool, remember: bool = False) -> None:
    """Log ``user`` in on a fresh session (only the chosen language survives)."""
    language = _kept_language()
    session.clear()
    _restore_language(language)
    login_user(user, remember=remember)
    session[TWO_FACTOR_KEY] = bool(two_factor_verified)
    session.permanent = True


def end_session() -> None:
    language = _kept_language()
    logout_user()
    session.clear()
    _restore_language(language)


def mark_two_factor_verified() -> None:
    session[TWO_FACTOR_KEY] = True


def two_factor_verified() -> bool:
    return bool(session.get(TWO_FACTOR_KEY))


def two_factor_required(view: Callable) -> Callable:
    """Staff and platform pages: logged in, TOTP enrolled, and the code given this session."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        realm = current_realm()
        if not getattr(current_user, "totp_enabled", False):
            return redirect(url_for(realm.enrol_view, next=request.full_path.rstrip("?")))
        if not two_factor_verified():
            return redirect(url_for(realm.two_factor_view, next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after a form; never another host (open redirect)."""
    from core.i18n import safe_next_path

    return safe_next_path(target, default)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE"))
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", 60 * 60 * 24 * 14)
