"""SIRET numbers: 14 digits, a Luhn check, and a SIREN that must be the collectivité's.

A SIRET is the SIREN of the legal unit (9 digits) followed by the NIC of the establishment
(5 digits); the whole number satisfies the Luhn formula. La Poste is the known exception:
its establishments (SIREN 356 000 000) outnumber what the Luhn key allows, so INSEE gives
them numbers whose digits add up to a multiple of 5 instead.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

LA_POSTE_SIREN = "356000000"
_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]")


class SiretError(ValueError):
    """A French, user-facing reason why a SIRET is refused."""


def normalise(value: str | None) -> str:
    """Drop the spaces, dots and dashes people type between digit groups."""
    return _SEPARATORS.sub("", value or "")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def checksum_valid(siret: str) -> bool:
    if luhn_valid(siret):
        return True
    return siret.startswith(LA_POSTE_SIREN) and sum(int(c) for c in siret) % 5 == 0


def validate_siret(value: str | None, expected_siren: str | None = None) -> str:
    """Return the normalised SIRET, or raise :class:`SiretError` with a French message.

    ``expected_siren`` is the collectivité's SIREN: the buyer on the invoice must be it.
    """
    siret = normalise(value)
    if not siret:
        raise SiretError(_("Indiquez le numéro SIRET de la collectivité (14 chiffres)."))
    if not (siret.isascii() and siret.isdigit()):
        raise SiretError(_("Un numéro SIRET ne contient que des chiffres (14 chiffres)."))
    if len(siret) != 14:
        raise SiretError(
            _(
                "Un numéro SIRET compte exactement 14 chiffres (vous en avez saisi %(n)d).",
                n=len(siret),
            )
        )
    if not checksum_valid(siret):
        raise SiretError(
            _(
                "Ce numéro SIRET n'est pas valide (sa clé de contrôle ne correspond pas) : "
                "vérifiez qu'aucun chiffre n'a été inversé ou oublié."
            )
        )
    if expected_siren and siret[:9] != expected_siren:
        raise SiretError(
            _(
                "Ce SIRET n'appartient pas à la collectivité : ses 9 premiers chiffres "
                "(%(given)s) devraient être son SIREN, %(siren)s.",
                given=siret[:9],
                siren=expected_siren,
            )
        )
    return siret


def complete_siret(siren: str, nic_prefix: str = "0001") -> str:
    """A valid SIRET for ``siren`` whose NIC starts with ``nic_prefix`` (demo and tests)."""
    for last in range(10):
        candidate = f"{siren}{nic_prefix}{last}"
        if luhn_valid(candidate):
            return candidate
    raise ValueError(f"no Luhn key for {siren}{nic_prefix}")  # pragma: no cover - cannot happen
