"""Log-in plumbing shared by the two account realms (tenant accounts, platform accounts).

A user id in the session names its realm and, for tenant accounts, the tenant:
``t<tenant_id>:<user_id>:<session_version>`` or ``p:<user_id>:<session_version>``. The
loader refuses an id from another realm or tenant, and bumping ``session_version`` (new
password, deleted account, removed staff) ends every session of that user at once.

Sessions also end on the server: every log-in writes a *session record* (tenant table
``user_sessions``, public ``platform_user_sessions``) holding the SHA-256 digest of a random
token that only the cookie carries (``pnyx_sid``). The loader finds the user through that
record in the same single query, so a signed cookie is only worth something while its
record exists: log-out deletes it (a copied cookie replayed afterwards is anonymous), and
``end_all_sessions`` (new password, 2FA reset, blocking, deletion) deletes them all. A
record lives ``PERMANENT_SESSION_LIFETIME`` from its log-in, whatever the cookie says.
Flask-Login's remember-me cookie cannot bring a session back: it carries no token.

``start_session`` and ``end_session`` commit the record themselves: a log-in whose record
is not durable would sign the user out at the next page, and a log-out must not depend on
a later commit by the view.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user

from core import clock
from core.db import db
from core.security.redirects import safe_next_path

login_manager = LoginManager()
login_manager.login_message = _l("Merci de vous connecter pour accéder à cette page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"

TWO_FACTOR_KEY = "pnyx_2fa"
#: The session key holding the random token of the log-in's session record.
SESSION_RECORD_KEY = "pnyx_sid"


@dataclass(frozen=True)
class Realm:
    name: str  # "tenant" or "platform"
    load: Callable[[int], object | None]  # user id -> user (in the current site)
    login_view: str
    two_factor_view: str  # asks for the code of an enrolled user
    enrol_view: str  # first-time TOTP enrolment
    user_model: type | None = None  # the account model (``id``, ``session_version``)
    session_model: type | None = None  # its session records (``user_id``, ``token_digest``,
    # ``expires_at``); a realm without one logs nobody in


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


# --------------------------------------------------------------------------- session records


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_lifetime() -> timedelta:
    lifetime = current_app.permanent_session_lifetime
    return lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=int(lifetime))


def open_session_record(realm: Realm, user_id: int) -> str:
    """Add (flush, no commit) the session record of a new log-in of ``user_id``; returns
    the token its cookie must carry. The user's expired records go at the same time, so
    the table holds no more than one lifetime of log-ins per account."""
    model = realm.session_model
    now = clock.utcnow()
    db.session.execute(sa.delete(model).where(model.user_id == user_id, model.expires_at <= now))
    token = secrets.token_urlsafe(32)
    db.session.add(
        model(
            user_id=user_id, token_digest=token_digest(token), expires_at=now + session_lifetime()
        )
    )
    db.session.flush()
    return token


def delete_session_records(model: type, user_id: int, keep: str | None = None) -> None:
    """Delete every session record of ``user_id`` (flush-time statement, no commit), except
    the one whose digest is ``keep``."""
    if user_id is None:
        return
    stmt = sa.delete(model).where(model.user_id == user_id)
    if keep:
        stmt = stmt.where(model.token_digest != keep)
    db.session.execute(stmt)


def current_session_digest() -> str | None:
    """The digest of this browser's session record (to spare it in ``end_all_sessions``)."""
    token = session.get(SESSION_RECORD_KEY)
    return token_digest(token) if isinstance(token, str) and token else None


def purge_expired_session_records(model: type) -> int:
    """Delete the expired records of ``model`` in the current schema (a sweep; no commit)."""
    result = db.session.execute(sa.delete(model).where(model.expires_at <= sa.func.now()))
    return result.rowcount or 0


def _load_through_record(realm: Realm, user_id: int):
    token = session.get(SESSION_RECORD_KEY)
    if realm.user_model is None or realm.session_model is None:
        return None
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    users, records = realm.user_model, realm.session_model
    # One statement, as before the records existed (the user was read by primary key).
    return db.session.scalar(
        sa.select(users)
        .join(records, records.user_id == users.id)
        .where(
            users.id == user_id,
            records.token_digest == token_digest(token),
            records.expires_at > sa.func.now(),
        )
    )


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
    if not (0 < user_id < 2**31):
        return None
    user = _load_through_record(realm, user_id)
    if user is None or getattr(user, "session_version", 0) != version:
        return None
    if not getattr(user, "is_active", True):
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    realm = current_realm()
    if request.path.startswith("/api/") or realm is None:
        # The error page (or JSON) of core.errors, whose 401 text is the login message.
        abort(401)
    from flask import flash

    flash(str(login_manager.login_message), "info")
    return redirect(url_for(realm.login_view, next=request.full_path.rstrip("?")))


#: Session values that survive the log-in and the log-out, which clear the rest of the
#: session; their owners register them (core.i18n: the language chosen by hand).
_KEPT_SESSION_KEYS: set[str] = set()


def keep_across_logins(key: str) -> None:
    """The session value ``key`` survives the log-in and the log-out (idempotent)."""
    _KEPT_SESSION_KEYS.add(key)


def _kept_values() -> dict:
    return {key: session[key] for key in _KEPT_SESSION_KEYS if session.get(key)}


def _restore(values: dict) -> None:
    for key, value in values.items():
        session[key] = value


def _close_current_record() -> None:
    """Delete this browser's session record, if any (no commit)."""
    realm = current_realm()
    digest = current_session_digest()
    if realm is None or realm.session_model is None or digest is None:
        return
    model = realm.session_model
    db.session.execute(sa.delete(model).where(model.token_digest == digest))


def start_session(user, *, two_factor_verified: bool, remember: bool = False) -> None:
    """Log ``user`` in on a fresh session (only the chosen language survives), with a new
    session record, committed here (with whatever the view had pending)."""
    realm = current_realm()
    if realm is None or realm.session_model is None:
        raise RuntimeError("no account realm with session records on this site")
    kept = _kept_values()
    _close_current_record()  # a log-in over another one: the old record goes
    session.clear()
    _restore(kept)
    token = open_session_record(realm, user.id)
    db.session.commit()
    login_user(user, remember=remember)
    session[SESSION_RECORD_KEY] = token
    session[TWO_FACTOR_KEY] = bool(two_factor_verified)
    session.permanent = True


def end_session() -> None:
    """Log out: the session record is deleted and committed at once, so the cookie (and
    any copy of it) no longer signs anyone in; only the chosen language survives."""
    kept = _kept_values()
    _close_current_record()
    db.session.commit()
    logout_user()
    session.clear()
    _restore(kept)


def refresh_login(user) -> None:
    """After ``user.end_all_sessions(keep=current_session_digest())`` (a password changed by
    its owner): this browser's cookie carries the new session version and stays signed in."""
    session["_user_id"] = user.get_id()


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
    return safe_next_path(target, default)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE"))
    # PERMANENT_SESSION_LIFETIME comes from core.config (SESSION_LIFETIME_DAYS): a setdefault
    # here never applied, Flask's own default (31 days) being already in the config. A
    # remember-me cookie (unused) would not outlive it either: it carries no session token.
    app.config["REMEMBER_COOKIE_DURATION"] = app.permanent_session_lifetime


def issue_session_token(realm_name: str, user_id: int) -> str:
    """Commit a session record for ``user_id`` and return its token, for the tests and
    benchmarks that sign cookies themselves (``SESSION_RECORD_KEY`` beside ``_user_id``).
    A tenant account needs its tenant entered (``tenants.context.tenant_context``)."""
    token = open_session_record(_realms[realm_name], user_id)
    db.session.commit()
    return token


def issue_session_tokens(realm_name: str, user_ids: list[int]) -> dict[int, str]:
    """:func:`issue_session_token` for many accounts at once (one INSERT, one commit): the
    benchmarks sign in thousands of simulated users."""
    model = _realms[realm_name].session_model
    expires_at = clock.utcnow() + session_lifetime()
    tokens = {user_id: secrets.token_urlsafe(32) for user_id in user_ids}
    if tokens:
        db.session.execute(
            sa.insert(model),
            [
                {"user_id": user_id, "token_digest": token_digest(token), "expires_at": expires_at}
                for user_id, token in tokens.items()
            ],
        )
    db.session.commit()
    return tokens
