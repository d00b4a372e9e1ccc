"""Start the production topology on this machine: gunicorn (gunicorn.conf.py) behind nginx.

Used by tests/deploy/test_nginx_topology.py and bench/slowloris.py; ``make serve-production``
(scripts/nginx/serve.py) starts the same processes under its supervisor.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from scripts.nginx.render import nginx_command, render_standalone

ROOT = Path(__file__).resolve().parent.parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"


def nginx_binary() -> str | None:
    """Debian's nginx (``make nginx-deps``), or None when it is not installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(port: int, target: str = "wsgi:app") -> list[str]:
    return [
        str(Path(sys.executable).with_name("gunicorn")),
        "-c",
        str(GUNICORN_CONF),
        "--bind",
        f"127.0.0.1:{port}",
        target,
    ]


def wait_for_http(port: int, host: str, path: str = "/healthz", timeout: float = 60.0) -> None:
    """Until ``path`` answers anything but a 502/503 from nginx (the app is up)."""
    import http.client

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Host": host})
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"127.0.0.1:{port}{path} did not answer within {timeout:.0f}s")
        time.sleep(0.3)


def stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM to the process group it leads (gunicorn's workers, nginx's), then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], target: str = "wsgi:app", port: int | None = None
) -> Iterator[int]:
    """gunicorn with the production settings on a free port; yields the port."""
    port = port or free_port()
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        gunicorn_command(port, target), env=env, cwd=ROOT, start_new_session=True
    )
    try:
        yield port
    finally:
        stop(process)


@contextlib.contextmanager
def nginx(
    app, prefix: Path, upstream_port: int, *, port: int | None = None, **render_options
) -> Iterator[int]:
    """nginx rendered from the templates for ``app``'s static folders; yields its port."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (make nginx-deps)")
    port = port or free_port()
    render_options.setdefault("access_log", False)
    render_standalone(
        app,
        prefix,
        upstream=f"127.0.0.1:{upstream_port}",
        listen=f"127.0.0.1:{port}",
        **render_options,
    )
    process = subprocess.Popen(
        nginx_command(prefix, binary),
        cwd=prefix,
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited at start: {process.stderr.read()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not listen within 10 s")
            time.sleep(0.05)
        yield port
    finally:
        stop(process)
