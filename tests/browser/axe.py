"""Accessibility checks with axe-core (bundled by ``axe-playwright-python``).

``assert_accessible(page)`` fails on every *serious* or *critical* violation and lists
them all (rule, help text, offending elements), so one run shows everything to fix.
Minor and moderate findings are not failures: they are reported by axe as advice.
"""

from __future__ import annotations

from functools import cache

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Response

FAILING_IMPACTS = frozenset({"serious", "critical"})


@cache
def _axe() -> Axe:
    return Axe()  # reads axe.min.js (about 500 kB) once per process


def axe_violations(page: Page, impacts: frozenset[str] = FAILING_IMPACTS) -> list[dict]:
    """The violations of the current page whose impact is in ``impacts``."""
    results = _axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f"\n  {violation.get('helpUrl', '')}"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    * {target}: {node.get('html', '').strip()[:200]}")
            if node.get("failureSummary"):
                summary = node["failureSummary"].replace("\n", " ")
                lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, impacts: frozenset[str] = FAILING_IMPACTS) -> None:
    violations = axe_violations(page, impacts)
    if violations:
        raise AssertionError(
            f"{len(violations)} accessibility violation(s) on {page.url}:\n"
            + format_violations(violations)
        )


def visit(page: Page, url: str, status: int | None = None, accessible: bool = True) -> Response:
    """Open ``url``, check the response status (< 400 unless ``status`` is given), check
    the page with axe, and return the response."""
    response = page.goto(url, wait_until="load")
    assert response is not None, f"no response for {url}"
    if status is None:
        assert response.status < 400, f"{url} answered {response.status}"
    else:
        assert response.status == status, f"{url} answered {response.status}, not {status}"
    if accessible:
        assert_accessible(page)
    return response
