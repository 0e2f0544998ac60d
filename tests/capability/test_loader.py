"""The loader on real files and on every kind of bad input: clear errors with positions, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from naftiko_runtime.capability.loader import load
from tests.support.paths import SEEDED, SEEDED_DIR, SHIPPED

NAFTIKO = [sys.executable, "-m", "naftiko_runtime"]

MINIMAL = """\
naftiko: 1.0.0-alpha2
info:
  label: Minimal
  description: A minimal capability.
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://api.example.com
    resources:
    - name: things
      path: /things/{{id}}
      operations:
      - name: get-thing
        method: GET
  exposes:
  - type: mcp
    namespace: tools
    port: 9191
    tools:
    - name: get-thing
      description: Get a thing.
      call: up.get-thing
      with:
        id: tools.id
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NAFTIKO, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def write(tmp_path: Path, text: str | bytes, name: str = "cap.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_files_are_valid(path: Path) -> None:
    result = load(path)
    assert result.ok, [str(d) for d in result.errors]
    if path in SEEDED:
        assert result.warnings, "the seed files carry the seeds' deviations, reported as warnings"


@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.name)
def test_strict_reports_schema_violations_with_line_and_column(path: Path) -> None:
    proc = cli("validate", "--strict", str(path))
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if ": error: " in line]
    assert errors
    for line in errors:
        file, row, col, _ = line.split(":", 3)
        assert file == str(path) and int(row) > 0 and int(col) > 0


def test_minimal_file_is_valid_without_warnings(tmp_path: Path) -> None:
    result = load(write(tmp_path, MINIMAL))
    assert result.ok and not result.diagnostics, [str(d) for d in result.diagnostics]


def test_validate_exit_codes_and_json_format(tmp_path: Path) -> None:
    good = write(tmp_path, MINIMAL, "good.yaml")
    bad = write(tmp_path, MINIMAL.replace("method: GET", "method: FETCH"), "bad.yaml")
    assert cli("validate", str(good)).returncode == 0
    proc = cli("validate", "--format", "json", str(good), str(bad))
    assert proc.returncode == 1
    import json

    report = {Path(r["file"]).name: r for r in json.loads(proc.stdout)}
    assert report["good.yaml"]["valid"] is True
    (error,) = [d for d in report["bad.yaml"]["diagnostics"] if d["severity"] == "error"]
    assert error["line"] == 15 and error["field"].endswith("operations[0].method")
    assert "FETCH" in error["message"]
    assert cli("validate").returncode == 2
    assert cli("validate", "--format", "xml", str(good)).returncode == 2


BAD_INPUTS = {
    "not-yaml": ("naftiko: [1.0\n", 2, "not valid YAML"),
    "a-list": ("- a\n- b\n", 1, "this one is a list"),
    "a-scalar": ("hello\n", 1, "a single value"),
    "empty": ("", 1, "empty"),
    "tabs": ("naftiko: 1.0.0-alpha2\ninfo:\n\tlabel: x\n", 3, "tab"),
    "duplicate-key": (MINIMAL.replace("info:\n", "info:\n  label: One\n", 1), 4, "duplicate key 'label'"),
    "wrong-type": (MINIMAL.replace("port: 9191", "port: nine"), 19, "port"),
    "unknown-field": (MINIMAL.replace("  exposes:\n", "  exposes:\n  - type: mcp\n    bogus: 1\n", 1).replace("bogus: 1\n", "bogus: 1\n    namespace: t2\n    port: 9292\n    tools: [{name: x, description: y, call: up.get-thing}]\n", 1), 18, "bogus"),
    "missing-version": (MINIMAL.replace("naftiko: 1.0.0-alpha2\n", ""), 1, "naftiko"),
    "deep-nesting": ("naftiko: " + "[" * 10_000 + "]" * 10_000 + "\n", 1, "nesting deeper"),
    "alias-bomb": (
        "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)),
        0,
        "alias bomb",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gets_a_located_error_and_no_traceback(tmp_path: Path, name: str) -> None:
    text, line, needle = BAD_INPUTS[name]
    path = write(tmp_path, text)
    proc = cli("validate", str(path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    errors = [row for row in proc.stdout.splitlines() if ": error: " in row]
    assert errors, proc.stdout
    assert any(needle.lower() in row.lower() for row in errors), errors
    if line:
        assert any(row.startswith(f"{path}:{line}:") for row in errors), errors


def test_binary_garbage_huge_file_missing_file_and_directory(tmp_path: Path) -> None:
    cases = {
        write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "img.yaml"): "binary",
        write(tmp_path, b"naftiko: \xff\xfe\n", "latin.yaml"): "UTF-8",
        write(tmp_path, "x: " + "a" * (10 * 1024 * 1024) + "\n", "huge.yaml"): "limited to",
        tmp_path / "missing.yaml": "no such file",
        tmp_path: "directory",
    }
    proc = cli("validate", *map(str, cases))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    for path, needle in cases.items():
        assert any(row.startswith(str(path)) and needle in row for row in proc.stdout.splitlines()), (path, proc.stdout)


def test_unreadable_file(tmp_path: Path) -> None:
    import os

    path = write(tmp_path, MINIMAL)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user that can read anything")
        result = load(path)
        assert not result.ok and "cannot read" in result.errors[0].message
    finally:
        path.chmod(0o644)


def test_warnings_say_what_the_runtime_does() -> None:
    result = load(SEEDED_DIR / "humanitec-pipelineruns.yaml")
    codes = {d.code for d in result.warnings}
    assert {"consumed-param-extra-fields", "rest-adapter-description", "object-output-without-properties"} <= codes
    assert "single-brace-placeholder" in codes and "with-reference-prefix" in codes
    for d in result.warnings:
        assert d.line > 0 and d.col > 0


def test_ambiguous_operation_names_resolve_by_path_and_warn() -> None:
    result = load(SEEDED_DIR / "humanitec-event.yaml")
    cap = result.capability
    assert cap is not None
    rest = next(a for a in cap.adapters if a.type == "rest")
    mcp = next(a for a in cap.adapters if a.type == "mcp")
    by_route = {(op.method, res.path.raw): op.action.call.operation for res in rest.resources for op in res.operations}
    delete_one = by_route[("DELETE", "/v1/orgs/{orgid}/apps/{appid}/webhooks/{jobid}")]
    assert delete_one.path.raw == "/orgs/{orgId}/apps/{appId}/webhooks/{jobId}"
    assert by_route[("DELETE", "/v1/orgs/{orgid}/apps/{appid}/jobs")].path.raw == "/orgs/{orgId}/apps/{appId}/jobs"
    assert by_route[("GET", "/v1/orgs/{orgid}/events")].path.raw == "/orgs/{orgId}/events"
    tools = {t.name: t.call.operation.path.raw for t in mcp.tools}
    assert tools["delete-webhook"] == "/orgs/{orgId}/apps/{appId}/webhooks/{jobId}"
    assert tools["deletes-all-jobs-application"] == "/orgs/{orgId}/apps/{appId}/jobs"
    assert tools["get-webhook"] == "/orgs/{orgId}/apps/{appId}/webhooks/{jobId}"
    assert tools["list-events"] == "/orgs/{orgId}/events"
    ambiguous = [d for d in result.warnings if d.code == "ambiguous-operation"]
    assert len(ambiguous) == 10
    assert any("reference engine would call DELETE /orgs/{orgId}/apps/{appId}/jobs" in d.message for d in ambiguous)


def test_three_part_call_names_the_resource(tmp_path: Path) -> None:
    text = MINIMAL.replace("call: up.get-thing", "call: up.things.get-thing")
    result = load(write(tmp_path, text))
    assert result.ok
    assert result.capability.adapters[0].tools[0].call.operation.resource == "things"


def test_two_adapters_on_one_port_and_duplicate_namespaces(tmp_path: Path) -> None:
    text = MINIMAL + """\
  - type: rest
    namespace: tools
    port: 9191
    resources:
    - path: /things/{id}
      operations:
      - method: GET
        call: up.get-thing
"""
    result = load(write(tmp_path, text))
    messages = [d.message for d in result.errors]
    assert any("port 9191" in m for m in messages)
    assert any("namespace 'tools'" in m for m in messages)


def test_tool_names_and_base_uri_forms(tmp_path: Path) -> None:
    long_name = "t" * 70
    result = load(write(tmp_path, MINIMAL.replace("name: get-thing\n      description", f"name: {long_name}\n      description")))
    assert any("longer than 64" in d.message for d in result.warnings)
    result = load(write(tmp_path, MINIMAL.replace("https://api.example.com", "https://api.example.com/v1/")))
    assert result.ok and any("exactly one '/'" in d.message for d in result.warnings)
    # another scheme: a warning (calls answer 502 unless --upstream replaces the origin), an error at --strict
    result = load(write(tmp_path, MINIMAL.replace("https://api.example.com", "ftp://api.example.com")))
    assert result.ok and any(d.code == "baseuri-not-http" for d in result.warnings)
    assert any("baseUri" in d.message for d in load(write(tmp_path, MINIMAL.replace(
        "https://api.example.com", "ftp://api.example.com")), strict=True).errors)


def test_with_reference_naming_nothing_is_a_warning(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "      call: up.get-thing\n",
        "      inputParameters:\n      - {name: id, type: string, description: The id.}\n      call: up.get-thing\n",
    ).replace("id: tools.id", "id: tools.ident")
    result = load(write(tmp_path, text))
    assert any("refers to 'ident'" in d.message for d in result.warnings), [str(d) for d in result.diagnostics]


# (`down.get-thing` now resolves to `up.get-thing` with a warning: tests/routing/test_guessed_namespaces.py)
@pytest.mark.parametrize("target, needle", [("up.nope", "names no operation"), ("down.nope", "names no consumes namespace")])
def test_an_unresolved_call_disables_only_its_operation(tmp_path: Path, target: str, needle: str) -> None:
    path = write(tmp_path, MINIMAL.replace("call: up.get-thing", f"call: {target}"))
    proc = cli("validate", str(path))
    assert proc.returncode == 0
    assert any(row.startswith(f"{path}:23:") and needle in row and "answers 503" in row for row in proc.stdout.splitlines()), proc.stdout
    strict = cli("validate", "--strict", str(path))
    assert strict.returncode == 1 and f"{path}:23:" in strict.stdout and ": error: " in strict.stdout
    call = cli("call", str(path), "get-thing", "--arg", "id=1")
    assert call.returncode == 1 and "operation_disabled" in call.stderr


def test_unresolved_bind_is_a_warning_with_its_location() -> None:
    import os

    path = SEEDED_DIR / "inngest-runs.yaml"
    env = {k: v for k, v in os.environ.items() if k != "INNGEST_API_KEY"}
    proc = subprocess.run([*NAFTIKO, "validate", str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0
    assert any(line.startswith(f"{path}:12:3: warning: bind 'env.INNGEST_API_KEY' does not resolve") for line in proc.stdout.splitlines())
    proc = subprocess.run([*NAFTIKO, "validate", str(path)], capture_output=True, text=True, env={**env, "INNGEST_API_KEY": "k"}, timeout=60)
    assert "does not resolve" not in proc.stdout


DIALECTS = """\
naftiko: 1.0.0-alpha2
info: {label: Dialects, description: Operation sub-paths and an API key written as a headers map.}
binds:
- namespace: env
  keys: {DD_API_KEY: DD_API_KEY, DD_APP_KEY: DD_APP_KEY}
capability:
  consumes:
  - type: http
    namespace: dd
    baseUri: https://api.example.com
    authentication:
      type: apikey
      headers: {DD-API-KEY: '{{DD_API_KEY}}', DD-APPLICATION-KEY: '{{DD_APP_KEY}}'}
    resources:
    - name: stories
      path: /v1/stories
      operations:
      - {name: list-stories, method: GET}
      - {name: get-story, method: GET, path: '/v1/stories/{id}'}
  exposes:
  - type: rest
    namespace: api
    port: 9393
    resources:
    - path: /stories
      operations:
      - {method: GET, call: dd.list-stories}
      - {method: GET, path: '/{id}', call: dd.get-story, with: {id: rest.id}}
"""


def test_operation_sub_paths_and_apikey_headers(tmp_path: Path) -> None:
    result = load(write(tmp_path, DIALECTS))
    assert result.ok, [str(d) for d in result.errors]
    codes = {d.code for d in result.warnings}
    assert "operation-path" in codes and "apikey-dialect" in codes
    assert "unused-bind" not in codes, "binds read by the API-key headers are used"
    assert not [d for d in result.warnings if "refers to 'id'" in d.message or d.code == "unfilled-placeholder"]
    rest = result.capability.adapters[0]
    (res,) = rest.resources
    routes = {(op.path or res.path).raw: op.action.call.operation.path.raw for op in res.operations}
    assert routes == {"/stories": "/v1/stories", "/stories/{id}": "/v1/stories/{id}"}


def test_a_file_of_the_previous_alpha_is_read_by_alpha2s_rules_and_an_unknown_version_is_refused(tmp_path: Path) -> None:
    """Published files still declare `1.0.0-alpha1` while written like alpha2 ones: served with a located warning,
    refused at `--strict`; a version nobody published stays refused at every level."""
    result = load(write(tmp_path, MINIMAL.replace("1.0.0-alpha2", "1.0.0-alpha1", 1)))
    assert result.ok and result.capability is not None, result.diagnostics
    [warning] = [d for d in result.diagnostics if d.code == "version-previous-alpha"]
    assert (warning.severity, warning.line, warning.col) == ("warning", 1, 10)
    assert not load(write(tmp_path, MINIMAL.replace("1.0.0-alpha2", "1.0.0-alpha1", 1)), strict=True).ok
    refused = load(write(tmp_path, MINIMAL.replace("1.0.0-alpha2", "2.0.0", 1)))
    assert refused.capability is None and "'2.0.0' is not supported" in refused.errors[0].message


@pytest.mark.parametrize("info", ["info:\n  name: Named\n", "info:\n  description: No label at all.\n"])
def test_an_info_without_label_never_stops_a_file(tmp_path: Path, info: str) -> None:
    """`info` is descriptive only: a `name` for its label, or no label, is a located warning, refused at `--strict`."""
    text = MINIMAL.replace("info:\n  label: Minimal\n  description: A minimal capability.\n", info, 1)
    result = load(write(tmp_path, text))
    assert result.ok and result.capability is not None, result.diagnostics
    warnings = [(d.severity, d.line) for d in result.diagnostics if d.code == "info-metadata"]
    assert warnings and set(warnings) == {("warning", 3)}, result.diagnostics
    assert not load(write(tmp_path, text), strict=True).ok
    if "name:" in info:
        assert result.capability.label == "Named"


def test_an_import_whose_shared_file_is_missing_disables_only_that_consumes(tmp_path: Path) -> None:
    """The shared file may be missing at deploy time: the imported namespace's calls answer 503, the rest serves;
    `--strict` refuses the file."""
    text = MINIMAL.replace("  consumes:\n", "  consumes:\n  - {import: shared-api, location: ./shared/missing.yaml}\n", 1)
    result = load(write(tmp_path, text))
    assert result.servable and not result.ok, result.diagnostics
    located = [d for d in result.errors if "cannot import consumes from './shared/missing.yaml'" in d.message]
    assert located and located[0].line == 7 and located[0].disables
    assert not load(write(tmp_path, text), strict=True).servable
