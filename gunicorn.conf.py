"""Production gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app``.

The benchmarks start gunicorn with this file too, so that what they measure is what
production runs. Every value can be changed from the environment (PNYX_GUNICORN_*).

Threaded workers (gthread): a request waiting on PostgreSQL or Redis does not hold a whole
process, and keep-alive connections are served without tying a worker up. One process per
core, a few threads each: with more processes than cores the kernel time-slices them and a
request waits out another process's slice (bench/load.py on the 2-core reference machine:
p95 29-42 ms with 2 workers against 36-66 ms with 3); more threads only add GIL contention.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


bind = os.environ.get("PNYX_GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("PNYX_GUNICORN_WORKERS", multiprocessing.cpu_count())
worker_class = os.environ.get("PNYX_GUNICORN_WORKER_CLASS", "gthread")
threads = _int("PNYX_GUNICORN_THREADS", 4)
backlog = _int("PNYX_GUNICORN_BACKLOG", 2048)
# Keep above nginx's upstream keepalive_timeout (4 s, scripts/nginx/pnyx.conf.template): nginx
# must be the side that closes an idle connection, or a POST sent as gunicorn closes is a 502.
keepalive = _int("PNYX_GUNICORN_KEEPALIVE", 5)
timeout = _int("PNYX_GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("PNYX_GUNICORN_GRACEFUL_TIMEOUT", 30)
# Worker recycling is off (0): a recycled worker drops its idle keep-alive connections, which
# clients see as errors, and no leak calls for it. Set it to bound one if ever needed.
max_requests = _int("PNYX_GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("PNYX_GUNICORN_MAX_REQUESTS_JITTER", 0)
loglevel = os.environ.get("PNYX_GUNICORN_LOGLEVEL", "warning")
accesslog = os.environ.get("PNYX_GUNICORN_ACCESSLOG") or None
errorlog = "-"
# Never exposed directly: nginx in front (scripts/nginx, docs/deployment.md) buffers requests,
# since a gthread worker gives a thread to each connection and reads it with no timeout (8
# slow clients held every thread: bench/slowloris.py). nginx terminates TLS; ProxyFix
# (TRUSTED_PROXY_COUNT=1) reads its X-Forwarded-For and X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("PNYX_GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# How long a thread may hold the GIL before another thread of the worker must get it. A
# gthread worker hands every request over twice between its main thread (accept, keep-alive
# poller) and a pool thread; with Python's default 5 ms, each hand-off could wait that long
# behind a busy thread. 1 ms: bench/load.py's bare route went from p95 54 ms to 24-43 ms,
# and from 1,526 to 1,785-2,022 req/s, on the 2-core reference machine.
_SWITCH_INTERVAL_MS = _float("PNYX_GUNICORN_SWITCH_INTERVAL_MS", 1.0)


def post_fork(server, worker):
    sys.setswitchinterval(_SWITCH_INTERVAL_MS / 1000)
