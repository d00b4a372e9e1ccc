"""Where a redirect may go: back to a path on this host, never to another site.

``?next=`` parameters, form fields and the paths of error pages all come from the visitor;
a redirect to one of them must not become an open redirect.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next_path(target: str | None, default: str = "/") -> str:
    """A path on this host, or ``default``: never an absolute or protocol-relative URL.

    Browsers read ``/\\evil.example`` as ``//evil.example``, and drop tabs and newlines
    anywhere in a URL, so both backslashes and control characters are refused too.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
