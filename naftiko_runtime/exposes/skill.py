"""The skill adapter: a read-only catalogue of skill groups over the capability's other adapters.

Routes (as the reference engine serves them):

- `GET /skills` -> `{count, skills: [{name, description, license?, tools: [names]}]}`
- `GET /skills/{name}` -> the skill's frontmatter fields and `tools: [{name, description, type,
  invocationRef{targetNamespace, action, mode} | instruction}]`; `mode` is `mcp` or `rest`
  after the sibling adapter that owns `sourceNamespace`, `unknown` when none does
- `GET /skills/{name}/contents` -> `{name, files: [{path, size, type}]}` of the skill's `location` folder
- `GET /skills/{name}/contents/{file}` -> that file (never outside the folder)
- `GET /skills/{name}/download` -> the folder as a zip (`<name>.zip`)

Unknown skills, skills without `location` and missing files answer 404 as JSON.
`/health/live` and `/health/ready` are served here too, as on every port the runtime opens.
"""

from __future__ import annotations

import io
import json
import mimetypes
import zipfile
from pathlib import Path
from typing import Any

from aiohttp import web

from ..capability.model import Capability, McpAdapter, OtherAdapter, RestAdapter
from .auth import Credentials
from ..capability.locations import resolve_location
from .health import Readiness, add_health_routes

FRONTMATTER = ("license", "compatibility", "argument-hint", "allowed-tools", "user-invocable", "disable-model-invocation")


def _error(status: int, error: str, message: str) -> web.Response:
    return web.Response(status=status, text=json.dumps({"error": error, "message": message}), content_type="application/json")


def _media_type(name: str) -> str:
    if name.endswith(".md"):
        return "text/markdown"
    if name.endswith((".yml", ".yaml")):
        return "application/yaml"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class SkillCatalog:
    """The skills of one skill adapter, with the namespaces of their sibling adapters."""

    def __init__(self, adapter: OtherAdapter, capability: Capability) -> None:
        self.adapter = adapter
        self.base_dir = capability.base_dir
        self.skills: list[dict[str, Any]] = [s for s in adapter.raw.get("skills") or [] if isinstance(s, dict)]
        self.modes: dict[str, str] = {}
        for other in capability.adapters:
            if isinstance(other, McpAdapter):
                self.modes[other.namespace] = "mcp"
            elif isinstance(other, RestAdapter):
                self.modes[other.namespace] = "rest"

    def find(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.skills if str(s.get("name")) == name), None)

    @staticmethod
    def _tools(skill: dict[str, Any]) -> list[dict[str, Any]]:
        return [t for t in skill.get("tools") or [] if isinstance(t, dict)]

    def catalog(self) -> dict[str, Any]:
        entries = []
        for skill in self.skills:
            entry: dict[str, Any] = {"name": skill.get("name"), "description": skill.get("description")}
            if skill.get("license") is not None:
                entry["license"] = skill["license"]
            entry["tools"] = [t.get("name") for t in self._tools(skill)]
            entries.append(entry)
        return {"count": len(entries), "skills": entries}

    def detail(self, skill: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": skill.get("name"), "description": skill.get("description")}
        for key in FRONTMATTER:
            if skill.get(key) is not None:
                out[key] = skill[key]
        metadata = skill.get("metadata")
        if isinstance(metadata, dict) and metadata:
            out["metadata"] = {str(k): str(v) for k, v in metadata.items()}
        tools = []
        for tool in self._tools(skill):
            entry: dict[str, Any] = {"name": tool.get("name"), "description": tool.get("description")}
            source = tool.get("from")
            if isinstance(source, dict):
                namespace = str(source.get("sourceNamespace", ""))
                entry["type"] = "derived"
                entry["invocationRef"] = {
                    "targetNamespace": namespace,
                    "action": source.get("action"),
                    "mode": self.modes.get(namespace, "unknown"),
                }
            elif tool.get("instruction") is not None:
                entry["type"] = "instruction"
                entry["instruction"] = tool["instruction"]
            tools.append(entry)
        out["tools"] = tools
        return out

    def folder(self, skill: dict[str, Any]) -> Path | None:
        location = skill.get("location")
        if not location:
            return None
        folder = resolve_location(str(location), self.base_dir)
        return folder if folder.is_dir() else None

    @staticmethod
    def files(folder: Path) -> list[Path]:
        return sorted(p for p in folder.rglob("*") if p.is_file())


def build_skill_app(adapter: OtherAdapter, capability: Capability, readiness: Readiness, bind_context: dict[str, Any] | None = None) -> web.Application:
    catalog = SkillCatalog(adapter, capability)
    credentials = Credentials.from_spec(adapter.auth, bind_context or {}) if adapter.auth else None

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if credentials is not None and request.path.startswith("/skills") and not credentials.check(request.headers, request.query):
            response = _error(401, "unauthorized", "missing or invalid credentials")
            response.headers["WWW-Authenticate"] = credentials.challenge
            return response
        return await handler(request)

    def not_found(message: str) -> web.HTTPNotFound:
        return web.HTTPNotFound(text=json.dumps({"error": "not_found", "message": message}), content_type="application/json")

    def skill_of(request: web.Request) -> dict[str, Any]:
        name = request.match_info["name"]
        skill = catalog.find(name)
        if skill is None:
            raise not_found(f"Skill not found: {name}")
        return skill

    def folder_of(request: web.Request) -> tuple[dict[str, Any], Path]:
        """The skill and its `location` folder; 404 when either is missing."""
        skill = skill_of(request)
        if not skill.get("location"):
            raise not_found(f"No location configured for skill: {skill.get('name')}")
        folder = catalog.folder(skill)
        if folder is None:
            raise not_found(f"Location directory not found for skill: {skill.get('name')}")
        return skill, folder

    async def list_skills(_: web.Request) -> web.Response:
        return web.json_response(catalog.catalog())

    async def get_skill(request: web.Request) -> web.Response:
        return web.json_response(catalog.detail(skill_of(request)))

    async def contents(request: web.Request) -> web.Response:
        skill, folder = folder_of(request)
        files = [
            {"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size, "type": _media_type(p.name)}
            for p in catalog.files(folder)
        ]
        return web.json_response({"name": skill.get("name"), "files": files})

    async def file(request: web.Request) -> web.StreamResponse:
        _, folder = folder_of(request)
        wanted = (folder / request.match_info["file"]).resolve()
        if not wanted.is_relative_to(folder) or not wanted.is_file():
            raise not_found(f"File not found: {request.match_info['file']}")
        return web.Response(body=wanted.read_bytes(), content_type=_media_type(wanted.name))

    async def download(request: web.Request) -> web.Response:
        skill, folder = folder_of(request)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for p in catalog.files(folder):
                archive.write(p, p.relative_to(folder).as_posix())
        response = web.Response(body=buffer.getvalue(), content_type="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="{skill.get("name")}.zip"'
        return response

    app = web.Application(middlewares=[guard])
    app.router.add_get("/skills", list_skills)
    app.router.add_get("/skills/{name}", get_skill)
    app.router.add_get("/skills/{name}/contents", contents)
    app.router.add_get("/skills/{name}/contents/{file:.+}", file)
    app.router.add_get("/skills/{name}/download", download)
    add_health_routes(app, readiness)
    return app
