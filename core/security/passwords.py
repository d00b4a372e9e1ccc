"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 12  # CNIL's recommendation for a password used alone
MAX_LENGTH = 256  # hashing cost must not be a denial-of-service lever
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable", common passwords score 0–2

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Same work as a real check, so timing does not reveal that the account is absent.
        _safe_dummy(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _safe_dummy(password: str) -> None:
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_DUMMY_HASH, password)


_DUMMY_HASH = _hasher.hash("pnyx-dummy-password-for-timing")


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, user_inputs: list[str] | None = None) -> list[str]:
    """French reasons why ``password`` is refused (empty list: accepted)."""
    if len(password) < MIN_LENGTH:
        return [_("Le mot de passe doit contenir au moins %(n)d caractères.", n=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Le mot de passe ne peut pas dépasser %(n)d caractères.", n=MAX_LENGTH)]
    result = zxcvbn(password[:100], user_inputs=[u for u in (user_inputs or []) if u])
    if result["score"] < MIN_SCORE:
        return [
            _(
                "Ce mot de passe est trop courant ou trop facile à deviner. Essayez une phrase "
                "de plusieurs mots sans lien entre eux."
            )
        ]
    return []
