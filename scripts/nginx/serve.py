#!/usr/bin/env python3
"""``make serve-production``: Pnyx on this machine as production runs it.

nginx on 127.0.0.1:$PORT (5000) in front of gunicorn (gunicorn.conf.py) on
127.0.0.1:$APP_PORT ($PORT + 1), plus the worker, the jobs outbox relay and the scheduler.
The services around them are those of ``make run`` (scripts/run.py): DATABASE_URL and
REDIS_URL from the environment or the embedded PostgreSQL and Redis under instance/, the
mail sink, then ``tenants migrate`` and ``demo seed`` (not with PNYX_ENV=production, where
the demo accounts must not exist). nginx's configuration, pid, logs and temporary files
are under instance/nginx/. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import run  # noqa: E402 - scripts/run.py: the supervisor of `make run`

from scripts.nginx.render import nginx_command  # noqa: E402
from scripts.nginx.topology import gunicorn_command, nginx_binary  # noqa: E402

PREFIX = run.INSTANCE / "nginx"


def serve(sup: run.Supervisor) -> int:
    port = int(os.environ.get("PORT") or run.DEFAULT_PORT)
    app_port = int(os.environ.get("APP_PORT") or port + 1)
    binary = nginx_binary()
    if binary is None:
        run.fail("nginx is not installed: run `make nginx-deps` (apt-get install nginx).")
        return 1
    for needed in (port, app_port):
        if not run.port_is_free("127.0.0.1", needed):
            run.fail(f"port {needed} is in use; choose others: make serve-production PORT=...")
            return 1

    sup.prepare_services(port)
    sup.prepare_mail()
    # nginx is the one proxy in front: ProxyFix trusts exactly its X-Forwarded-* headers.
    sup.env["TRUSTED_PROXY_COUNT"] = "1"
    sup.run_step("migrate", run.flask_command("tenants", "migrate"))
    sup.check_stop()
    if sup.env.get("PNYX_ENV") == "production":
        run.say("PNYX_ENV=production: no demo seed")
    else:
        sup.run_step("seed", run.flask_command("demo", "seed"))
    sup.check_stop()
    sup.run_step(
        "nginx-config",
        [
            sys.executable,
            "-u",
            str(HERE / "render.py"),
            "--prefix",
            str(PREFIX),
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            f"127.0.0.1:{app_port}",
        ],
    )
    sup.check_stop()

    sup.spawn("web", gunicorn_command(app_port))
    sup.spawn("worker", run.flask_command("worker"))
    if importlib.util.find_spec("core.outbox") is not None:
        # Hands the jobs written in the outbox table to rq (docs/deployment.md).
        sup.spawn("relay", run.flask_command("jobs", "relay"))
    if importlib.util.find_spec("core.scheduler") is not None:
        sup.spawn("scheduler", run.flask_command("jobs", "scheduler"))
    else:
        sup.spawn(
            "scheduler",
            [sys.executable, "-m", "rq.cli", "cron", "core.cron", "--url", sup.env["REDIS_URL"]],
        )
    sup.spawn("nginx", nginx_command(PREFIX, binary))

    announced = False
    while sup.signal_received is None:
        for name, process in sup.children.items():
            if (code := process.poll()) is not None:
                run.fail(f"the {name} process exited (code {code}); stopping the rest.")
                return 1
        if not announced and run.port_answers("127.0.0.1", port):
            banner(sup, port, app_port)
            announced = True
        time.sleep(0.2)
    return 0


def banner(sup: run.Supervisor, port: int, app_port: int) -> None:
    domain = sup.env["PLATFORM_DOMAIN"]
    lines = [
        "",
        f"Pnyx is running behind nginx ({sup.env['PNYX_ENV']}):",
        f"  Platform    http://{domain}/",
        *(f"  Tenant      http://{slug}.{domain}/" for slug in run.DEMO_TENANTS),
        f"  nginx       127.0.0.1:{port} (files in {run.relative(PREFIX)}/)",
        f"  gunicorn    127.0.0.1:{app_port} (gunicorn.conf.py); worker, relay, scheduler",
        f"  E-mails     {sup.mail_note}",
        "Press Ctrl-C to stop everything.",
        "",
    ]
    print("\n".join(lines), flush=True)


def main() -> int:
    os.chdir(ROOT)
    sup = run.Supervisor()
    sup.install_signal_handlers()
    code = 0
    try:
        code = serve(sup)
    except run.Stopped:
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except run.embedded.EmbeddedServiceError as exc:
        run.fail(str(exc))
        code = 1
    finally:
        sup.stop_all()
    return code


if __name__ == "__main__":
    sys.exit(main())
