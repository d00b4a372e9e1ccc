"""A real SMTP server for the tests (aiosmtpd in a background thread).

It listens on a free port of 127.0.0.1 and keeps every message it accepts, parsed, with its
envelope. Jobs run by a forked rq worker deliver to it over TCP like to any server, so a
test waits for a message with :meth:`SMTPServer.wait_for` rather than assuming it is there.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")
_TRAILING_PUNCTUATION = ".,;:!?»"


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def links_in(message: EmailMessage) -> list[str]:
    """The http(s) URLs of the text part, in order."""
    return [url.rstrip(_TRAILING_PUNCTUATION) for url in _URL.findall(text_of(message))]


class ReceivedMessage(EmailMessage):
    """A parsed message, plus the envelope it came with."""

    envelope_from: str = ""
    envelope_to: tuple[str, ...] = ()
    #: The login of the SMTP session that sent it, None if it did not authenticate.
    authenticated_as: str | None = None


class _FreePortController(Controller):
    """Binds port 0 and reads back the port the system chose, before checking it answers."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SMTPServer:
    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._messages: list[ReceivedMessage] = []
        self._changed = threading.Condition()
        self._parser = BytesParser(_class=ReceivedMessage, policy=policy.default)
        options: dict[str, Any] = {}
        if credentials is not None:
            # No TLS in tests: AUTH is offered in clear. It stays optional (requiring it
            # without TLS makes aiosmtpd warn); each message records who logged in.
            options.update(authenticator=_Authenticator(*credentials), auth_require_tls=False)
        self._controller = _FreePortController(self, hostname=self.host, port=0, **options)

    # -- lifecycle

    def start(self) -> SMTPServer:
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- aiosmtpd handler hook (runs in the server's thread)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = self._parser.parsebytes(envelope.original_content or envelope.content)
        message.envelope_from = envelope.mail_from
        message.envelope_to = tuple(envelope.rcpt_tos)
        message.authenticated_as = session.auth_data if session.authenticated else None
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    # -- what the tests use

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of every message received since the last :meth:`clear`."""
        with self._changed:
            return list(self._messages)

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        address = address.lower()
        return [m for m in self.messages if address in (to.lower() for to in m.envelope_to)]

    def clear(self) -> None:
        with self._changed:
            self._messages.clear()

    def wait_for(
        self, predicate: Callable[[list[ReceivedMessage]], Any], timeout: float = 5
    ) -> Any:
        """Wait until ``predicate(messages)`` is truthy and return its value.

        Raises AssertionError, listing what did arrive, after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate(list(self._messages))
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    received = [(m["To"], m["Subject"]) for m in self._messages]
                    raise AssertionError(f"no matching mail after {timeout}s; got {received}")
                self._changed.wait(remaining)

    def wait_for_message_to(self, address: str, timeout: float = 5) -> ReceivedMessage:
        """The first message to ``address``, waiting for it if need be."""
        return self.wait_for(lambda _: self.messages_to(address), timeout)[0]

    text_of = staticmethod(text_of)
    html_of = staticmethod(html_of)
    links_in = staticmethod(links_in)


class _Authenticator:
    def __init__(self, username: str, password: str) -> None:
        self.username = username.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username
            and auth_data.password == self.password
        )
        # handled=False: aiosmtpd answers 535 itself on a failure.
        return AuthResult(
            success=ok, handled=False, auth_data=self.username.decode() if ok else None
        )
