"""`naftiko export openapi` of every shipped file: request bodies with their properties and
examples, the success statuses the upstream may send (204 with no body), `security` on every
operation; clean under Redocly's recommended ruleset, and openapi-typescript's types compile
for every operation (with each body's example and each operation's parameters).

The npm tools are installed once into /var/tmp/naftiko-openapi-tools (or $NAFTIKO_NPM_TOOLS);
without npm, the tool-driven tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.capability.loader import load
from naftiko_runtime.exposes.rest.openapi import build_openapi

from .conftest import SHIPPED

TOOLS = Path(os.environ.get("NAFTIKO_NPM_TOOLS", "/var/tmp/naftiko-openapi-tools"))
PACKAGES = ("@redocly/cli@2", "openapi-typescript@7", "typescript@5")
METHODS = ("get", "put", "post", "delete", "patch")


def _document(path: Path) -> dict[str, Any]:
    result = load(path)
    assert result.capability is not None, result.errors
    return build_openapi(result.capability)


DOCS = {path.stem: _document(path) for path in SHIPPED}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(route, method, op) for route, item in doc["paths"].items() for method, op in item.items() if method in METHODS]


def _op(doc: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return next(op for _, _, op in _operations(doc) if op["operationId"] == operation_id)


# -- the document itself -----------------------------------------------------------------------


def test_request_bodies_carry_their_properties_and_examples() -> None:
    create = _op(DOCS["humanitec-pipelineruns"], "humanitec-pipelineruns-rest.createpipelinerun")
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert create["requestBody"]["required"] is True
    assert schema["required"] == ["inputs"]
    inputs = schema["properties"]["inputs"]
    assert inputs["type"] == "object" and inputs["additionalProperties"] is True and inputs["examples"]
    for name, doc in DOCS.items():
        for route, method, op in _operations(doc):
            body = op.get("requestBody")
            if body is None:
                continue
            schema = body["content"]["application/json"]["schema"]
            assert schema.get("properties") or schema.get("examples"), f"{name}: {method} {route} body says nothing"


def test_success_statuses_match_what_the_upstream_sends() -> None:
    doc = DOCS["humanitec-pipelineruns"]
    cancel = _op(doc, "humanitec-pipelineruns-rest.cancelpipelinerun")["responses"]
    delete = _op(doc, "humanitec-pipelineruns-rest.deletepipelinerun")["responses"]
    create = _op(doc, "humanitec-pipelineruns-rest.createpipelinerun")["responses"]
    get = _op(doc, "humanitec-pipelineruns-rest.getpipelinerun")["responses"]
    assert "204" in cancel and "content" not in cancel["204"]
    assert "204" in delete and "content" not in delete["204"]
    assert {"201", "204"} <= set(create)  # created, or a dry run's empty answer
    assert "200" in get and "204" not in get


def test_every_operation_declares_security_and_enums_come_through() -> None:
    for name, doc in DOCS.items():
        for route, method, op in _operations(doc):
            assert "security" in op, f"{name}: {method} {route}"
    listing = _op(DOCS["humanitec-pipelineruns"], "humanitec-pipelineruns-rest.listpipelinerunsbyorg")
    status = next(p for p in listing["parameters"] if p["name"] == "status")
    assert status["schema"]["enum"] == ["queued", "executing", "succeeded", "failed", "cancelled"]
    logs = _op(DOCS["humanitec-pipelineruns"], "humanitec-pipelineruns-rest.listpipelinesteplogs")
    assert next(p for p in logs["parameters"] if p["name"] == "stepindex")["schema"]["type"] == "integer"


# -- third-party tools ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def npm_tools() -> Path:
    """@redocly/cli, openapi-typescript and typescript, installed once and reused."""
    bins = TOOLS / "node_modules" / ".bin"
    if all((bins / b).exists() for b in ("redocly", "openapi-typescript", "tsc")):
        return TOOLS
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm/node are not installed: the Redocly and openapi-typescript checks need them")
    TOOLS.mkdir(parents=True, exist_ok=True)
    if not (TOOLS / "package.json").exists():
        (TOOLS / "package.json").write_text('{"name": "naftiko-openapi-tools", "private": true}\n')
    proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
                          cwd=TOOLS, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.skip(f"npm install failed (offline?): {proc.stderr[-500:]}")
    return TOOLS


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("openapi")
    files = {}
    for name, doc in DOCS.items():
        files[name] = out / f"{name}.json"
        files[name].write_text(json.dumps(doc, indent=1))
    return files


def test_clean_under_redocly_recommended(npm_tools: Path, exported: dict[str, Path], tmp_path: Path) -> None:
    report = tmp_path / "redocly.json"
    proc = subprocess.run(
        [str(npm_tools / "node_modules" / ".bin" / "redocly"), "lint", "--extends=recommended", "--format=json",
         *map(str, exported.values())],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    report.write_text(proc.stdout)
    problems: list[dict[str, Any]] = []
    decoder, text, at = json.JSONDecoder(), proc.stdout, proc.stdout.find("{")
    while at != -1:  # one JSON report per file, one after the other
        found, end = decoder.raw_decode(text, at)
        problems.extend(found["problems"])
        at = text.find("{", end)
    assert problems is not None and "{" in text, proc.stderr[-2000:]
    errors = [(p["ruleId"], p["message"]) for p in problems if p["severity"] == "error"]
    assert errors == [], errors[:10]
    # the format has no license field; its absence is the only thing Redocly mentions
    warnings = {p["ruleId"] for p in problems if p["severity"] == "warn"}
    assert warnings <= {"info-license"}, warnings


def _example(schema: dict[str, Any]) -> Any:
    """A value for `schema`: its example, else its first enum value, else one of its type."""
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _example(v) for k, v in props.items() if k in schema.get("required", [])}
    return {"string": "x", "integer": 1, "number": 1.5, "boolean": True, "array": []}.get(kind, "x")


def _ts_checks(name: str, doc: dict[str, Any]) -> str:
    lines = [f'import type {{ paths }} from "./{name}";',
             ("type JsonBody<O> = O extends { requestBody?: infer R } ? NonNullable<R> extends "
              '{ content: { "application/json": infer B } } ? B : never : never;'),
             'type Params<O> = O extends { parameters: infer P } ? P : never;']
    for i, (route, method, op) in enumerate(_operations(doc)):
        ref = f'paths["{route}"]["{method}"]'
        body = op.get("requestBody")
        if body is not None:
            value = _example(body["content"]["application/json"]["schema"])
            lines.append(f"export const body{i}: JsonBody<{ref}> = {json.dumps(value)};")
        path = {p["name"]: _example(p["schema"]) for p in op.get("parameters", []) if p["in"] == "path"}
        query = {p["name"]: _example(p["schema"]) for p in op.get("parameters", []) if p["in"] == "query"}
        params: dict[str, Any] = {}
        if path:
            params["path"] = path
        if query:
            params["query"] = query
        if params:
            lines.append(f"export const params{i}: Params<{ref}> = {json.dumps(params)};")
    if name == "humanitec-pipelineruns":  # the case: `{inputs: {}}` and free-form inputs compile
        ref = 'paths["/v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs"]["post"]'
        lines.append(f'export const empty: JsonBody<{ref}> = {{ inputs: {{}} }};')
        lines.append(f'export const given: JsonBody<{ref}> = {{ inputs: {{ ref: "main", count: 2 }} }};')
    return "\n".join(lines) + "\n"


def test_openapi_typescript_types_compile_for_every_operation(npm_tools: Path, exported: dict[str, Path], tmp_path: Path) -> None:
    bins = npm_tools / "node_modules" / ".bin"
    for name, source in exported.items():
        proc = subprocess.run([str(bins / "openapi-typescript"), str(source), "-o", str(tmp_path / f"{name}.ts")],
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        (tmp_path / f"check-{name}.ts").write_text(_ts_checks(name, DOCS[name]))
    proc = subprocess.run(
        [str(bins / "tsc"), "--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler",
         "--skipLibCheck", *sorted(str(p) for p in tmp_path.glob("check-*.ts"))],
        capture_output=True, text=True, timeout=180, cwd=tmp_path, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
