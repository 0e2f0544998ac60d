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

from ..capability.locations import resolve_location
from ..capability.model import Capability, McpAdapter, RestAdapter
from ..capability.skills import Skill, SkillAdapter
from .auth import Credentials
from .errors import unauthorized
from .health import Readiness, add_health_routes


def _media_type(name: str) -> str:
    if name.endswith(".md"):
        return "text/markdown"
    if name.endswith((".yml", ".yaml")):
        return "application/yaml"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class SkillCatalog:
    """The skills of one skill adapter, with the namespaces of their sibling adapters.

    Each skill's `location` folder and its file listing are resolved once, when the app is built
    (skill adapters keep the definition they started with), not per request.
    """

    def __init__(self, adapter: SkillAdapter, capability: Capability) -> None:
        self.adapter = adapter
        self.base_dir = capability.base_dir
        self.skills: list[Skill] = list(adapter.skills)
        self.modes: dict[str, str] = {}
        for other in capability.adapters:
            if isinstance(other, McpAdapter):
                self.modes[other.namespace] = "mcp"
            elif isinstance(other, RestAdapter):
                self.modes[other.namespace] = "rest"
        self._folders: dict[int, tuple[Path, list[Path]] | None] = {id(s): self._folder(s) for s in self.skills}

    def find(self, name: str) -> Skill | None:
        return next((s for s in self.skills if str(s.name) == name), None)

    def catalog(self) -> dict[str, Any]:
        entries = []
        for skill in self.skills:
            entry: dict[str, Any] = {"name": skill.name, "description": skill.description}
            if skill.license is not None:
                entry["license"] = skill.license
            entry["tools"] = [t.name for t in skill.tools]
            entries.append(entry)
        return {"count": len(entries), "skills": entries}

    def detail(self, skill: Skill) -> dict[str, Any]:
        out: dict[str, Any] = {"name": skill.name, "description": skill.description, **skill.frontmatter}
        if skill.metadata:
            out["metadata"] = dict(skill.metadata)
        tools = []
        for tool in skill.tools:
            entry: dict[str, Any] = {"name": tool.name, "description": tool.description}
            if tool.source_namespace is not None:
                entry["type"] = "derived"
                entry["invocationRef"] = {
                    "targetNamespace": tool.source_namespace,
                    "action": tool.action,
                    "mode": self.modes.get(tool.source_namespace, "unknown"),
                }
            elif tool.instruction is not None:
                entry["type"] = "instruction"
                entry["instruction"] = tool.instruction
            tools.append(entry)
        out["tools"] = tools
        return out

    def _folder(self, skill: Skill) -> tuple[Path, list[Path]] | None:
        if not skill.location:
            return None
        folder = resolve_location(skill.location, self.base_dir)
        if not folder.is_dir():
            return None
        return folder, sorted(p for p in folder.rglob("*") if p.is_file())

    def folder(self, skill: Skill) -> tuple[Path, list[Path]] | None:
        """The skill's folder and the files in it, as found when the app was built."""
        return self._folders.get(id(skill))


def build_skill_app(adapter: SkillAdapter, capability: Capability, readiness: Readiness, bind_context: dict[str, Any] | None = None) -> web.Application:
    catalog = SkillCatalog(adapter, capability)
    credentials = Credentials.from_spec(adapter.auth, bind_context or {}) if adapter.auth else None

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if credentials is not None and request.path.startswith("/skills") and not credentials.check(request.headers, request.query):
            return unauthorized(credentials.challenge)
        return await handler(request)

    def not_found(message: str) -> web.HTTPNotFound:
        return web.HTTPNotFound(text=json.dumps({"error": "not_found", "message": message}), content_type="application/json")

    def skill_of(request: web.Request) -> Skill:
        name = request.match_info["name"]
        skill = catalog.find(name)
        if skill is None:
            raise not_found(f"Skill not found: {name}")
        return skill

    def folder_of(request: web.Request) -> tuple[Skill, Path, list[Path]]:
        """The skill, its `location` folder and the files in it; 404 when either is missing."""
        skill = skill_of(request)
        if not skill.location:
            raise not_found(f"No location configured for skill: {skill.name}")
        found = catalog.folder(skill)
        if found is None:
            raise not_found(f"Location directory not found for skill: {skill.name}")
        return skill, *found

    async def list_skills(_: web.Request) -> web.Response:
        return web.json_response(catalog.catalog())

    async def get_skill(request: web.Request) -> web.Response:
        return web.json_response(catalog.detail(skill_of(request)))

    async def contents(request: web.Request) -> web.Response:
        skill, folder, listing = folder_of(request)
        files = [
            {"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size, "type": _media_type(p.name)}
            for p in listing
            if p.is_file()
        ]
        return web.json_response({"name": skill.name, "files": files})

    async def file(request: web.Request) -> web.StreamResponse:
        _, folder, _ = folder_of(request)
        wanted = (folder / request.match_info["file"]).resolve()
        if not wanted.is_relative_to(folder) or not wanted.is_file():
            raise not_found(f"File not found: {request.match_info['file']}")
        return web.Response(body=wanted.read_bytes(), content_type=_media_type(wanted.name))

    async def download(request: web.Request) -> web.Response:
        skill, folder, listing = folder_of(request)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for p in listing:
                if p.is_file():
                    archive.write(p, p.relative_to(folder).as_posix())
        response = web.Response(body=buffer.getvalue(), content_type="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="{skill.name}.zip"'
        return response

    app = web.Application(middlewares=[guard])
    app.router.add_get("/skills", list_skills)
    app.router.add_get("/skills/{name}", get_skill)
    app.router.add_get("/skills/{name}/contents", contents)
    app.router.add_get("/skills/{name}/contents/{file:.+}", file)
    app.router.add_get("/skills/{name}/download", download)
    add_health_routes(app, readiness)
    return app
