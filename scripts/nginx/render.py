#!/usr/bin/env python3
"""Render the nginx configuration of Pnyx from the templates next to this file.

``render.py --upstream 127.0.0.1:8000 --listen 80 --site-only --out /etc/nginx/conf.d/pnyx.conf``
writes the site (upstream + server) for a system nginx; without ``--site-only`` it writes
a standalone ``PREFIX/nginx.conf`` (with ``PREFIX/pnyx.conf``) whose pid, logs and
temporary files all live under ``--prefix``, for ``nginx -p PREFIX -c PREFIX/nginx.conf
-g 'daemon off;'`` (``make serve-production``, tests/deploy/test_nginx_topology.py).

The static locations come from the app's own URL map: every ``static`` rule (the app's
``/static/`` and each feature blueprint's folder) becomes an nginx ``alias`` of the same
folder, so a feature adding a static folder is served by nginx without editing anything.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SITE_TEMPLATE = HERE / "pnyx.conf.template"
MAIN_TEMPLATE = HERE / "nginx.conf.template"
ERRORS_DIR = HERE / "errors"

# The largest upload route of the app (proposal photos of 8-12 MB phones, census lists,
# practice-library attachments) fits under it; the app refuses per view what exceeds its
# own limit, with its French message and the form kept.
DEFAULT_MAX_BODY = "25m"
# Static URLs carry no version: a short lifetime, revalidated with ETag/Last-Modified.
DEFAULT_STATIC_MAX_AGE = "10m"
_MARKER = re.compile(r"@[A-Z_]+@")


@dataclass(frozen=True)
class StaticLocation:
    url_prefix: str  # "/static/", "/reunions-static/"
    folder: Path


def static_locations(app) -> list[StaticLocation]:
    """The URL prefix and folder of every static rule of ``app`` (a Flask app)."""
    found: dict[str, Path] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static" and not rule.endpoint.endswith(".static"):
            continue
        owner = app if rule.endpoint == "static" else app.blueprints[rule.endpoint[:-7]]
        if not owner.static_folder or not rule.rule.endswith("/<path:filename>"):
            continue
        prefix = rule.rule[: -len("<path:filename>")]
        folder = Path(owner.static_folder).resolve()
        if found.setdefault(prefix, folder) != folder:
            # Two sites serving different folders at one URL: nginx cannot tell them apart.
            raise ValueError(f"{prefix} is served from {found[prefix]} and {folder}")
    # Longest first only for reading: nginx picks the longest matching prefix anyway.
    return [StaticLocation(p, f) for p, f in sorted(found.items(), key=lambda i: -len(i[0]))]


def _static_block(location: StaticLocation, max_age: str) -> str:
    return (
        f"    location ^~ {location.url_prefix} {{\n"
        f"        alias {location.folder}/;\n"
        f"        expires {max_age};\n"
        "        add_header X-Content-Type-Options nosniff always;\n"
        "        access_log off;\n"
        "    }"
    )


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    if leftover := _MARKER.findall(template):
        raise ValueError(f"unfilled markers in the nginx template: {sorted(set(leftover))}")
    return template


def render_site(
    app,
    *,
    upstream: str,
    listen: str,
    max_body: str = DEFAULT_MAX_BODY,
    static_max_age: str = DEFAULT_STATIC_MAX_AGE,
    errors_dir: Path = ERRORS_DIR,
) -> str:
    blocks = "\n".join(_static_block(loc, static_max_age) for loc in static_locations(app))
    return _fill(
        SITE_TEMPLATE.read_text(),
        {
            "UPSTREAM": upstream,
            "LISTEN": listen,
            "MAX_BODY": max_body,
            "ERRORS_DIR": str(errors_dir.resolve()),
            "STATIC_LOCATIONS": blocks,
        },
    )


def _everyone_can_traverse(path: Path) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def _user_line(prefix: Path) -> str:
    """nginx started as root switches its workers to another user: ``nobody``, who must
    reach the temporary folders under the prefix (nginx chowns them, not their parents)."""
    if os.geteuid() != 0:
        return "# not root: the workers run as the user who starts nginx"
    try:
        nobody = pwd.getpwnam("nobody")
        group = grp.getgrgid(nobody.pw_gid).gr_name
    except KeyError:
        nobody = None
    if nobody is not None and _everyone_can_traverse(prefix):
        return f"user nobody {group};"
    # A prefix inside a private folder (0700): the workers stay root rather than fail on
    # their temporary files. Only for local runs; production uses the system nginx.
    return "user root root;"


def render_standalone(
    app,
    prefix: Path,
    *,
    upstream: str,
    listen: str,
    max_body: str = DEFAULT_MAX_BODY,
    static_max_age: str = DEFAULT_STATIC_MAX_AGE,
    worker_processes: str = "auto",
    access_log: bool = True,
) -> Path:
    """Write ``prefix/nginx.conf`` and ``prefix/pnyx.conf``; return the former."""
    prefix = prefix.resolve()
    for folder in (prefix, prefix / "logs", prefix / "temp"):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
    (prefix / "pnyx.conf").write_text(
        render_site(
            app,
            upstream=upstream,
            listen=listen,
            max_body=max_body,
            static_max_age=static_max_age,
        )
    )
    main = _fill(
        MAIN_TEMPLATE.read_text(),
        {
            "PREFIX": str(prefix),
            "USER_LINE": _user_line(prefix),
            "WORKER_PROCESSES": worker_processes,
            "ACCESS_LOG": f"{prefix}/logs/access.log pnyx" if access_log else "off",
        },
    )
    conf = prefix / "nginx.conf"
    conf.write_text(main)
    return conf


def nginx_command(prefix: Path, nginx: str = "nginx") -> list[str]:
    """nginx in the foreground (its supervisor stops it with SIGTERM or SIGQUIT)."""
    return [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", default="127.0.0.1:8000", help="gunicorn's address")
    parser.add_argument("--listen", default="80", help="nginx's listen (port or addr:port)")
    parser.add_argument("--max-body", default=DEFAULT_MAX_BODY, help="client_max_body_size")
    parser.add_argument("--static-max-age", default=DEFAULT_STATIC_MAX_AGE)
    parser.add_argument("--prefix", type=Path, help="standalone: folder of conf, pid, logs")
    parser.add_argument("--site-only", action="store_true", help="only the site (conf.d)")
    parser.add_argument("--out", type=Path, help="with --site-only: file to write (- = stdout)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from core import create_app

    app = create_app()
    if args.site_only:
        text = render_site(
            app,
            upstream=args.upstream,
            listen=args.listen,
            max_body=args.max_body,
            static_max_age=args.static_max_age,
        )
        if args.out is None or str(args.out) == "-":
            sys.stdout.write(text)
        else:
            args.out.write_text(text)
        return 0
    if args.prefix is None:
        parser.error("--prefix is needed without --site-only")
    conf = render_standalone(
        app,
        args.prefix,
        upstream=args.upstream,
        listen=args.listen,
        max_body=args.max_body,
        static_max_age=args.static_max_age,
    )
    print(f"nginx configuration written to {conf}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
