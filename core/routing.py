"""Routing by *site* rather than by host name.

A request is for the platform site (the platform domain) or for a tenant site (one of the
tenants' hosts). Tenant blueprints are registered with ``subdomain="tenant"`` — a marker,
not a real subdomain — and the URL adapter is bound to the marker of the resolved site, so
a tenant route simply does not exist on the platform host and vice versa.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Request
from werkzeug.routing import IntegerConverter, Map, MapAdapter
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


class BoundedIntConverter(IntegerConverter):
    """``<int:id>`` stops at PostgreSQL's integer range: a larger id is a 404, not a 500."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class SiteMap(Map):
    platform_host: str = ""
    default_converters = {**Map.default_converters, "int": BoundedIntConverter}

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
