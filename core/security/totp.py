"""Time-based one-time passwords (RFC 6238) and single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno

RECOVERY_CODE_COUNT = 10
ISSUER = "Pnyx"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no script, no external request)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def verify_code(secret: str, code: str, last_step: int | None) -> int | None:
    """Return the accepted time step, or None. A step already used is refused (no replay)."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6 or not secret:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // totp.interval
    for step in (now_step, now_step - 1, now_step + 1):  # one step of clock drift
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def _digest(code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> tuple[list[str], list[str]]:
    """Plain codes to show once, and their digests to store. Codes carry 50 bits of entropy,
    so a fast hash is enough."""
    plain = []
    for _ in range(count):
        raw = secrets.token_hex(5)
        plain.append(f"{raw[:5]}-{raw[5:]}")
    return plain, [_digest(code) for code in plain]


def consume_recovery_code(stored: list[str], code: str) -> list[str] | None:
    """Return the remaining digests when ``code`` is valid (it is removed), else None."""
    digest = _digest(code or "")
    for candidate in stored:
        if hmac.compare_digest(candidate, digest):
            return [d for d in stored if d != candidate]
    return None
