"""Tests for tenants.official and the script that builds its data (no database needed)."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tenants import official
from tenants.official import Collectivite, UnknownCollectivite, lookup, search, suggest_slug

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "scripts" / "build_official_data.py"
# shared/ sits beside the repository (CI clones it there); /work/shared on developer machines.
SOURCE_DIR = next(
    (
        p
        for p in (ROOT.parent / "shared/data/fr-admin", Path("/work/shared/data/fr-admin"))
        if p.is_dir()
    ),
    ROOT.parent / "shared/data/fr-admin",
)
SHIPPED = ROOT / "tenants" / "data" / "collectivites.csv.gz"


# --- lookup -------------------------------------------------------------------------


def test_mulhouse_by_insee_code() -> None:
    c = lookup("68224")
    assert c == Collectivite(
        kind="commune",
        code="68224",
        name="Mulhouse",
        siren="216802249",
        population=104978,
        departement="68",
        region="44",
        postal_codes=("68100", "68200"),
        epci_type=None,
    )
    assert c.label == "Mulhouse (68) — commune, 104\u202f978 hab."


def test_commune_by_siren_and_explicit_kind() -> None:
    assert lookup("216802249").code == "68224"
    assert lookup(" 216 802 249 ").code == "68224"  # SIREN as often typed
    assert lookup("commune:68224").name == "Mulhouse"
    assert lookup("68224", kind="commune").name == "Mulhouse"


def test_saillans_and_angers() -> None:
    # Saillans (Drôme) is 26289; 26333 is Saint-Vallier, in the same département.
    saillans = lookup("26289")
    assert (saillans.name, saillans.departement, saillans.region) == ("Saillans", "26", "84")
    assert lookup("26333").name == "Saint-Vallier"

    angers = lookup("49007")
    assert (angers.name, angers.departement, angers.region) == ("Angers", "49", "52")
    assert angers.siren == "214900078"
    assert angers.population == 159022
    assert angers.postal_codes == ("49000", "49100")


def test_epci_by_siren() -> None:
    epci = lookup("200066009")
    assert epci.kind == "epci"
    assert epci.name == "CA Mulhouse Alsace Agglomération"
    assert epci.siren == "200066009"
    assert epci.epci_type == "CA"
    assert epci.departement == "68"  # from its most populous member, Mulhouse
    assert epci.population > lookup("68224").population
    assert epci.label.startswith("CA Mulhouse Alsace Agglomération (68) — communauté d'agglo")
    assert lookup("epci:200066009") == epci
    assert lookup("200066009", kind="epci") == epci


def test_departement() -> None:
    haut_rhin = lookup("68")
    assert (haut_rhin.kind, haut_rhin.name, haut_rhin.region) == ("departement", "Haut-Rhin", "44")
    # The source has no population for départements: the sum of its communes is used.
    assert haut_rhin.population == 770738
    assert haut_rhin.label == "Haut-Rhin (68) — département, 770\u202f738 hab."
    assert lookup("971").name == "Guadeloupe"


def test_region_needs_kind_or_prefix() -> None:
    # "84" is both a département (Vaucluse) and a région (Auvergne-Rhône-Alpes).
    assert lookup("84").name == "Vaucluse"
    assert lookup("departement:84").name == "Vaucluse"
    ara = lookup("84", kind="region")
    assert (ara.kind, ara.name) == ("region", "Auvergne-Rhône-Alpes")
    assert lookup("region:84") == ara
    assert lookup("Région:84") == ara  # accents and case tolerated in the kind
    grand_est = lookup("44", kind="region")
    assert grand_est.name == "Grand Est"
    assert grand_est.population == 5563378
    assert grand_est.label == "Grand Est — région, 5\u202f563\u202f378 hab."


def test_corsica_codes_are_normalised() -> None:
    ajaccio = lookup(" 2a004 ")
    assert (ajaccio.code, ajaccio.name, ajaccio.departement) == ("2A004", "Ajaccio", "2A")
    assert lookup("2b").name == "Haute-Corse"


@pytest.mark.parametrize(
    ("code", "kind", "message"),
    [
        ("99999", None, "Aucune collectivité ne correspond au code « 99999 »."),
        ("1", None, "Aucune collectivité ne correspond au code « 1 »."),
        ("123456789", None, "Aucune collectivité ne correspond au code « 123456789 »."),
        ("region:99", None, "Aucune région ne correspond au code « 99 »."),
        ("68", "commune", "Aucune commune ne correspond au code « 68 »."),
        ("216802249", "epci", "Aucune intercommunalité ne correspond au code « 216802249 »."),
        ("00", "departement", "Aucun département ne correspond au code « 00 »."),
    ],
)
def test_unknown_code_has_french_message(code: str, kind: str | None, message: str) -> None:
    with pytest.raises(UnknownCollectivite) as excinfo:
        lookup(code, kind=kind)
    assert str(excinfo.value) == message
    assert isinstance(excinfo.value, LookupError)


@pytest.mark.parametrize(
    ("code", "kind"), [("68", "ville"), ("ville:68", None), ("region:84", "departement")]
)
def test_invalid_kind_is_a_value_error(code: str, kind: str | None) -> None:
    with pytest.raises(ValueError):
        lookup(code, kind=kind)


# --- search -------------------------------------------------------------------------


def names(results: list[Collectivite]) -> list[str]:
    return [c.name for c in results]


@pytest.mark.parametrize("query", ["angers", "Angers", "ANGERS ", "angérs"])
def test_search_by_name_ignores_case_and_accents(query: str) -> None:
    results = search(query)
    assert results[0].code == "49007"
    # Word-prefix matches rank before mere substrings ("Mézangers").
    found = names(results)
    assert found.index("Le Lion-d'Angers") < found.index("Mézangers")


@pytest.mark.parametrize("query", ["saint etienne", "Saint-Étienne", "SAINT ÉTIENNE"])
def test_search_saint_etienne(query: str) -> None:
    results = search(query)
    assert results[0].code == "42218"  # the exact name beats its larger métropole
    assert all(official._words(c.name).startswith("saint etienne") for c in results)


def test_search_prefix_matches_by_population() -> None:
    results = search("saint", limit=20)
    assert len(results) == 20
    assert all(c.name.startswith("Saint") for c in results)
    populations = [c.population for c in results]
    assert populations == sorted(populations, reverse=True)


def test_search_by_postal_code() -> None:
    # 68100 is Mulhouse's postal code, and also the INSEE code of Fulleren.
    assert [(c.name, c.code) for c in search("68100")] == [
        ("Mulhouse", "68224"),
        ("Fulleren", "68100"),
    ]
    assert "68100" in lookup("68224").postal_codes


@pytest.mark.parametrize(
    ("query", "expected"),
    [("49007", "Angers"), ("2a004", "Ajaccio"), ("200066009", "CA Mulhouse Alsace Agglomération")],
)
def test_search_by_official_code(query: str, expected: str) -> None:
    assert search(query)[0].name == expected


def test_search_code_shared_by_departement_and_region() -> None:
    assert {(c.kind, c.name) for c in search("84")} == {
        ("departement", "Vaucluse"),
        ("region", "Auvergne-Rhône-Alpes"),
    }


def test_search_limit_and_no_duplicates() -> None:
    results = search("sa", limit=7)
    assert len(results) == 7
    assert len({(c.kind, c.code) for c in results}) == 7
    assert search("", limit=5) == []
    assert search("  -  ") == []
    assert search("zzzzqx") == []
    assert search("angers", limit=0) == []


# --- slugs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "slug"),
    [
        ("42218", "saint-etienne"),
        ("01001", "l-abergement-clemenciat"),
        ("02201", "coeuvres-et-valsery"),  # the "œ" ligature is not an accent
        ("2A004", "ajaccio"),
        ("200066009", "ca-mulhouse-alsace-agglomeration"),
    ],
)
def test_suggest_slug(code: str, slug: str) -> None:
    assert suggest_slug(lookup(code)) == slug


def test_long_slug_is_cut_at_a_word_boundary() -> None:
    long_name = Collectivite(
        kind="epci",
        code="200000000",
        name="Communauté de communes du Pays de Saint-Gilles-Croix-de-Vie",
        siren="200000000",
        population=0,
        departement=None,
        region=None,
        postal_codes=(),
        epci_type="CC",
    )
    assert suggest_slug(long_name) == "communaute-de-communes-du-pays-de-saint"


def test_every_slug_is_valid() -> None:
    pattern = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
    for c in official._index().ranked:
        slug = suggest_slug(c)
        assert len(slug) <= 40 and pattern.fullmatch(slug), (c.name, slug)


# --- data file and build script -----------------------------------------------------


def test_shipped_file_counts() -> None:
    kinds = [c.kind for c in official._index().ranked]
    counts = {kind: kinds.count(kind) for kind in official.KINDS}
    # Only the 34,969 current communes, not delegated/associated ones or arrondissements.
    assert counts == {"commune": 34969, "epci": 1255, "departement": 109, "region": 26}


@pytest.mark.skipif(not SOURCE_DIR.is_dir(), reason="source data not available")
def test_build_script_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for run in ("first", "second"):
        output = tmp_path / run / "collectivites.csv.gz"
        subprocess.run(
            [sys.executable, str(BUILD_SCRIPT), str(SOURCE_DIR), "--output", str(output)],
            check=True,
            capture_output=True,
        )
        outputs.append(output.read_bytes())
    assert outputs[0] == outputs[1]
    # The shipped file must be up to date. Compare the CSV rather than the gzip bytes,
    # which may legitimately differ under another zlib build.
    assert gzip.decompress(outputs[0]) == gzip.decompress(SHIPPED.read_bytes())
