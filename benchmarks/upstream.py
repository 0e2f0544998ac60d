"""The upstream stub every arm talks to: fixed JSON answers on loopback.

nginx serves `/small` (1 KB), `/large` (50 KB) and `/echo` (POST, a small fixed answer)
when it is installed; otherwise an aiohttp stub serves them. `/slow` (50 ms, then the
1 KB answer) always comes from the aiohttp stub, since plain nginx cannot wait.

    python -m benchmarks.upstream --port 9000   # the aiohttp stub alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
from pathlib import Path

SLOW_DELAY = 0.050


def small_payload() -> bytes:
    """About 1 KB of JSON."""
    doc = {
        "id": "ship-0001",
        "name": "Northern Star",
        "status": "active",
        "owner": {"id": "org-42", "name": "Blue Line Shipping"},
        "tags": ["cargo", "atlantic", "reefer"],
        "notes": "x" * 760,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def large_payload() -> bytes:
    """About 50 KB of JSON: five top-level fields worth keeping and a long list that is not."""
    doc = {
        "id": "fleet-7",
        "name": "Fleet Seven",
        "status": "active",
        "owner": "Blue Line Shipping",
        "updated": "2026-11-01T00:00:00Z",
        "vessels": [
            {"imo": f"IMO{9000000 + i}", "name": f"Vessel {i}", "flag": "PA", "tonnage": 1000 + i, "position": {"lat": 12.5, "lon": -45.25}}
            for i in range(520)
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def echo_payload() -> bytes:
    return b'{"accepted":true,"id":"req-1"}'


def post_body() -> bytes:
    """The 2 KB JSON body of the POST workload (an object with one `items` list)."""
    doc = {"items": [{"sku": f"SKU-{i:05d}", "qty": i % 7 + 1, "note": "pallet"} for i in range(48)]}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return raw


# -- aiohttp stub ------------------------------------------------------------------------
def make_app():  # type: ignore[no-untyped-def]
    from aiohttp import web

    small, large, echo = small_payload(), large_payload(), echo_payload()

    async def get_small(_: web.Request) -> web.Response:
        return web.Response(body=small, content_type="application/json")

    async def get_large(_: web.Request) -> web.Response:
        return web.Response(body=large, content_type="application/json")

    async def post_echo(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=echo, content_type="application/json")

    async def get_slow(_: web.Request) -> web.Response:
        await asyncio.sleep(SLOW_DELAY)
        return web.Response(body=small, content_type="application/json")

    app = web.Application()
    app.router.add_get("/small", get_small)
    app.router.add_get("/large", get_large)
    app.router.add_post("/echo", post_echo)
    app.router.add_get("/slow", get_slow)
    return app


def serve_stub(port: int) -> None:
    from aiohttp import web

    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    web.run_app(make_app(), host="127.0.0.1", port=port, access_log=None, print=None)


# -- nginx -------------------------------------------------------------------------------
def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


_COMMON = """
worker_processes 1;
daemon off;
master_process off;
error_log {dir}/error.log error;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
{body}
}}
"""


def nginx_upstream_conf(directory: Path, port: int) -> str:
    """nginx as the fixed-answer upstream: files for GET, a fixed `return` for POST."""
    (directory / "small.json").write_bytes(small_payload())
    (directory / "large.json").write_bytes(large_payload())
    echo = echo_payload().decode()
    body = f"""
  open_file_cache max=16 inactive=600s;
  open_file_cache_valid 600s;
  server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    default_type application/json;
    location = /small {{ alias {directory}/small.json; }}
    location = /large {{ alias {directory}/large.json; }}
    location = /echo {{ client_body_buffer_size 16k; return 200 '{echo}'; }}
  }}"""
    return _COMMON.format(dir=directory, body=body)


def nginx_proxy_conf(directory: Path, port: int, upstream_port: int, slow_port: int, workers: int = 1) -> str:
    """nginx `proxy_pass` with upstream keep-alive: the floor for any proxy hop."""
    body = f"""
  upstream fixed {{ server 127.0.0.1:{upstream_port}; keepalive 128; }}
  upstream slow {{ server 127.0.0.1:{slow_port}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    location = /slow {{ proxy_pass http://slow; }}
    location / {{ proxy_pass http://fixed; }}
  }}"""
    conf = _COMMON.format(dir=directory, body=body)
    if workers > 1:  # a master and `workers` worker processes, as nginx is run in production
        conf = conf.replace("worker_processes 1;\ndaemon off;\nmaster_process off;", f"worker_processes {workers};\ndaemon off;")
    return conf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    serve_stub(parser.parse_args().port)


if __name__ == "__main__":
    main()
