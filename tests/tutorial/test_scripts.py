"""`script` steps: real interpreters in subprocesses, the reference's `context`/`result` contract,
timeouts, no inherited secrets; interpreters looked up when a server starts, never at load."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.binding.incoming import Incoming
from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import McpAdapter
from naftiko_runtime.invoke.client import UpstreamPool, UpstreamSettings
from naftiko_runtime.invoke.errors import InvokeError
from naftiko_runtime.invoke.invoker import Invoker


def _capability(tmp_path: Path, steps: str, *, control: str = "", outputs: str = "") -> Path:
    doc = f"""\
naftiko: "1.0.0-alpha2"
binds:
  - namespace: env
    keys:
      SCRIPT_SECRET: SCRIPT_TEST_SECRET
capability:
  exposes:
    - type: mcp
      port: 3901
      namespace: tools
      tools:
        - name: compute
          description: Runs scripts
          inputParameters:
            - name: n
              type: number
              description: a number
              required: false
          steps:
{textwrap.indent(textwrap.dedent(steps), " " * 12)}
{textwrap.indent(textwrap.dedent(outputs), " " * 10)}
{textwrap.indent(textwrap.dedent(control), " " * 4)}
"""
    path = tmp_path / "scripts.yml"
    path.write_text(doc)
    return path


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))


async def _invoke(path: Path, values: dict[str, Any]) -> Any:
    result = load(path)
    assert result.ok, [str(d) for d in result.errors]
    cap = result.capability
    assert cap is not None
    pool = UpstreamPool(UpstreamSettings())
    try:
        invoker = Invoker(cap, resolve_capability_binds(cap), pool)
        tool = next(a for a in cap.adapters if isinstance(a, McpAdapter)).tools[0]
        outcome = await invoker.invoke(tool, Incoming(values=values, origin="mcp"))
        return outcome.data
    finally:
        await pool.close()


async def test_python_script_context_result_dependencies_and_with(tmp_path: Path) -> None:
    _write(tmp_path / "scripts", "helpers.py", """\
        def double(x):
            return x * 2
        """)
    _write(tmp_path / "scripts", "main.py", """\
        print("chatter on stdout must not spoil the result")
        result = {"doubled": double(context["n"]), "label": context["label"], "keys": sorted(context)}
        """)
    path = _capability(tmp_path, """\
        - name: calc
          type: script
          language: python
          location: "file:///./scripts"
          file: main.py
          dependencies: [helpers.py]
          with:
            label: "n is {{n}}"
        """)
    data = await _invoke(path, {"n": 21})
    assert data["doubled"] == 42
    assert data["label"] == "n is 21"
    assert "n" in data["keys"]


async def test_later_steps_and_mappings_read_a_script_result(tmp_path: Path) -> None:
    _write(tmp_path, "first.py", "result = {'items': [{'id': 'a', 'v': 1}, {'id': 'b', 'v': 2}], 'want': 'b'}\n")
    _write(tmp_path, "second.py", "result = {'total': sum(i['v'] for i in context['first']['items'])}\n")
    path = _capability(tmp_path, """\
        - name: first
          type: script
          file: first.py
        - name: second
          type: script
          file: second.py
        - name: pick
          type: lookup
          index: first
          match: id
          lookupValue: "$.first.want"
          outputParameters: [v]
        """, outputs="""\
        mappings:
          - targetName: total
            value: "$.second.total"
          - targetName: picked
            value: "$.pick.v"
        outputParameters:
          - name: total
            type: number
          - name: picked
            type: number
        """)
    assert await _invoke(path, {}) == {"total": 3, "picked": 2}


async def test_scripts_inherit_no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRIPT_TEST_SECRET", "s3cr3t-value")
    _write(tmp_path, "env.py", "import os\nresult = {'env': dict(os.environ), 'context': context}\n")
    path = _capability(tmp_path, """\
        - name: env
          type: script
          file: env.py
        """)
    data = await _invoke(path, {})
    assert "SCRIPT_TEST_SECRET" not in data["env"]
    assert "s3cr3t-value" not in repr(data)
    assert set(data["env"]) <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONIOENCODING"}


async def test_script_timeout_from_the_control_adapter(tmp_path: Path) -> None:
    _write(tmp_path, "spin.py", "while True:\n    pass\n")
    path = _capability(tmp_path, """\
        - name: spin
          type: script
          file: spin.py
        """, control="""\
        - type: control
          port: 3902
          management:
            scripting:
              timeout: 500
        """)
    with pytest.raises(InvokeError) as caught:
        await _invoke(path, {})
    assert caught.value.status == 504
    assert "longer than 0.5 s" in caught.value.message


async def test_failing_script_reports_its_last_error_line(tmp_path: Path) -> None:
    _write(tmp_path, "bad.py", "raise ValueError('no such vessel')\n")
    path = _capability(tmp_path, """\
        - name: bad
          type: script
          file: bad.py
        """)
    with pytest.raises(InvokeError) as caught:
        await _invoke(path, {})
    assert caught.value.status == 500
    assert "ValueError: no such vessel" in caught.value.message


async def test_script_files_cannot_escape_their_folder(tmp_path: Path) -> None:
    _write(tmp_path, "outside.py", "result = 1\n")
    (tmp_path / "scripts").mkdir()
    path = _capability(tmp_path, """\
        - name: sneaky
          type: script
          location: "file:///./scripts"
          file: ../outside.py
        """)
    with pytest.raises(InvokeError) as caught:
        await _invoke(path, {})
    assert "not a file inside" in caught.value.message


@pytest.mark.skipif(shutil.which("node") is None and shutil.which("nodejs") is None, reason="no node on PATH")
async def test_javascript_script_runs_under_node(tmp_path: Path) -> None:
    _write(tmp_path, "lib.js", "function triple(x) { return x * 3; }\n")
    _write(tmp_path, "main.js", "console.log('noise');\nvar result = { tripled: triple(context.n), env: Object.keys(process.env) };\n")
    path = _capability(tmp_path, """\
        - name: js
          type: script
          language: javascript
          file: main.js
          dependencies: [lib.js]
        """)
    data = await _invoke(path, {"n": 5})
    assert data["tripled"] == 15
    assert not [k for k in data["env"] if k.startswith("SCRIPT_")]


def _as_data(path: Path) -> list[tuple[str, str, int, int, str]]:
    result = load(path)
    return [(d.severity, d.code, d.line, d.col, d.message) for d in result.diagnostics]


def test_loading_does_not_depend_on_the_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A script step in a language whose interpreter is absent validates exactly as when it is present."""
    empty, fake = tmp_path / "empty-bin", tmp_path / "fake-bin"
    empty.mkdir()
    for command in ("node", "groovy"):
        _write(fake, command, "#!/bin/sh\necho null\n")
        (fake / command).chmod(0o755)
    _write(tmp_path, "a.js", "var result = 1;\n")
    _write(tmp_path, "a.groovy", "result = 1\n")
    for language, file in (("javascript", "a.js"), ("groovy", "a.groovy")):
        path = _capability(tmp_path, f"""\
            - name: s
              type: script
              language: {language}
              file: {file}
            """)
        monkeypatch.setenv("PATH", str(empty))
        absent = _as_data(path)
        monkeypatch.setenv("PATH", str(fake))
        present = _as_data(path)
        assert absent == present
        assert load(path).ok, absent


async def test_a_missing_interpreter_is_found_when_the_server_starts_and_answers_501(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    _write(tmp_path, "a.js", "var result = 1;\n")
    path = _capability(tmp_path, """\
        - name: s
          type: script
          language: javascript
          file: a.js
        """)
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(InvokeError) as err:
        await _invoke(path, {})
    assert err.value.status == 501
    assert "javascript script steps need an interpreter" in err.value.message
    assert "write the step in Python" in err.value.message


async def test_the_interpreter_is_looked_up_once_when_the_invoker_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PATH is read when the server starts, not per call: a later PATH change does not matter."""
    fake = tmp_path / "fake-bin"
    _write(fake, "node", '#!/bin/sh\nwhile read -r _; do :; done\necho \'{"via": "fake-node"}\'\n')
    (fake / "node").chmod(0o755)
    _write(tmp_path, "a.js", "var result = 1;\n")
    path = _capability(tmp_path, """\
        - name: s
          type: script
          language: javascript
          file: a.js
        """)
    result = load(path)
    assert result.ok and result.capability is not None
    cap = result.capability
    pool = UpstreamPool(UpstreamSettings())
    try:
        monkeypatch.setenv("PATH", str(fake))
        invoker = Invoker(cap, resolve_capability_binds(cap), pool)
        monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
        tool = next(a for a in cap.adapters if isinstance(a, McpAdapter)).tools[0]
        outcome = await invoker.invoke(tool, Incoming(values={}, origin="mcp"))
        assert outcome.data == {"via": "fake-node"}
    finally:
        await pool.close()


def test_unknown_script_language_is_an_error(tmp_path: Path) -> None:
    path = _capability(tmp_path, """\
        - name: s
          type: script
          language: ruby
          file: a.rb
        """)
    errors = [d for d in load(path).errors if d.code == "script-language"]
    assert errors and "not one of python, javascript, groovy" in errors[0].message
