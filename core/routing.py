"""Routing by *site* rather than by host name.

A request is for the platform site (the platform domain) or for a tenant site (one of the
tenants' hosts). Tenant blueprints are registered with ``subdomain="tenant"`` — a marker,
not a real subdomain — and the URL adapter is bound to the marker of the resolved site, so
a tenant route simply does not exist on the platform host and vice versa.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask import Flask, Request, abort
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, Map, MapAdapter, PathConverter, UnicodeConverter
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_host

PLATFORM_SITE = ""
TENANT_SITE = "tenant"


class CrossSiteURLError(RuntimeError):
    """A tenant URL was built without a tenant host to put it on."""


class SiteMapAdapter(MapAdapter):
    platform_host: str = ""

    def get_host(self, domain_part: str | None) -> str:
        site = self.subdomain if domain_part is None else domain_part
        if site == self.subdomain:
            return self.server_name
        if site == PLATFORM_SITE:
            return self.platform_host
        raise CrossSiteURLError("a tenant URL needs the tenant's host (see tenants.urls)")


#: PostgreSQL's ``integer`` and ``bigint`` ranges: a larger number in a query is a DataError.
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
_ASCII_INT = re.compile(r"-?[0-9]{1,19}")
_ASCII_DIGITS = re.compile(r"-?[0-9]{1,200}")


class BoundedIntConverter(IntegerConverter):
    """``<int:id>``: ASCII digits only (Werkzeug's ``\\d`` also matches ``١``, which Python's
    ``int()`` reads as 1, so ``/propositions/١`` was ``/propositions/1``), at most 19 of them,
    and stopped at PostgreSQL's integer range: anything else is a 404, never a 500."""

    regex = r"[0-9]{1,19}"
    signed_regex = r"-?[0-9]{1,19}"

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class BoundedBigIntConverter(BoundedIntConverter):
    """``<bigint:id>`` for bigint identities that may outgrow ``integer``."""

    def __init__(self, map, fixed_digits=0, min=None, max=BIGINT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TextConverter(UnicodeConverter):
    """``<slug>``/``<string:x>``: a NUL byte cannot be stored or compared by PostgreSQL."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]")


class TextPathConverter(PathConverter):
    regex = "[^/\\x00][^\\x00]*?"


def parse_int(
    raw: object,
    default: int | None = None,
    *,
    minimum: int = 1,
    maximum: int = INT_MAX,
    clamp: bool = False,
) -> int | None:
    """A query-string or form integer as PostgreSQL can take it, else ``default``.

    Only ASCII digits (``int()`` accepts ``١``, ``1_000`` and spaces), and within
    [minimum, maximum] (PostgreSQL raises on ``10^20``). Hostile input gives ``default``;
    with ``clamp`` a number out of range is brought to the nearest bound instead (a page
    number far past the end stays far past the end: a 404, not the first page)."""
    if isinstance(raw, bool):
        return default
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and (_ASCII_DIGITS if clamp else _ASCII_INT).fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        return default
    if clamp:
        return min(max(value, minimum), maximum)
    return value if minimum <= value <= maximum else default


def arg_int(
    name: str,
    default: int | None = None,
    *,
    minimum: int = 1,
    maximum: int = INT_MAX,
    clamp: bool = False,
    args: Mapping | None = None,
) -> int | None:
    """``request.args.get(name, type=int)`` made safe: see :func:`parse_int`. Use it for
    every integer query parameter (``page``, ``theme``, ``annee``…)."""
    from flask import request

    source = request.args if args is None else args
    return parse_int(source.get(name), default, minimum=minimum, maximum=maximum, clamp=clamp)


def arg_int_or_404(name: str, **kwargs) -> int | None:
    """Like :func:`arg_int`, but a present and invalid value is a 404 (an id in the query)."""
    from flask import request

    if request.args.get(name) in (None, ""):
        return None
    value = arg_int(name, **kwargs)
    if value is None:
        abort(404)
    return value


def clean_text(value: str) -> str:
    """What PostgreSQL can store and a browser would count: NUL removed, newlines as ``\\n``
    (a textarea's ``maxlength`` counts CRLF as one character; the form data has two)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _cleaned(data: MultiDict, *, newlines: bool) -> MultiDict:
    def clean(text: str) -> str:
        return clean_text(text) if newlines else text.replace("\x00", "")

    if not any(
        "\x00" in k or "\x00" in v or (newlines and "\r" in v)
        for k, v in data.items(multi=True)
        if isinstance(v, str)
    ):
        return data
    return ImmutableMultiDict(
        (clean(key), clean(value) if isinstance(value, str) else value)
        for key, value in data.items(multi=True)
    )


class PnyxRequest(Request):
    """Hostile input handled once for every view: NUL bytes are removed from the query and the
    form (PostgreSQL refuses them in text: a DataError, a 500, on 24 forms), and form newlines
    are normalised so that lengths are counted as the browser counts them. Invalid UTF-8 is
    already decoded with replacement characters by Werkzeug."""

    @cached_property
    def args(self):
        # The public API validates its parameters itself and tells a client what it refused
        # (a NUL is a 400 with the reason there): only pages get a cleaned query.
        if self.path.startswith("/api/"):
            return super().args
        return _cleaned(super().args, newlines=False)

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None:
            self.__dict__["form"] = _cleaned(form, newlines=True)


class SiteMap(Map):
    platform_host: str = ""
    default_converters = {
        **Map.default_converters,
        "int": BoundedIntConverter,
        "bigint": BoundedBigIntConverter,
        "default": TextConverter,
        "string": TextConverter,
        "path": TextPathConverter,
    }

    def _site_adapter(self, adapter: MapAdapter) -> MapAdapter:
        adapter.__class__ = SiteMapAdapter
        adapter.platform_host = self.platform_host
        return adapter

    def bind(self, *args, **kwargs) -> MapAdapter:
        return self._site_adapter(super().bind(*args, **kwargs))

    def bind_to_environ(self, *args, **kwargs) -> MapAdapter:
        # Werkzeug calls Map.bind explicitly from here, bypassing the override above.
        return self._site_adapter(super().bind_to_environ(*args, **kwargs))


class PnyxFlask(Flask):
    url_map_class = SiteMap
    request_class = PnyxRequest
    #: Set by tenants: ``environ -> site marker`` ("" or "tenant").
    site_marker_for: Callable[[dict], str] | None = None

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        if request is None:
            return super().create_url_adapter(request)
        if (trusted_hosts := self.config["TRUSTED_HOSTS"]) is not None:
            request.trusted_hosts = trusted_hosts
        request.host = get_host(request.environ, request.trusted_hosts)
        marker = self.site_marker_for(request.environ) if self.site_marker_for else PLATFORM_SITE
        return self.url_map.bind_to_environ(request.environ, server_name=None, subdomain=marker)
