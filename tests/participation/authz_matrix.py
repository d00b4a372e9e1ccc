"""Shared machinery of the tenant-side authorisation matrices (``test_*_authz.py``).

Each matrix file lists, per route of ``app.url_map``, who may GET and who may POST it, builds
its own visitors (columns) and data, and hands them to the helpers here:

- :func:`signed_in_clients`: anonymous plus one signed-in client per person of tenant A;
- :func:`replay_other_tenant_admin`: the admin of tenant B with their cookie replayed on A;
- :func:`add_operator`: a platform operator with their platform cookie replayed on A;
- :func:`route_urls`: the URL (with real ids) and methods of every route of some blueprints;
- :func:`build_matrix`: all of the above in one :class:`Matrix`;
- :func:`assert_every_route_covered` / :func:`assert_routes_listed`: every route has a row;
- :func:`check_gets`: each GET answers exactly as expected (302 to the log-in page, 403 with a
  French explanation);
- :func:`check_refused_posts`: each refused POST is refused and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import (
    client_on,
    create_person,
    csrf_for,
    forge_session,
    session_cookie,
    unique_email,
)
from tests.support.staff import ROW_WITHOUT_VISIT_DATES

STRANGERS = frozenset({"anonymous", "other_tenant_admin"})


@dataclass
class Matrix:
    app: object
    tenant: object
    urls: dict[str, str]
    methods: dict[str, set[str]]
    ids: dict[str, int]
    clients: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    login_path: str = ""
    tables: tuple[str, ...] = ()
    operator_skip: str | None = None

    def fingerprint(self) -> dict[str, str]:
        return fingerprint(self.app, self.tenant, self.tables)


def fingerprint(app, tenant, tables: Iterable[str]) -> dict[str, str]:
    """One md5 per table of the tenant's schema: equal fingerprints, nothing written."""
    out = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in tables:
            out[table] = conn.scalar(
                sa.text(
                    "SELECT md5(coalesce(string_agg(row_digest, '|' ORDER BY row_digest), '')) "
                    f"FROM (SELECT ({ROW_WITHOUT_VISIT_DATES})::text AS row_digest "
                    f'FROM "{tenant.schema}"."{table}" t) rows'
                )
            )
    return out


def signed_in_clients(app, tenant, people: Mapping[str, object]) -> dict[str, object]:
    """An anonymous client and, per column, a client with that person's verified session."""
    clients = {"anonymous": client_on(app, tenant)}
    for column, person in people.items():
        client = client_on(app, tenant)
        forge_session(client, tenant, person, verified=True)
        clients[column] = client
    return clients


def replay_cookie(app, tenant, cookie_value: str):
    """A client on ``tenant``'s host carrying someone else's session cookie."""
    client = client_on(app, tenant)
    client.set_cookie("session", cookie_value, domain=tenant.primary_host)
    return client


def replay_other_tenant_admin(app, tenant_a, tenant_b, home_path: str, *, token_first=False):
    """The admin of B, at home on B (``home_path`` answers 200), replaying their session
    cookie on A's host. Returns (client on A, B's CSRF token). With ``token_first`` the
    token is made before the cookie is read, so the replayed cookie carries it."""
    admin_b = create_person(app, tenant_b, "admin")
    client_b = client_on(app, tenant_b)
    forge_session(client_b, tenant_b, admin_b, verified=True)
    assert client_b.get(home_path).status_code == 200  # at home on B
    token = csrf_for(client_b) if token_first else None
    replayed = replay_cookie(app, tenant_a, session_cookie(client_b))
    return replayed, token or csrf_for(client_b)


def platform_operator(app) -> tuple[tuple[str, str] | None, str | None]:
    """A platform operator's (session cookie, CSRF token), made on the platform host; or
    (None, why) when the platform package is missing."""
    from tests.support import PLATFORM, host_client

    try:
        from tenants.platform.models import PlatformRole, PlatformUser
    except ImportError as exc:  # pragma: no cover - depends on the platform package
        return None, f"tenants.platform is not available ({exc}): no operator account to try"
    with app.app_context():
        operator = PlatformUser(
            email=unique_email("operateur"),
            display_name="Opératrice de la plateforme",
            role=PlatformRole.OPERATOR,
            totp_enabled=True,
            totp_secret="JBSWY3DPEHPK3PXP",
        )
        db.session.add(operator)
        db.session.commit()
        operator_id, version = operator.id, operator.session_version
        from core.security.auth import SESSION_RECORD_KEY, issue_session_token

        token = issue_session_token("platform", operator_id)
    client = host_client(app, PLATFORM)
    with client.session_transaction(base_url=client.base_url) as sess:
        sess["_user_id"] = f"p:{operator_id}:{version}"
        sess[SESSION_RECORD_KEY] = token
        sess["_fresh"] = True
        sess["pnyx_2fa"] = True
    token = csrf_for(client)
    return (session_cookie(client), token), None


def add_operator(matrix: Matrix) -> None:
    """The ``operator`` column: a platform operator's cookie replayed on A's host (or, without
    the platform package, a reason to skip that column)."""
    operator, reason = platform_operator(matrix.app)
    if operator is None:
        matrix.operator_skip = reason
    else:
        cookie, token = operator
        matrix.clients["operator"] = replay_cookie(matrix.app, matrix.tenant, cookie)
        matrix.tokens["operator"] = token


def client_for(matrix: Matrix, column: str):
    if column == "operator" and matrix.operator_skip:
        pytest.skip(matrix.operator_skip)
    return matrix.clients[column]


def route_urls(
    app,
    tenant,
    prefixes: tuple[str, ...],
    ids: Mapping[str, object],
    special: Mapping[str, Mapping[str, object]] | None = None,
    *,
    every_argument: bool = False,
    exclude: Collection[str] = (),
    endpoints: Collection[str] = (),
):
    """(urls, methods, login path) of every route whose endpoint starts with ``prefixes``.

    Route arguments come from ``ids``, then ``special[endpoint]``; with ``every_argument``
    a route argument missing from both is an error (KeyError), otherwise it is left out.
    Endpoints in ``exclude`` are left out, those in ``endpoints`` are added."""
    from flask import url_for

    special = special or {}
    urls, methods = {}, {}
    with app.test_request_context("/", base_url=f"http://{tenant.primary_host}"):
        for rule in app.url_map.iter_rules():
            wanted = rule.endpoint.startswith(prefixes) or rule.endpoint in endpoints
            if not wanted or rule.endpoint in exclude:
                continue
            chosen = special.get(rule.endpoint, {})
            values = {
                name: ids[name]
                for name in rule.arguments
                if name not in chosen and (every_argument or name in ids)
            }
            values.update(chosen)
            urls[rule.endpoint] = url_for(rule.endpoint, **values)
            methods[rule.endpoint] = set(rule.methods)
        login = url_for("accounts.login")
    return urls, methods, login


def build_matrix(
    app,
    tenant_a,
    tenant_b,
    *,
    clients: dict[str, object],
    ids: Mapping[str, object],
    prefixes: tuple[str, ...],
    home_on_b: str,
    tables: tuple[str, ...],
    special: Mapping[str, Mapping[str, object]] | None = None,
    every_argument: bool = False,
    exclude: Collection[str] = (),
    endpoints: Collection[str] = (),
    token_first: bool = False,
    operator: bool = False,
) -> Matrix:
    """The matrix of tenant A: ``clients`` plus the admin of B replayed on A (at home on B at
    ``home_on_b``), and with ``operator`` a platform operator replayed on A; the routes of
    :func:`route_urls`; ``tables`` fingerprinted."""
    clients = dict(clients)
    clients["other_tenant_admin"], token = replay_other_tenant_admin(
        app, tenant_a, tenant_b, home_on_b, token_first=token_first
    )
    urls, methods, login = route_urls(
        app,
        tenant_a,
        prefixes,
        ids,
        special,
        every_argument=every_argument,
        exclude=exclude,
        endpoints=endpoints,
    )
    matrix = Matrix(
        app,
        tenant_a,
        urls,
        methods,
        dict(ids),
        clients,
        {"other_tenant_admin": token},
        login,
        tuple(tables),
    )
    if operator:
        add_operator(matrix)
    return matrix


def assert_every_route_covered(
    matrix: Matrix,
    get_allowed: Mapping[str, object],
    post_allowed: Mapping[str, object],
    staff_endpoint: str,
    staff_url: str,
) -> None:
    """Every GET and POST route has a row; every staff route lives under ``staff_url``."""
    get_routes = {e for e, m in matrix.methods.items() if "GET" in m}
    post_routes = {e for e, m in matrix.methods.items() if "POST" in m}
    assert get_routes == set(get_allowed), "list who may GET each new route in GET_ALLOWED"
    assert post_routes == set(post_allowed), "list who may POST each new route in POST_ALLOWED"
    staff_urls = [u for e, u in matrix.urls.items() if e.startswith(staff_endpoint)]
    assert staff_urls
    assert all(url.startswith(staff_url) for url in staff_urls)


def assert_routes_listed(urls: Mapping[str, str], allowed: Mapping[str, object], message: str):
    """Every route (whatever its methods) has a row in ``allowed``; all live under /gestion/."""
    assert set(urls) == set(allowed), message
    assert urls
    assert all(url.startswith("/gestion/") for url in urls.values())


def expected_get(
    column: str,
    endpoint: str,
    get_allowed: Mapping[str, Collection[str]],
    special: Mapping[tuple[str, str], int] | None = None,
    strangers: Collection[str] = STRANGERS,
) -> int:
    """200 if allowed; strangers 302 (to log in); everyone else 403 — unless ``special``."""
    if special and (endpoint, column) in special:
        return special[(endpoint, column)]
    if column in get_allowed[endpoint]:
        return 200
    if column in strangers:
        return 302
    return 403


def check_gets(
    matrix: Matrix,
    column: str,
    expected: Callable[[str, str], int],
    explanations: tuple[str, ...] = ("réservée",),
    *,
    urls: Mapping[str, str] | None = None,
    on_tenant_host: bool = False,
) -> None:
    """Every GET route (of ``urls``, by default all the matrix's) answers
    ``expected(column, endpoint)`` to this column's client; a 302 goes to the log-in page
    (with ``on_tenant_host``, of A's host) and a 403 says why in French."""
    client = client_for(matrix, column)
    wrong = []
    for endpoint, url in sorted((matrix.urls if urls is None else urls).items()):
        if "GET" not in matrix.methods[endpoint]:
            continue
        response = client.get(url)
        status = expected(column, endpoint)
        if response.status_code != status:
            wrong.append(f"{endpoint} {url}: {response.status_code}, expected {status}")
        elif status == 302 and not _to_login(matrix, response.location, on_tenant_host):
            wrong.append(f"{endpoint}: redirected to {response.location}, not the log-in page")
        elif status == 403 and not any(
            word in response.get_data(as_text=True) for word in explanations
        ):
            wrong.append(f"{endpoint}: 403 without a French explanation")
        response.close()
    assert not wrong, "\n".join(wrong)


def _to_login(matrix: Matrix, location: str, on_tenant_host: bool) -> bool:
    parts = urlsplit(location)
    if on_tenant_host and parts.netloc not in ("", matrix.tenant.primary_host):
        return False
    return parts.path == matrix.login_path


def expected_post_refusal(column: str, endpoint: str) -> set[int]:
    if column == "anonymous":
        return {302}
    if column == "other_tenant_admin":
        return {400}  # A cannot read their cookie: the CSRF token matches nothing
    return {403}


def check_refused_posts(
    matrix: Matrix,
    column: str,
    post_allowed: Mapping[str, Collection[str]],
    post_data: Mapping[str, Mapping[str, str]],
    may_post_everywhere: Collection[str],
    refusal: Callable[[str, str], set[int]] = expected_post_refusal,
    *,
    urls: Mapping[str, str] | None = None,
) -> None:
    """Every POST route this column may not use is refused (``refusal``; a redirect goes to
    the log-in page) and the tenant's tables are unchanged. Keys and values of ``post_data``
    are formatted with ``matrix.ids``. Columns outside ``may_post_everywhere`` must have been
    refused at least once. ``urls``: the routes to try (by default all the matrix's)."""
    client = client_for(matrix, column)
    before = matrix.fingerprint()
    wrong, tried = [], 0
    for endpoint, url in sorted((matrix.urls if urls is None else urls).items()):
        if "POST" not in matrix.methods[endpoint] or column in post_allowed[endpoint]:
            continue
        tried += 1
        token = matrix.tokens.get(column) or csrf_for(client)
        data = {
            key.format(**matrix.ids): value.format(**matrix.ids)
            for key, value in post_data.get(endpoint, {}).items()
        }
        response = client.post(url, data={"csrf_token": token, **data})
        expected = refusal(column, endpoint)
        if response.status_code not in expected:
            wrong.append(f"POST {endpoint}: {response.status_code}, expected {expected}")
        elif response.status_code in (302, 303) and (
            urlsplit(response.location).path != matrix.login_path
        ):
            wrong.append(f"POST {endpoint}: redirected to {response.location}")
    assert not wrong, "\n".join(wrong)
    assert matrix.fingerprint() == before
    if column not in may_post_everywhere:
        assert tried > 0


#: The staff-page matrices (test_authz_matrix, test_processes_authz, test_engagement_authz)
#: add a platform operator, a stranger on A too: cookies are signed per site.
OPERATOR_COLUMNS = [
    "anonymous",
    "citizen",
    "agent",
    "moderator",
    "admin",
    "other_tenant_admin",
    "operator",
]
OPERATOR_STRANGERS = frozenset({"anonymous", "other_tenant_admin", "operator"})


def operator_post_refusal(column: str, endpoint: str = "") -> set[int]:
    if column == "anonymous":
        return {302}  # to the log-in page (its CSRF token is valid: a fresh session of A)
    if column in {"other_tenant_admin", "operator"}:
        # A cannot even read their cookie, so the CSRF token it carries matches nothing.
        return {400}
    return {403}
