"""The OpenAPI document: every /api/v1 route documented and nothing else, and schemathesis
run against it on the seeded tenant (in-process WSGI): no server error, every response
conforming to the document."""

from __future__ import annotations

import contextlib

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from participation.api.openapi import openapi_path


def api_rules(app) -> set[tuple[str, str]]:
    return {
        (openapi_path(rule.rule), "get")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "GET" in rule.methods
    }


def test_every_api_route_is_documented_and_vice_versa(app, api):
    document = api.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == api_rules(app)
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule


def test_document_shape(api, seeded):
    document = api.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": f"http://{seeded.tenant.primary_host}"}]
    proposals = document["paths"]["/api/v1/proposals"]["get"]
    names = [param["name"] for param in proposals["parameters"]]
    assert names == ["process", "theme", "status", "neighbourhood", "q", "sort", "limit", "cursor"]
    assert set(proposals["responses"]) == {"200", "400", "404", "429"}
    schema = document["components"]["schemas"]["Proposal"]
    assert schema["additionalProperties"] is False
    assert "email" not in str(document).lower().replace("e-mail", "")


def documented_paths() -> list[str]:
    """Every operation of the registry (the tools' modules imported as init_app does)."""
    import importlib

    from participation.api import TOOL_MODULES
    from participation.api.registry import OPERATIONS

    importlib.import_module("participation.api.views")
    for name in TOOL_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(f"participation.api.{name}")
    # schemathesis leaves out the document's own path.
    return [openapi_path(op.rule) for op in OPERATIONS if not op.rule.endswith("openapi.json")]


OPERATIONS = documented_paths()


@pytest.fixture(scope="module")
def api_schema(app, seeded, tools):
    host = seeded.tenant.primary_host
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers={"Host": host})
    return schema


def test_schemathesis_covers_every_operation(api_schema):
    paths = {result.ok().path for result in api_schema.get_all_operations()}
    assert paths == set(OPERATIONS)


@pytest.mark.parametrize("path", OPERATIONS)
def test_schemathesis(api_schema, app, seeded, tools, monkeypatch, path):
    """Generated requests (max 20 per operation): never a 5xx, always the documented shape."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    operation = api_schema[path]["GET"]
    host = seeded.tenant.primary_host
    calls = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(case):
        excluded = []
        if case.query and "cursor" in case.query:
            # A cursor is opaque and signed: a generated one is rightly refused (400).
            excluded.append(positive_data_acceptance)
        response = case.call_and_validate(headers={"Host": host}, excluded_checks=excluded)
        calls.append(response.status_code)

    run()
    assert calls and max(calls) < 500
