"""Request bodies are capped (core.security.body_limits): 1 MB outside the upload views,
refused with a French 413 page (JSON for API clients) before the body is read whole, be it
announced by Content-Length or sent chunked without one; the upload views still take their
files."""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time

import pytest
from werkzeug.serving import make_server

from tests.support import (
    PLATFORM,
    client_on,
    post,
    signed_in,
    text,
)
from tests.support.participation import citizen, make_process, proposal_row

WEBHOOK = "/billing/stripe/webhook"
UPLOAD_ENDPOINTS = (
    "staff.settings",
    "staff_processes.create",
    "staff_processes.edit",
    "proposals.new",
    "proposals.edit",
    "problems.new",
    "staff_budgets.census",
    "staff_budgets.follow_up",
    "network_library.upload",
    "network_commitments.new",
    "network_commitments.edit",
)


class EndlessBody(io.RawIOBase):
    """A request body of ``size`` announced bytes that are made up as they are read,
    counting what the app reads of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # the test client measures the body by seeking to its end

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size + offset if whence == 2 else offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        buffer[:] = b"a" * len(buffer)
        self.read_bytes += len(buffer)
        return len(buffer)


@pytest.fixture
def papp(proposals_app):
    return proposals_app


def test_the_global_limit_is_one_megabyte(papp):
    assert papp.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_a_huge_announced_body_is_refused_unread_with_a_french_page(papp, tenant):
    client = client_on(papp, tenant)
    body = EndlessBody(600 * 1024 * 1024)
    response = client.post(
        "/connexion",
        input_stream=body,
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 413
    page = text(response)
    assert "trop volumineuses" in page and "Revenir au formulaire" in page
    assert 'href="/connexion"' in page
    assert "Traceback" not in page
    assert body.read_bytes == 0


def test_api_clients_get_the_413_in_json(papp, tenant):
    client = client_on(papp, tenant)
    body = EndlessBody(5 * 1024 * 1024)
    response = client.post(
        "/connexion",
        input_stream=body,
        content_type="application/x-www-form-urlencoded",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["status"] == 413 and "trop volumineuses" in error["message"]
    assert body.read_bytes == 0


def _chunked_post(port: int, host: str, path: str, content_type: str) -> tuple[str, int]:
    """POST an endless chunked body to a real server; return the status line and how much
    was sent when it came back."""
    sent = 0
    stop = threading.Event()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)

    def send() -> None:
        nonlocal sent
        chunk = b"a" * 65536
        framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        try:
            while not stop.is_set():
                sock.sendall(framed)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection after its answer

    sock.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\nAccept: text/html\r\n\r\n"
        ).encode()
    )
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        answer = b""
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
        return answer.split(b"\r\n", 1)[0].decode(), sent
    finally:
        stop.set()
        sock.close()
        sender.join(5)


def test_chunked_bodies_are_cut_at_the_limit_while_streaming(papp, tenant):
    server = make_server("127.0.0.1", 0, papp, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for host, path, content_type in (
            (tenant.primary_host, "/connexion", "application/x-www-form-urlencoded"),
            (PLATFORM, WEBHOOK, "application/json"),
        ):
            started = time.monotonic()
            status, sent = _chunked_post(server.port, host, path, content_type)
            assert status.startswith("HTTP/1.1 413"), (path, status)
            # The body never ends: an answer at all means the app stopped reading it.
            assert time.monotonic() - started < 10
            assert sent < 256 * 1024 * 1024, (path, sent)
    finally:
        server.shutdown()
        thread.join(5)


def test_every_upload_view_raises_its_own_limit(papp):
    from core.security.body_limits import LIMITS_ATTRIBUTE

    missing = [
        endpoint
        for endpoint in UPLOAD_ENDPOINTS
        if endpoint in papp.view_functions
        and not getattr(papp.view_functions[endpoint], LIMITS_ATTRIBUTE, None)
    ]
    assert missing == []


def test_an_upload_view_still_takes_a_photo_over_the_global_limit(papp, tenant, today):
    from PIL import Image

    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    photo = io.BytesIO()
    noise.save(photo, format="PNG")
    assert photo.tell() > papp.config["MAX_CONTENT_LENGTH"]
    photo.seek(0)
    process_id = make_process(papp, tenant)
    client = signed_in(papp, tenant, citizen(papp, tenant))
    response = post(
        client,
        f"/demarches/{process_id}/propositions/nouvelle",
        {
            "title": "Un verger partagé derrière la médiathèque",
            "body": "Planter une vingtaine d'arbres fruitiers entretenus par les voisins.",
            "image": (photo, "verger.png"),
            "image_alt": "Des pommiers en fleurs dans un jardin public",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, text(response)[:2000]
    proposal_id = int(response.location.rsplit("/", 1)[1])
    assert re.fullmatch(
        r"[0-9a-f]{32}\.(png|jpg|webp)", proposal_row(papp, tenant, proposal_id)["image_path"]
    )
