"""Small test utilities."""

from __future__ import annotations

from flask.testing import FlaskClient


class HostClient(FlaskClient):
    """A test client whose requests all go to one host (``Host`` header and URL)."""

    def __init__(self, *args, host: str = "localhost", scheme: str = "http", **kwargs):
        super().__init__(*args, **kwargs)
        self.base_url = f"{scheme}://{host}"

    def open(self, *args, **kwargs):
        if not kwargs.get("base_url") and not (args and not isinstance(args[0], str)):
            kwargs["base_url"] = self.base_url
        return super().open(*args, **kwargs)


def host_client(app, host: str, scheme: str = "http") -> HostClient:
    return HostClient(app, app.response_class, use_cookies=True, host=host, scheme=scheme)
