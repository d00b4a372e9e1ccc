"""User text never reaches a page as HTML (issue 13 §6).

Flask-Babel's ``LazyString`` answers ``__html__`` with its raw text, so Jinja and WTForms treat
a lazy string as safe markup: ``lazy_gettext("Quartier : %(name)s", name=...)`` rendered a
neighbourhood name as HTML in the staff selects. The static test walks the source for every
lazy string built with parameters; the rendered ones put ``<script>`` in user data and read
the pages where it is shown.
"""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import pytest

from core.db import db
from tests.support import logged_in

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "participation", "network", "billing", "tenants")
LAZY_FUNCTIONS = {
    "_l",
    "lazy_gettext",
    "lazy_ngettext",
    "lazy_pgettext",
    "lazy_npgettext",
    "make_lazy_string",
    "LazyString",
}
_CONSTANT_NAME = re.compile(r"^_?[A-Z][A-Z0-9_]*$")


def _is_constant(node: ast.AST) -> bool:
    """A literal, a module constant (``NAME``, ``module.NAME``) or an item of one
    (``LABELS[status]``): text written in the code, never typed by someone."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return bool(_CONSTANT_NAME.match(node.id))
    if isinstance(node, ast.Attribute):
        return bool(_CONSTANT_NAME.match(node.attr))
    if isinstance(node, ast.Subscript):
        return _is_constant(node.value)
    return False


def carries_data(call: ast.Call) -> bool:
    """Is this lazy-string call built from something else than text written in the code?"""
    name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
    # lazy_ngettext(singular, plural, n) and lazy_pgettext(context, message): the texts
    # are literals; the count of ngettext is a number (formatted with %d).
    literals = 2 if name in {"lazy_ngettext", "lazy_pgettext", "lazy_npgettext"} else 1
    texts, rest = call.args[:literals], call.args[literals:]
    if name in {"lazy_ngettext", "lazy_npgettext"}:
        rest = rest[1:]
    if len(texts) < literals or not all(
        isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in texts
    ):
        return True
    return not all(_is_constant(value) for value in [*rest, *(kw.value for kw in call.keywords)])


def lazy_strings_with_data() -> list[str]:
    """Every lazy-string call that carries data, as ``path:line: source``."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in LAZY_FUNCTIONS and carries_data(node):
                    relative = path.relative_to(ROOT)
                    found.append(f"{relative}:{node.lineno}: {ast.unparse(node)[:120]}")
    return found


def test_no_lazy_string_carries_data():
    """A parameter of a lazy string must be a constant; format data with ``gettext`` at
    request time instead (a plain ``str``, escaped by Jinja and WTForms)."""
    assert lazy_strings_with_data() == []


def test_the_scan_finds_what_it_is_meant_to_find(tmp_path):
    """The rule itself: the historic bug is caught, constant parameters are not."""
    source = (
        "_l('Quartier : %(name)s', name=n.name)\n"
        "_l(title)\n"
        "_l('Libellé « %(label)s »', label=DEFAULT_STATUS_LABELS[status])\n"
        "_l('%(n)d au plus', n=signup.CONTACT_MESSAGE_MAX_LENGTH)\n"
    )
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    flagged = [ast.unparse(call) for call in calls if carries_data(call)]
    assert flagged == ["_l('Quartier : %(name)s', name=n.name)", "_l(title)"]


def test_a_lazy_string_is_markup_to_jinja_and_a_str_is_not(app):
    """Why the rule: the same text is escaped as a str and not as a LazyString."""
    from flask_babel import gettext, lazy_gettext
    from markupsafe import escape

    payload = "<script>alert(1)</script>"
    with app.test_request_context():
        assert str(escape(lazy_gettext("Quartier : %(name)s", name=payload))).endswith(payload)
        assert "&lt;script&gt;" in str(escape(gettext("Quartier : %(name)s", name=payload)))


# --------------------------------------------------------------------------- rendered


@pytest.fixture(scope="module")
def papp(staff_app):
    return staff_app


@pytest.fixture(scope="module")
def hostile_tenant(papp, make_tenant):
    """A tenant whose neighbourhood, theme and service names are HTML."""
    from participation.accounts.models import Neighbourhood, Service
    from participation.processes.models import Theme
    from tenants.context import tenant_context

    ref = make_tenant()
    token = uuid.uuid4().hex[:6]
    with papp.app_context(), tenant_context(ref):
        db.session.add(Neighbourhood(name=f'<script>alert("q{token}")</script>', position=1))
        db.session.add(Theme(name=f'<img src=x onerror="t{token}">'))
        db.session.add(Service(name=f"<b>s{token}</b>"))
        db.session.commit()
    return ref, token


STAFF_PAGES = (
    "/gestion/demarches/nouvelle",
    "/gestion/propositions/liste",
    "/gestion/propositions/",
    "/gestion/quartiers",
    "/gestion/services",
    "/gestion/themes",
)


def test_staff_selects_escape_neighbourhood_names(papp, hostile_tenant):
    tenant, token = hostile_tenant
    client, _admin = logged_in(papp, tenant, "admin")
    response = client.get("/gestion/demarches/nouvelle")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The option is there, as text.
    assert f"Quartier : &lt;script&gt;alert(&#34;q{token}&#34;)&lt;/script&gt;" in html
    assert f'<script>alert("q{token}")' not in html


def test_no_staff_page_renders_names_as_html(papp, hostile_tenant):
    tenant, token = hostile_tenant
    client, _admin = logged_in(papp, tenant, "admin")
    seen = 0
    for path in STAFF_PAGES:
        response = client.get(path)
        if response.status_code != 200:
            continue
        seen += 1
        html = response.get_data(as_text=True)
        assert f'<script>alert("q{token}")' not in html, path
        assert f'<img src=x onerror="t{token}">' not in html, path
        assert f"<b>s{token}</b>" not in html, path
    assert seen >= 3
