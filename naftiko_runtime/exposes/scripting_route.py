"""The control adapter's `/scripting` (GET and PUT), as the reference serves it.

`GET /scripting` -> `{enabled, defaultLocation, defaultLanguage, timeout, statementLimit,
allowedLanguages, stats: {totalExecutions, totalErrors, averageDurationMs, lastExecutionAt}}`;
`PUT /scripting` with some of those fields changes them for the script steps run next and
answers the new state, or 400 naming what is wrong (and changes nothing).
"""

from __future__ import annotations

import json

from aiohttp import web

from ..invoke.governance import ScriptGovernance


def add_scripting_routes(app: web.Application, governance: ScriptGovernance) -> None:
    async def show(_: web.Request) -> web.Response:
        return web.json_response(governance.as_json())

    async def change(request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return web.json_response({"error": "invalid_request", "message": "the body is not JSON"}, status=400)
        refused = governance.update(body)
        if refused is not None:
            return web.json_response({"error": "invalid_request", "message": refused}, status=400)
        return web.json_response(governance.as_json())

    app.router.add_get("/scripting", show)
    app.router.add_put("/scripting", change)
