#!/usr/bin/env python3
"""Run Pnyx on this machine, with nothing else installed: what ``make run`` executes.

``run.py`` (or ``run.py serve``):
  1. DATABASE_URL / REDIS_URL unset: starts the embedded PostgreSQL and Redis
     (core/devtools/embedded.py) with their data under instance/, kept from one run to the next;
  2. SMTP_HOST unset and 127.0.0.1:1025 free: starts a mail sink that writes every e-mail
     to instance/mail/ (nothing is delivered);
  3. runs ``flask --app wsgi tenants migrate`` then ``flask --app wsgi demo seed``;
  4. starts the web server (``flask run --debug`` on 127.0.0.1:$PORT, 5000 by default),
     the worker (``flask worker``), the jobs outbox relay (``flask jobs relay``) and the
     periodic scheduler (``flask jobs scheduler``), and prints the addresses to open.
  Ctrl-C or SIGTERM stops all it started. A child that dies is started again after a pause
  (1 s, doubling up to 30 s): the others keep running (docs/features/jobs.md).

``run.py flask ARGS...``: ``flask --app wsgi ARGS...`` in the same environment (embedded
services started, and stopped afterwards, when needed): ``make migrate``, ``seed``, ``worker``.

``run.py stop-services``: stops embedded servers of instance/ left running by a run that was
killed (``make clean-instance`` calls it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
PGDATA = INSTANCE / "pgdata"
REDIS_DIR = INSTANCE / "redis"
MAIL_DIR = INSTANCE / "mail"
RUN_STATE = INSTANCE / "run.json"  # this script's pid and its children's, for a run killed -9
DEMO_TENANTS = ("mulhouse", "saillans", "angers")
DEFAULT_PORT = 5000
DEFAULT_SMTP_PORT = 1025
CHILD_STOP_TIMEOUT = {"web": 5.0, "worker": 15.0, "relay": 5.0, "scheduler": 5.0}
RESTART_PAUSE_MAX = 30.0  # seconds between two restarts of a child that keeps dying
RESTART_PAUSE_RESET = 60.0  # a child that ran this long starts again after 1 s

sys.path.insert(0, str(ROOT))

from core.devtools import embedded  # noqa: E402 - needs ROOT on sys.path; imports neither Flask nor app


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[run] ERROR: {message}", file=sys.stderr, flush=True)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- mail sink


class MailSink:
    """A development SMTP server: each message is written to a folder as an .eml file."""

    def __init__(self, host: str, port: int, folder: Path) -> None:
        self.host, self.port, self.folder = host, port, folder
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(
                    asyncio.start_server(self._session, self.host, self.port, limit=1 << 20)
                )
            except OSError as exc:
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                server.close()
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name="mail-sink", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            self._loop = self._thread = None
            raise errors[0]

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop = self._thread = None

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(text: str) -> None:
            writer.write(text.encode() + b"\r\n")
            await writer.drain()

        sender, recipients = "", []
        try:
            await reply("220 pnyx.localhost Pnyx development mail sink (nothing is delivered)")
            while True:
                raw = await reader.readline()
                if not raw:
                    break
                verb, _, argument = raw.decode("utf-8", "replace").strip().partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    await reply("250-pnyx.localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 HELP")
                elif verb == "HELO":
                    await reply("250 pnyx.localhost")
                elif verb == "MAIL":
                    sender, recipients = _address(argument), []
                    await reply("250 2.1.0 OK")
                elif verb == "RCPT":
                    recipients.append(_address(argument))
                    await reply("250 2.1.5 OK")
                elif verb == "DATA":
                    if not recipients:
                        await reply("503 5.5.1 RCPT first")
                        continue
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        raw = await reader.readline()
                        if not raw:
                            return
                        if raw in (b".\r\n", b".\n"):
                            break
                        lines.append(raw[1:] if raw.startswith(b".") else raw)  # dot-stuffing
                    path = self._save(sender, recipients, b"".join(lines))
                    sender, recipients = "", []
                    await reply(f"250 2.0.0 OK saved as {path.name}")
                elif verb == "RSET":
                    sender, recipients = "", []
                    await reply("250 2.0.0 OK")
                elif verb == "NOOP":
                    await reply("250 2.0.0 OK")
                elif verb == "QUIT":
                    await reply("221 2.0.0 Bye")
                    break
                else:
                    await reply("502 5.5.2 Command not implemented")
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()

    def _save(self, sender: str, recipients: list[str], data: bytes) -> Path:
        name = f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}.eml"
        path = self.folder / name
        envelope = f"X-Envelope-From: <{sender}>\r\nX-Envelope-To: {', '.join(recipients)}\r\n"
        path.write_bytes(envelope.encode() + data)
        try:
            subject = BytesParser(policy=policy.default).parsebytes(data, headersonly=True)[
                "subject"
            ]
        except Exception:
            subject = None
        say(f"e-mail to {', '.join(recipients)}: {subject or '(no subject)'} -> {relative(path)}")
        return path


def _address(argument: str) -> str:
    # "FROM:<a@b> SIZE=12" -> "a@b"
    value = argument.partition(":")[2].strip()
    if value.startswith("<"):
        return value[1:].partition(">")[0]
    return value.split(" ", 1)[0]


# --------------------------------------------------------------------------- supervisor


class Stopped(Exception):
    """Ctrl-C or SIGTERM while starting up."""


class Supervisor:
    """Owns what this script starts, and stops it in reverse order."""

    def __init__(self) -> None:
        self.signal_received: int | None = None
        self.postgres: embedded.EmbeddedPostgres | None = None
        self.redis: embedded.EmbeddedRedis | None = None
        self.mail_sink: MailSink | None = None
        self.mail_note = ""
        self.children: dict[str, subprocess.Popen] = {}
        self.env = dict(os.environ)

    # signals ---------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame) -> None:
        # Only a flag: printing here could re-enter a print of the main thread.
        if self.signal_received is None:
            self.signal_received = signum

    def check_stop(self) -> None:
        if self.signal_received is not None:
            raise Stopped

    # environment -----------------------------------------------------------
    def prepare_services(self, port: int) -> None:
        INSTANCE.mkdir(exist_ok=True)
        if self.env.get("DATABASE_URL"):
            say("PostgreSQL: DATABASE_URL from the environment")
        else:
            started = time.perf_counter()
            self.postgres = embedded.start_postgres(PGDATA)
            how = "started" if self.postgres.started else "already running, reused"
            say(
                f"PostgreSQL 16 (embedded, {how} in {time.perf_counter() - started:.1f}s, "
                f"data in {relative(PGDATA)})"
            )
            self.env["DATABASE_URL"] = self.postgres.url
        self.check_stop()

        if self.env.get("REDIS_URL"):
            say("Redis: REDIS_URL from the environment")
        else:
            started = time.perf_counter()
            self.redis = embedded.start_redis(REDIS_DIR)
            how = "started" if self.redis.started else "already running, reused"
            say(
                f"Redis (embedded, {how} in {time.perf_counter() - started:.1f}s, "
                f"data in {relative(REDIS_DIR)})"
            )
            self.env["REDIS_URL"] = self.redis.url
        self.check_stop()

        self.env.setdefault("PNYX_ENV", "development")
        self.env.setdefault("PLATFORM_DOMAIN", f"pnyx.localhost:{port}")
        self.env.setdefault("PYTHONUNBUFFERED", "1")

    def prepare_mail(self) -> None:
        host = self.env.get("SMTP_HOST")
        smtp_port = int(self.env.get("SMTP_PORT") or DEFAULT_SMTP_PORT)
        if host:
            self.mail_note = f"sent to the SMTP server {host}:{smtp_port} (SMTP_HOST)"
            return
        self.env["SMTP_HOST"], self.env["SMTP_PORT"] = "127.0.0.1", str(smtp_port)
        if not port_is_free("127.0.0.1", smtp_port):
            self.mail_note = f"sent to the SMTP server already listening on 127.0.0.1:{smtp_port}"
            return
        sink = MailSink("127.0.0.1", smtp_port, MAIL_DIR)
        try:
            sink.start()
        except OSError as exc:
            self.mail_note = f"sent to 127.0.0.1:{smtp_port}, where the mail sink failed: {exc}"
            return
        self.mail_sink = sink
        self.mail_note = (
            f"written to {relative(MAIL_DIR)}/ as .eml files "
            f"(SMTP sink on 127.0.0.1:{smtp_port}, nothing is delivered)"
        )

    # children ----------------------------------------------------------------
    def spawn(self, name: str, command: list[str], *, own_session: bool = True):
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=own_session)
        self.children[name] = process
        self._save_state()
        return process

    def _save_state(self) -> None:
        if not INSTANCE.exists():
            return
        state = {
            "pid": os.getpid(),
            "children": {name: p.pid for name, p in self.children.items() if p.poll() is None},
        }
        with contextlib.suppress(OSError):
            RUN_STATE.write_text(json.dumps(state))

    def run_step(self, name: str, command: list[str]) -> None:
        """Run a command to its end; raise SystemExit when it fails."""
        say(f"{name}: {' '.join(command[2:])}")
        process = self.spawn(name, command)
        while process.poll() is None:
            if self.signal_received is not None:
                self.stop_child(name, process, timeout=10)
                raise Stopped
            time.sleep(0.1)
        del self.children[name]
        if process.returncode != 0:
            fail(f"{name} failed (exit code {process.returncode}); see its output above.")
            raise SystemExit(process.returncode or 1)

    def stop_child(self, name: str, process: subprocess.Popen, timeout: float) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop within {timeout:.0f}s, killing it")
        # The leader is gone or stuck: end what remains of its process group (the
        # reloader's child, a job's work horse).
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            try:
                os.killpg(process.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _group_alive(process.pid):
                time.sleep(0.05)
                process.poll()
            if not _group_alive(process.pid):
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(1)

    def stop_all(self) -> None:
        for name, process in reversed(list(self.children.items())):
            if process.poll() is None:
                say(f"stopping {name}...")
            self.stop_child(name, process, CHILD_STOP_TIMEOUT.get(name, 10.0))
        self.children.clear()
        if RUN_STATE.exists() and _read_state().get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                RUN_STATE.unlink()
        if self.mail_sink is not None:
            self.mail_sink.stop()
            self.mail_sink = None
        for label, service in (("Redis", self.redis), ("PostgreSQL", self.postgres)):
            if service is None:
                continue
            if service.owned:
                say(f"stopping {label}...")
            try:
                service.stop()
            except Exception as exc:
                fail(f"could not stop {label}: {exc}")
        self.redis = self.postgres = None


def _read_state() -> dict:
    try:
        return json.loads(RUN_STATE.read_text())
    except (OSError, ValueError):
        return {}


def stop_leftovers() -> None:
    """Stop the web server and worker of a previous run that was killed (kill -9)."""
    state = _read_state()
    if not state or embedded._pid_alive(state.get("pid")):
        return  # nothing recorded, or that run is alive (port check will tell)
    for name, pid in state.get("children", {}).items():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            cwd = Path(f"/proc/{pid}/cwd").resolve()
        except OSError:
            continue
        if b"flask" not in cmdline or cwd != ROOT:
            continue  # the pid now belongs to another program
        say(f"stopping the {name} left running by a previous run (pid {pid})")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        RUN_STATE.unlink()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- commands


def banner(sup: Supervisor, port: int) -> None:
    domain = sup.env["PLATFORM_DOMAIN"]
    scheme = "http"
    width = 12
    lines = [
        "",
        f"Pnyx is running ({sup.env['PNYX_ENV']}). Open in Chromium (*.localhost is this machine):",
        f"  {'Platform':<{width}}{scheme}://{domain}/",
    ]
    for index, slug in enumerate(DEMO_TENANTS):
        label = "Tenants" if index == 0 else ""
        lines.append(f"  {label:<{width}}{scheme}://{slug}.{domain}/")
    lines += [
        f"  {'E-mails':<{width}}{sup.mail_note}",
        f"  {'PostgreSQL':<{width}}{sup.env['DATABASE_URL']}",
        f"  {'Redis':<{width}}{sup.env['REDIS_URL']}",
        f"  {'Web server':<{width}}127.0.0.1:{port} (flask run --debug, reloads on change)",
        "Press Ctrl-C to stop everything.",
        "",
    ]
    print("\n".join(lines), flush=True)


def serve(sup: Supervisor) -> int:
    port = int(os.environ.get("PORT") or DEFAULT_PORT)
    if not (ROOT / "wsgi.py").exists():
        fail("wsgi.py is missing at the root of the repository: there is no app to run.")
        return 1
    stop_leftovers()
    if not port_is_free("127.0.0.1", port):
        fail(
            f"port {port} is already in use (another `make run`?). "
            f"Stop it, or choose another port: make run PORT={port + 1}"
        )
        return 1

    sup.prepare_services(port)
    sup.prepare_mail()
    sup.run_step("migrate", flask_command("tenants", "migrate"))
    sup.check_stop()
    sup.run_step("seed", flask_command("demo", "seed"))
    sup.check_stop()

    commands = {
        "web": flask_command("run", "--host", "127.0.0.1", "--port", str(port), "--debug"),
        "worker": flask_command("worker"),
        # Hands the jobs written by the web requests (outbox) to the worker's queues.
        "relay": flask_command("jobs", "relay"),
        # The periodic jobs (digests, reminders, nightly figures, sweeps): core/cron.py.
        "scheduler": flask_command("jobs", "scheduler"),
    }
    for name, command in commands.items():
        sup.spawn(name, command)
    restart_at: dict[str, float] = {}  # children waiting to be started again
    pauses: dict[str, float] = {}
    started_at = {name: time.monotonic() for name in commands}

    announced = False
    started = time.monotonic()
    while sup.signal_received is None:
        for name, process in list(sup.children.items()):
            code = process.poll()
            if code is None or name in restart_at:
                continue
            # One child down is no reason to stop the others: start it again after a pause.
            ran = time.monotonic() - started_at[name]
            pause = pauses.get(name, 0.0)
            pause = 1.0 if ran > RESTART_PAUSE_RESET or not pause else pause * 2
            pauses[name] = pause = min(pause, RESTART_PAUSE_MAX)
            fail(f"the {name} process exited (code {code}); starting it again in {pause:.0f}s")
            sup.stop_child(name, process, timeout=1.0)  # what is left of its process group
            restart_at[name] = time.monotonic() + pause
        for name, when in list(restart_at.items()):
            if time.monotonic() >= when:
                say(f"starting {name} again")
                sup.spawn(name, commands[name])
                started_at[name] = time.monotonic()
                del restart_at[name]
        if not announced and port_answers("127.0.0.1", port):
            banner(sup, port)
            announced = True
        elif not announced and time.monotonic() - started > 60:
            say(f"the web server does not answer on 127.0.0.1:{port} after 60s; still waiting")
            started = time.monotonic()
        time.sleep(0.2)
    return 0


def run_flask(sup: Supervisor, args: list[str]) -> int:
    """``flask --app wsgi ARGS`` in the foreground, embedded services around it."""
    port = int(os.environ.get("PORT") or DEFAULT_PORT)
    sup.prepare_services(port)
    # The child stays in the terminal's process group: Ctrl-C reaches it (and an
    # interactive `flask shell` works); this script waits for it, then stops the services.
    process = sup.spawn("flask", flask_command(*args), own_session=False)
    forwarded = False
    while process.poll() is None:
        if sup.signal_received not in (None, signal.SIGINT) and not forwarded:
            process.send_signal(signal.SIGTERM)  # SIGTERM or SIGHUP sent to this script only
            forwarded = True
        time.sleep(0.1)
    return process.returncode


def stop_services() -> int:
    status = 0
    for label, attach, folder in (
        ("PostgreSQL", embedded.running_postgres, PGDATA),
        ("Redis", embedded.running_redis, REDIS_DIR),
    ):
        if not folder.exists():
            continue
        service = attach(folder)
        if service is None:
            continue
        if not service.owned:
            owner = embedded._read_owner(folder)
            fail(f"{label} in {relative(folder)} is in use by process {owner}: stop it first.")
            status = 1
            continue
        say(f"stopping {label} in {relative(folder)}...")
        service.stop()
    return status


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    command = argv[0] if argv else "serve"
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if command == "stop-services":
        return stop_services()
    if command not in ("serve", "flask"):
        fail(f"unknown command {command!r}; see scripts/run.py --help")
        return 2

    sup = Supervisor()
    sup.install_signal_handlers()
    code = 0
    try:
        if command == "serve":
            code = serve(sup)
        else:
            if len(argv) < 2:
                fail("usage: run.py flask COMMAND [ARGS...]")
                return 2
            code = run_flask(sup, argv[1:])
    except Stopped:
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except embedded.EmbeddedServiceError as exc:
        fail(str(exc))
        code = 1
    finally:
        # Further signals must not interrupt the shutdown.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda signum, frame: None)
        if sup.signal_received is not None and command == "serve":
            print(flush=True)
            say(f"{signal.Signals(sup.signal_received).name} received, stopping...")
        sup.stop_all()
    if command == "serve":
        say("stopped." if code == 0 else f"stopped (exit code {code}).")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
