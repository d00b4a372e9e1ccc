from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import render_template_string

from core.security.redirects import safe_next_path
from tests.support import PLATFORM

FRENCH_HEADING = "Pnyx, la participation citoyenne des territoires"
ENGLISH_HEADING = "Pnyx, citizen participation for local authorities"
NNBSP = "\u202f"  # narrow no-break space: French thousands separator
NBSP = "\u00a0"


def test_platform_home_is_french_by_default(platform_client):
    response = platform_client.get("/")
    assert response.status_code == 200
    assert FRENCH_HEADING in response.text
    assert '<html lang="fr">' in response.text
    assert "Aller au contenu" in response.text


@pytest.mark.parametrize(
    "header", ["en", "en-GB,en;q=0.9", "de-DE, en;q=0.5", "EN-us"], ids=lambda h: h
)
def test_english_when_the_browser_prefers_it(platform_client, header):
    response = platform_client.get("/", headers={"Accept-Language": header})
    assert ENGLISH_HEADING in response.text
    assert '<html lang="en">' in response.text
    assert "Skip to content" in response.text
    assert "Accept-Language" in response.vary


@pytest.mark.parametrize("header", ["fr-FR,fr;q=0.9,en;q=0.8", "de, it;q=0.5", "*", ""])
def test_french_when_the_browser_prefers_french_or_an_unsupported_language(platform_client, header):
    response = platform_client.get("/", headers={"Accept-Language": header})
    assert FRENCH_HEADING in response.text
    assert '<html lang="fr">' in response.text


def test_choosing_english_is_remembered_in_the_session(platform_client):
    response = platform_client.get("/langue/en")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    # The explicit choice beats the browser's preference...
    page = platform_client.get("/", headers={"Accept-Language": "fr-FR,fr"})
    assert ENGLISH_HEADING in page.text
    # ...until the visitor chooses French again.
    platform_client.get("/langue/fr")
    page = platform_client.get("/", headers={"Accept-Language": "en"})
    assert FRENCH_HEADING in page.text


def test_choosing_a_language_on_a_tenant_site(client_for, tenant_a):
    client = client_for(tenant_a.primary_host)
    assert "Bienvenue sur l'espace de participation" in client.get("/").text
    response = client.get("/langue/en?next=/")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    page = client.get("/")
    assert f"Welcome to the participation space of {tenant_a.name}" in page.text
    assert '<html lang="en">' in page.text


def test_the_choice_stays_on_its_own_site(client_for, tenant_a):
    client = client_for(PLATFORM)
    client.get("/langue/en")
    assert ENGLISH_HEADING in client.get("/").text
    tenant_client = client_for(tenant_a.primary_host)
    assert "Bienvenue sur" in tenant_client.get("/").text


def test_only_french_and_english_can_be_chosen(platform_client):
    response = platform_client.get("/langue/de")
    assert response.status_code == 404
    assert FRENCH_HEADING in platform_client.get("/").text


def test_language_route_redirects_to_a_local_next_path(platform_client):
    response = platform_client.get("/langue/en?next=/processus/12?onglet=avis")
    assert response.headers["Location"] == "/processus/12?onglet=avis"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/path",
        "https://evil.example",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_language_route_refuses_other_sites_as_next(platform_client, target):
    response = platform_client.get("/langue/en", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/a/b?c=d#e", "/a/b?c=d#e"),
        (None, "/"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/ok\nLocation: x", "/"),
    ],
)
def test_safe_next_path(target, expected):
    assert safe_next_path(target) == expected


# --------------------------------------------------------------------------- formatting


def render(app, source: str, language: str = "fr", **context) -> str:
    with app.test_request_context(
        "/", base_url=f"http://{PLATFORM}", headers={"Accept-Language": language}
    ):
        return render_template_string(source, **context)


def test_date_fr(app):
    assert render(app, "{{ d|date_fr }}", d=date(2026, 11, 22)) == "22 novembre 2026"
    assert render(app, "{{ d|date_fr }}", d=date(2026, 1, 1)) == "1 janvier 2026"


def test_date_fr_uses_paris_time(app):
    # 23:30 UTC on 21 November is already 22 November in Paris.
    utc = datetime(2026, 11, 21, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert render(app, "{{ d|date_fr }}", d=utc) == "22 novembre 2026"


def test_datetime_fr(app):
    paris = datetime(2026, 11, 22, 14, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert render(app, "{{ d|datetime_fr }}", d=paris) == "22 novembre 2026 à 14:05"
    # Naive datetimes are UTC (as stored): 13:05 UTC is 14:05 in Paris in winter.
    naive_utc = datetime(2026, 11, 22, 13, 5)
    assert render(app, "{{ d|datetime_fr }}", d=naive_utc) == "22 novembre 2026 à 14:05"
    summer = datetime(2026, 7, 14, 10, 0, tzinfo=ZoneInfo("UTC"))
    assert render(app, "{{ d|datetime_fr }}", d=summer) == "14 juillet 2026 à 12:00"


def test_number_fr(app):
    assert render(app, "{{ n|number_fr }}", n=104978) == f"104{NNBSP}978"
    assert render(app, "{{ n|number_fr }}", n=1234567) == f"1{NNBSP}234{NNBSP}567"
    assert render(app, "{{ n|number_fr }}", n=3.5) == "3,5"
    assert render(app, "{{ n|number_fr(2) }}", n=1234.5) == f"1{NNBSP}234,50"


def test_percent_fr(app):
    assert render(app, "{{ n|percent_fr }}", n=0.42) == f"42{NBSP}%"
    assert render(app, "{{ n|percent_fr(1) }}", n=0.125) == f"12,5{NBSP}%"


def test_money_eur(app):
    assert render(app, "{{ n|money_eur }}", n=Decimal("1234.50")) == f"1{NNBSP}234,50{NBSP}€"
    assert render(app, "{{ n|money_eur }}", n=0) == f"0,00{NBSP}€"


def test_filters_render_nothing_for_none(app):
    source = (
        "{{ n|date_fr }}{{ n|datetime_fr }}{{ n|number_fr }}{{ n|percent_fr }}{{ n|money_eur }}"
    )
    assert render(app, source, n=None) == ""


def test_formatting_follows_the_locale(app):
    paris = datetime(2026, 11, 22, 14, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert render(app, "{{ d|date_fr }}", "en", d=paris) == "November 22, 2026"
    assert render(app, "{{ d|datetime_fr }}", "en", d=paris).startswith("November 22, 2026 at 2:05")
    assert render(app, "{{ n|number_fr }}", "en", n=104978) == "104,978"
    assert render(app, "{{ n|money_eur }}", "en", n=Decimal("1234.5")) == "€1,234.50"
