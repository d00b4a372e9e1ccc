"""Route sweep: hostile input never gives a 5xx (issue 13 §5).

Every GET route of ``app.url_map`` (tenant site and platform site) is opened with real ids
(collected by following the links of the pages themselves), by every role, with hostile
values in every query parameter the code reads and in every route id; then every form found
on those pages (``<form method=post>``, CSRF token included) is posted with hostile values
in each of its fields. Any 5xx fails, with the list of what answered it.

Cost (about 40 s on 2 cores, from 72 s): each route gets the whole battery for the role that
sees the most of it (admin on staff pages, a citizen elsewhere, the operator on the platform);
every other route also gets one short hostile value for another role, chosen in turn. Route
arguments of one kind are made hostile together; duplicated parameters ride with the -1
battery; form bodies are encoded once.
Before the fixes of issue 13 §5 (commit 4def19a) this version found 44 × 5xx on 1,613 GET
requests and 8 × 5xx on 327 form posts: the same 47 failing routes and form actions as its
slower first version (47 × 5xx on 2,886 GET requests; NUL bytes, integers out of
PostgreSQL's range, NUL in route slugs).
"""

from __future__ import annotations

import functools
import re
import secrets
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from core.db import db
from core.routing import PLATFORM_SITE, TENANT_SITE
from tests.support import (
    PASSWORD,
    PLATFORM,
    create_person,
    ensure_legal_documents,
    forge_session,
    host_client,
    random_address,
)

ROOT = Path(__file__).resolve().parents[2]
BIG = "1" + "0" * 20  # 10^20: beyond PostgreSQL's bigint
UNICODE_DIGITS = "١٢"  # Arabic-Indic digits: Python's int() reads them as 12

#: Raw (already percent-encoded) hostile values for a query parameter.
HOSTILE_QUERY = {
    "nul_and_invalid_utf8": "a%00b%FF%FE%C3",
    "huge": BIG,
    "negative": "-1",
    "unicode_digits": quote(UNICODE_DIGITS),
    "long": "x" * 100_000,
}
#: Hostile values for a route's id argument and for its string arguments.
HOSTILE_IDS = {"huge": BIG, "unicode_digits": quote(UNICODE_DIGITS)}
HOSTILE_STRINGS = {"nul": "a%00b", "invalid_utf8": "%FF%FE"}
#: Hostile values for form fields (one form post per value).
HOSTILE_FIELDS = {
    "nul": "Texte\x00avec un octet nul",
    "huge": BIG,
    "unicode_digits": UNICODE_DIGITS,
    "far_date": "9999-12-31",
    # 100,000 characters, some of them two bytes long (length is counted in characters, as
    # the browser counts it); mostly ASCII so that percent-decoding it (a Python loop per
    # escape, in the test client and in the app) does not cost the sweep a second per form.
    "long": ("é" + "x" * 9) * 10_000,
}

#: Query parameters that views read without naming them literally next to ``args.get``.
GENERIC_PARAMS = {
    "page",
    "q",
    "theme",
    "neighbourhood",
    "categorie",
    "commentaires",
    "annee",
    "territoire",
    "process",
    "process_id",
    "phase_id",
    "section_id",
    "status",
    "statut",
    "etat",
    "service",
    "sort",
    "per_page",
    "seed",
    "next",
    "after",
    "limit",
    "cursor",
}
#: Endpoints that end the session or hand out files of no interest: not swept.
SKIPPED_ENDPOINTS = {"static"}
#: POST actions that would end the sweep's own sessions or accounts.
SKIPPED_ACTIONS = re.compile(r"deconnexion|supprimer-mon-compte|/compte/supprimer|logout")

ARG_PATTERN = re.compile(
    r"""(?:args|values|request\.form)\.(?:get|getlist)\(\s*["']([A-Za-z_][\w-]*)["']"""
)


def query_params_read_by_code() -> set[str]:
    """Every parameter name the code reads from a query string (or ``values``)."""
    names = set(GENERIC_PARAMS)
    for package in ("core", "participation", "network", "billing", "tenants"):
        for path in (ROOT / package).rglob("*.py"):
            names.update(ARG_PATTERN.findall(path.read_text(encoding="utf-8")))
    return names


# --------------------------------------------------------------------------- forms parsing


class FormParser(HTMLParser):
    """The ``<form method=post>`` of a page: action and fields (name → (kind, value))."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self._current = {"action": attrs.get("action") or "", "fields": {}}
                self.forms.append(self._current)
            else:
                self._current = None
            return
        if self._current is None or not attrs.get("name"):
            return
        name, fields = attrs["name"], self._current["fields"]
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and name in fields:
                return
            fields[name] = (kind, attrs.get("value") or ("y" if kind == "checkbox" else ""))
        elif tag == "textarea":
            fields[name] = ("textarea", "")
        elif tag == "select":
            fields[name] = ("select", "")
            self._select = name
        elif tag == "option" and self._select and not fields[self._select][1]:
            fields[self._select] = ("select", attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


# --------------------------------------------------------------------------- the site


class Site:
    """One site (a tenant or the platform): its host, routes, clients by role, and the real
    route arguments found by following links."""

    def __init__(self, app, host: str, marker: str, clients: dict, main_role):
        self.app, self.host, self.marker = app, host, marker
        self.clients = clients  # role -> client
        self.main_role = main_role  # endpoint -> role given the whole battery
        self.rules = [
            rule
            for rule in app.url_map.iter_rules()
            if (rule.subdomain or PLATFORM_SITE) == marker
            and rule.endpoint not in SKIPPED_ENDPOINTS
        ]
        self.values: dict[str, str] = {}  # argument name -> a real value, as text
        self.pages: dict[str, str] = {}  # path -> html (GET 200 pages, for their forms)
        self.failures: list[str] = []
        self.requests = 0

    def adapter(self):
        return self.app.url_map.bind(self.host, subdomain=self.marker)

    def learn_from(self, html: str) -> list[str]:
        """Record the arguments of every same-site link of a page; return new paths."""
        adapter, found = self.adapter(), []
        for href in re.findall(r'(?:href|action)="([^"#?]+)', html):
            parts = urlsplit(href)
            if parts.netloc and parts.netloc != self.host:
                continue
            try:
                _endpoint, args = adapter.match(parts.path, method="GET")
            except RequestRedirect:
                continue
            except HTTPException:
                try:
                    _endpoint, args = adapter.match(parts.path, method="POST")
                except (HTTPException, RequestRedirect):  # noqa: S112 - not a route of this site
                    continue
            new = False
            for name, value in args.items():
                if name not in self.values:
                    self.values[name] = str(value)
                    new = True
            if new:
                found.append(parts.path)
        return found

    def crawl(self, roles, start=("/",), limit=250):
        seen = set()
        for role in roles:
            queue = list(start)
            while queue and len(seen) < limit:
                path = queue.pop(0)
                if (role, path) in seen:
                    continue
                seen.add((role, path))
                response = self.get(role, path)
                if response is not None and response.status_code == 200:
                    html = response.get_data(as_text=True)
                    if response.mimetype == "text/html":
                        self.pages.setdefault(path, html)
                        queue.extend(self.learn_from(html))

    def url(self, rule, override: dict | None = None) -> str:
        values = {}
        for name in rule.arguments:
            converter = type(rule._converters[name]).__name__
            default = "1" if "Int" in converter else "x"
            values[name] = self.values.get(name, default)
        values.update(override or {})
        # Built by hand so that hostile (already encoded) values are not encoded again.
        path = rule.rule
        for name, value in values.items():
            path = re.sub(r"<(?:[^<>:]+:)?" + name + r">", value, path)
        return path

    def get(self, role, path, query: str = ""):
        self.requests += 1
        client = self.clients[role]
        try:
            response = client.get(path, query_string=query)
        except Exception as exc:  # noqa: BLE001 - an exception escaping the app is a 500
            self.failures.append(f"GET {path}?{query[:80]} as {role}: {exc!r}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"GET {path}?{query[:80]} as {role}: {response.status_code}")
        return response

    def post(self, role, path, data):
        self.requests += 1
        try:
            response = self.clients[role].post(
                path, data=form_body(data), content_type="application/x-www-form-urlencoded"
            )
        except Exception as exc:  # noqa: BLE001 - an exception escaping the app is a 500
            self.failures.append(f"POST {path} as {role}: {exc!r}")
            return None
        if response.status_code >= 500:
            short = {k: (v[:20] if isinstance(v, str) else v) for k, v in data.items()}
            self.failures.append(f"POST {path} as {role}: {response.status_code} {short}")
        return response


@functools.lru_cache(maxsize=64)
def _form_encoded(value: str) -> str:
    return quote_plus(value)


def form_body(data: dict) -> bytes:
    """``application/x-www-form-urlencoded``, each (100 kB) hostile value encoded once."""
    return "&".join(f"{_form_encoded(k)}={_form_encoded(v)}" for k, v in data.items()).encode()


def query_string(names, value: str, turn: int = 0) -> str:
    names = sorted(names)
    if len(value) > 1000:
        # 100 kB in the search box and in one other parameter, a different one for each
        # route (``turn``); the others left out.
        return f"{names[turn % len(names)]}={value}&q={value}"
    return "&".join(f"{name}={value}" for name in names)


def duplicated_query_string(names, value: str) -> str:
    """Every parameter twice: ``value`` first (what ``args.get`` reads), then 10^20 (what
    ``getlist`` and the last-value readers see). One request checks both the value and
    duplicated parameters."""
    return query_string(names, value) + "&" + query_string(names, BIG)


def hostile_route_arguments(site: Site, rule) -> list[str]:
    """The rule's paths with hostile route arguments: each hostile value given to every
    argument of one kind at once (ids, then strings), the others left real, so that a
    hostile id does not hide a hostile string behind a 404."""
    kinds: dict[bool, list[str]] = {True: [], False: []}
    for name, converter in rule._converters.items():
        kinds["Int" in type(converter).__name__].append(name)
    paths = []
    for is_int, names in kinds.items():
        for value in (HOSTILE_IDS if is_int else HOSTILE_STRINGS).values():
            if names:
                paths.append(site.url(rule, dict.fromkeys(names, value)))
    return paths


def visit_every_page(site: Site) -> None:
    """Open every GET route once with its main role; keep the pages (for their forms)."""
    for rule in site.rules:
        if "GET" in rule.methods:
            path = site.url(rule)
            if path in site.pages:  # already fetched by the crawl
                continue
            response = site.get(site.main_role(rule.endpoint), path)
            if response is not None and response.status_code == 200:
                if response.mimetype == "text/html":
                    site.pages.setdefault(path, response.get_data(as_text=True))
                response.close()


def sweep_gets(site: Site, params: set[str]) -> None:
    hostile = list(HOSTILE_QUERY.items())
    short = [(label, value) for label, value in hostile if len(value) < 1000]
    for index, rule in enumerate(sorted(site.rules, key=lambda r: r.rule)):
        if "GET" not in rule.methods:
            continue
        main = site.main_role(rule.endpoint)
        path = site.url(rule)
        for label, value in hostile:
            if label == "negative":
                site.get(main, path, duplicated_query_string(params, value))
            else:
                site.get(main, path, query_string(params, value, index))
        for hostile_path in hostile_route_arguments(site, rule):
            site.get(main, hostile_path)
        # Every other route, one other role in turn (over the routes every role meets every
        # family of pages), with a short hostile value chosen in turn (the main role had the
        # 100 kB one).
        others = [r for r in site.clients if r != main]
        if others and index % 2 == 0:
            role = others[(index // 2) % len(others)]
            _label, value = short[(index // 2) % len(short)]
            site.get(role, path, query_string(params, value))


def sweep_forms(site: Site) -> int:
    """Post every form found on the crawled pages, one hostile value per post."""
    posted, seen = 0, set()
    for page_path, html in list(site.pages.items()):
        for form in forms_of(html):
            action = urlsplit(form["action"]).path or page_path
            if SKIPPED_ACTIONS.search(action):
                continue
            fields = form["fields"]
            typed = [
                n for n, (kind, _v) in fields.items() if n != "csrf_token" and kind != "hidden"
            ]
            key = (action, tuple(sorted(fields)))
            if key in seen:
                continue
            seen.add(key)
            role = site.main_role_for_path(action)
            for label, value in HOSTILE_FIELDS.items():
                data = {n: v for n, (_kind, v) in fields.items()}
                targets = typed or [n for n in fields if n != "csrf_token"]
                if not targets and label != "nul":
                    continue
                for name in targets:
                    data[name] = value
                site.post(role, action, data)
                posted += 1
    return posted


# --------------------------------------------------------------------------- fixtures


def _platform_user(app, role: str, tenant_id=None):
    import pyotp

    from tenants.platform.services import create_platform_user, enable_totp_with_secret

    with app.app_context():
        user = create_platform_user(
            f"{role}-{uuid.uuid4().hex[:10]}@exemple.fr",
            f"Camille {role}",
            role,
            password=PASSWORD,
            tenant_id=tenant_id,
        )
        enable_totp_with_secret(user, pyotp.random_base32())
        db.session.commit()
        return user.id, user.session_version


def _platform_client(app, user=None):
    client = host_client(app, PLATFORM)
    client.environ_base["REMOTE_ADDR"] = random_address()
    if user is not None:
        with client.session_transaction(base_url=client.base_url) as sess:
            sess["_user_id"] = f"p:{user[0]}:{user[1]}"
            sess["_fresh"] = True
            sess["pnyx_2fa"] = True
    return client


def _tenant_client(app, tenant, person=None):
    client = host_client(app, tenant.primary_host)
    client.environ_base["REMOTE_ADDR"] = random_address()
    if person is not None:
        forge_session(client, tenant, person, verified=True)
    return client


@pytest.fixture(scope="module", autouse=True)
def _test_client_reads_no_query():
    """Werkzeug's test client rebuilds each request's whole URL, query included, only to
    take its host and path for the cookie jar: 20 ms per 100 kB query, a tenth of the sweep.
    Its URL without the query gives it the same host and path."""
    import werkzeug.test
    from werkzeug.wsgi import get_current_url

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            werkzeug.test,
            "get_current_url",
            lambda environ: get_current_url(environ, strip_querystring=True),
        )
        yield


@pytest.fixture(scope="module")
def sites(app, make_tenant):
    from tests.api.seed import seed_tenant, seed_tools

    tenant = make_tenant()
    ensure_legal_documents(app, tenant)
    seeded = seed_tenant(app, tenant, bulk=3)
    seed_tools(app, seeded)
    people = {role: create_person(app, tenant, role) for role in ("agent", "moderator", "admin")}
    people["citizen"] = create_person(app, tenant)
    tenant_clients = {"anonymous": _tenant_client(app, tenant)}
    tenant_clients.update({role: _tenant_client(app, tenant, p) for role, p in people.items()})

    operator = _platform_user(app, "operator")
    coordinator = _platform_user(app, "coordinator")
    _network(app, tenant, coordinator[0])
    platform_clients = {
        "anonymous": _platform_client(app),
        "operator": _platform_client(app, operator),
        "coordinator": _platform_client(app, coordinator),
    }

    def tenant_role(endpoint: str) -> str:
        return "admin" if ("staff" in endpoint or endpoint.startswith("branding")) else "citizen"

    tenant_site = Site(app, tenant.primary_host, TENANT_SITE, tenant_clients, tenant_role)
    tenant_site.main_role_for_path = lambda path: (
        "admin" if path.startswith("/gestion") else "citizen"
    )
    platform_site = Site(app, PLATFORM, PLATFORM_SITE, platform_clients, lambda e: "operator")
    platform_site.main_role_for_path = lambda path: (
        "coordinator" if path.startswith("/reseaux") else "operator"
    )
    tenant_site.crawl(["admin", "citizen"], start=("/", "/gestion/", "/compte"))
    platform_site.crawl(["operator", "coordinator"], start=("/", "/operateur", "/reseaux"))
    for site in (tenant_site, platform_site):
        visit_every_page(site)
    yield tenant_site, platform_site


def _network(app, tenant, coordinator_id):
    from network.core.models import (
        MembershipStatus,
        Network,
        NetworkMembership,
        NetworkRole,
        NetworkRoleKind,
    )

    slug = f"reseau-{secrets.token_hex(4)}"
    with app.app_context():
        network = Network(
            slug=slug,
            name=f"Réseau {slug}",
            description="Un **réseau** de test.",
            charter="Charte de test.",
            public_sections=["members"],
        )
        db.session.add(network)
        db.session.flush()
        db.session.add(
            NetworkMembership(
                network_id=network.id, tenant_id=tenant.id, status=MembershipStatus.ACTIVE
            )
        )
        db.session.add(
            NetworkRole(
                network_id=network.id,
                platform_user_id=coordinator_id,
                role=NetworkRoleKind.COORDINATOR,
            )
        )
        db.session.commit()


# --------------------------------------------------------------------------- tests


def test_every_get_route_survives_hostile_query_and_ids(sites):
    params = query_params_read_by_code()
    for site in sites:
        sweep_gets(site, params)
    failures = [f for site in sites for f in site.failures]
    total = sum(site.requests for site in sites)
    print(f"{total} GET requests on {sum(len(site.rules) for site in sites)} routes")
    assert not failures, f"{len(failures)} × 5xx out of {total} requests:\n" + "\n".join(
        failures[:300]
    )


def test_every_form_survives_hostile_posts(sites):
    posted = 0
    for site in sites:
        site.failures.clear()
        posted += sweep_forms(site)
    print(f"{posted} hostile posts on {sum(len(s.pages) for s in sites)} pages")
    assert posted > 20, "the crawl found too few forms"
    failures = [f for site in sites for f in site.failures]
    assert not failures, f"{len(failures)} × 5xx out of {posted} posts:\n" + "\n".join(
        failures[:300]
    )
