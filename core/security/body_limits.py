"""Request body limits: 1 MB everywhere (``MAX_CONTENT_LENGTH``), more on upload views only.

Without a limit, a 1 GB chunked POST to the Stripe webhook grew a worker by 620 MB and a
600 MB multipart to ``/connexion`` was spooled to /tmp. Werkzeug enforces
``request.max_content_length`` in two ways, both before the body is read whole:

- a ``Content-Length`` above the limit raises 413 before one byte is read;
- a body without ``Content-Length`` (chunked) is read through a ``LimitedStream`` that
  raises 413 as soon as it goes past the limit, when the server sets
  ``wsgi.input_terminated`` (gunicorn always does; Werkzeug's server does for chunked
  bodies). A server that sets neither gives the app an empty body, never an endless one.

One gap: Werkzeug's ``LimitedStream.read()`` (read everything: urlencoded forms, JSON,
``request.get_data()``) stops *silently* at the limit, so a chunked body over it was cut
but parsed truncated (a 400 or, worse, half a payload taken for the whole). The hook
below gives such bodies a stream that answers 413 when more than the limit was sent.

No WSGI middleware is needed: what matters is that the limit is set before anything
reads the body, and Flask-WTF's CSRF check reads the form in a ``before_request`` hook.
Hence the one per-view way to raise the limit:

    from core.security.body_limits import upload_view

    @bp.route("/…", methods=["GET", "POST"])
    @upload_view("MAX_IMAGE_BYTES")  # one image; or "MAX_DOCUMENT_BYTES", or bytes
    def edit(): ...

``upload_view`` marks the view; the ``before_request`` hook installed by :func:`init_app`
(before the CSRF hook) sets ``request.max_content_length`` to the sum of the files' limits
plus ``UPLOAD_FORM_MARGIN_BYTES`` (256 kB) for the rest of the form and the multipart
framing. The upload
itself is still checked by ``core/uploads.py`` (content, pixels, size): a file a little
over its limit comes back to the form with a message; only far bigger bodies get the 413
page. Parts C and D: put ``@upload_view(...)`` on every new view whose form has a file.

In production nginx caps bodies too (``client_max_body_size``, part H) so that no worker
spends time on them at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream

#: Attribute set on a view function by :func:`upload_view`.
LIMITS_ATTRIBUTE = "pnyx_upload_limits"
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024
#: An upload form's text fields and multipart framing, on top of its files.
UPLOAD_FORM_MARGIN_BYTES = 256 * 1024

Limit = int | str | Callable[[], int]


def _bytes(limit: Limit) -> int:
    if callable(limit):
        return int(limit())
    if isinstance(limit, str):
        from core.uploads import DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_IMAGE_BYTES

        defaults = {
            "MAX_IMAGE_BYTES": DEFAULT_MAX_IMAGE_BYTES,
            "MAX_DOCUMENT_BYTES": DEFAULT_MAX_DOCUMENT_BYTES,
        }
        return int(current_app.config.get(limit) or defaults.get(limit, 0))
    return int(limit)


def base_limit() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_CONTENT_LENGTH)


def body_limit_for(limits: tuple[Limit, ...]) -> int:
    """The body a view taking files of ``limits`` may receive: the files, plus a margin for
    its other fields and the multipart framing. (It may be below the global limit: a view
    taking a 100 kB file has no use for a 1 MB body.)"""
    return sum(_bytes(limit) for limit in limits) + UPLOAD_FORM_MARGIN_BYTES


def upload_view(*limits: Limit) -> Callable:
    """Raise this view's body limit for its files: each of ``limits`` is one file's largest
    size, in bytes, as a setting name (``"MAX_IMAGE_BYTES"``) or as a callable."""
    if not limits:
        raise TypeError("upload_view needs the limit of at least one file")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            # Also here, for a view reached without the hook (a test calling it directly);
            # harmless when the hook already did it and nothing has read the body yet.
            if "stream" not in request.__dict__:
                request.max_content_length = body_limit_for(limits)
            return view(*args, **kwargs)

        setattr(wrapper, LIMITS_ATTRIBUTE, tuple(limits))
        return wrapper

    return decorator


class _StrictMaxStream(LimitedStream):
    """``LimitedStream`` with a maximum whose read-everything also refuses a longer body."""

    def readall(self) -> bytes:
        data = super().readall()
        # Stopped at the limit: one byte more from the client means the body was longer.
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


def _raise_limit_for_upload_views() -> None:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    limits = getattr(view, LIMITS_ATTRIBUTE, None)
    if limits:
        request.max_content_length = body_limit_for(limits)
    environ = request.environ
    limit = request.max_content_length
    if (
        limit is not None
        and request.content_length is None
        and "wsgi.input_terminated" in environ
        and "stream" not in request.__dict__
    ):
        # A body without Content-Length (chunked): the strict stream (module docstring).
        request.__dict__["stream"] = _StrictMaxStream(environ["wsgi.input"], limit, is_max=True)


def init_app(app: Flask) -> None:
    """Install the hook; call it before ``csrf.init_app`` (the CSRF check reads the form)."""
    app.config.setdefault("MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH)
    app.before_request(_raise_limit_for_upload_views)
