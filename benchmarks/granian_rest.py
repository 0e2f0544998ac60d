"""Issue 19's `rest-granian` arm: the runtime's own REST path (layers, dispatch table, plans,
invoker) served by granian (RSGI) + uvloop, upstream over pyreqwest.

The worker builds the runtime as `naftiko run` does (`Runtime.prepare`: plan, invokers) and
serves the first REST address's adapters through `benchmarks.rsgi.RsgiApp`.
Logging is configured as `naftiko run`'s defaults (text, info: one access line per request).

    GRANIAN_REST_FILE=bench-rest.yaml GRANIAN_REST_UPSTREAM=http://127.0.0.1:8081 \\
        granian --interface rsgi --loop uvloop benchmarks.granian_rest:app
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchmarks.rsgi import RsgiApp
from naftiko_runtime import logs
from naftiko_runtime.exposes.rest.app import build_rest_app
from naftiko_runtime.runtime import RunOptions
from naftiko_runtime.runtime.run import Runtime


class App:
    def __init__(self) -> None:
        self.inner: RsgiApp | None = None
        self.runtime: Runtime | None = None

    def __rsgi_init__(self, loop: Any) -> None:
        """Built in the worker, on its loop (not yet running here)."""
        logs.configure("text", "info")
        options = RunOptions(files=[Path(os.environ["GRANIAN_REST_FILE"])],
                             upstreams={"up": os.environ["GRANIAN_REST_UPSTREAM"]},
                             http_client=os.environ.get("GRANIAN_REST_CLIENT", "pyreqwest"))
        self.runtime = Runtime(options)
        loop.run_until_complete(self.runtime.prepare())
        mounted = next(iter(self.runtime.rest_mounts().values()))
        service = build_rest_app(mounted, self.runtime.readiness, max_body=options.max_body, body_timeout=0,
                                 cors_origins=options.cors_origins, interim=False)
        self.inner = RsgiApp(service)

    def __rsgi_del__(self, loop: Any) -> None:
        if self.runtime is not None:
            loop.run_until_complete(self.runtime.layers.close())

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        assert self.inner is not None
        await self.inner.__rsgi__(scope, proto)


app = App()
