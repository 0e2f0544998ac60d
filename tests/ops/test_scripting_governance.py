"""`/scripting` on the control adapter governs the script steps that run next: enabled, timeout, languages, stats."""

from __future__ import annotations

from pathlib import Path

from ..reference.helpers import get_json, serve

CAPABILITY = """\
naftiko: "1.0.0-alpha2"
info: {label: governed, description: script governance}
capability:
  exposes:
    - type: mcp
      port: 3901
      namespace: tools
      tools:
        - name: compute
          description: Runs a script
          inputParameters:
            - {name: pause, type: number, description: seconds to sleep, required: false}
          steps:
            - {name: work, type: script, file: work.py}
    - type: control
      port: 3902
      management:
        scripting:
          timeout: 5000
          allowedLanguages: [python]
"""


async def test_put_scripting_governs_the_next_script_runs(tmp_path: Path) -> None:
    (tmp_path / "work.py").write_text("import time\ntime.sleep(context.get('pause', 0))\nresult = {'done': True}\n")
    file = tmp_path / "governed.yaml"
    file.write_text(CAPABILITY)
    async with serve(str(file)) as served, served.mcp("tools") as client:
        base = served.url("control", None)
        ok = await client.call_tool("compute", {})
        assert not ok.is_error
        status, body = await get_json(served, "GET", base + "/scripting")
        assert status == 200 and (body["stats"]["totalExecutions"], body["stats"]["totalErrors"]) == (1, 0)
        assert "lastExecutionAt" in body["stats"] and body["timeout"] == 5000

        assert (await get_json(served, "PUT", base + "/scripting", json={"timeout": 100}))[0] == 200
        slow = await client.call_tool("compute", {"pause": 2})
        assert slow.is_error and "longer than 0.1 s" in str(slow.content)

        assert (await get_json(served, "PUT", base + "/scripting", json={"enabled": False}))[0] == 200
        off = await client.call_tool("compute", {})
        assert off.is_error and "disabled" in str(off.content)

        status, body = await get_json(served, "PUT", base + "/scripting", json={"enabled": True, "allowedLanguages": ["javascript"]})
        assert status == 200 and body["allowedLanguages"] == ["javascript"]
        refused = await client.call_tool("compute", {})
        assert refused.is_error and "not allowed" in str(refused.content)

        status, body = await get_json(served, "PUT", base + "/scripting", json={"defaultLanguage": "cobol", "timeout": 7})
        assert status == 400 and "cobol" in body["message"]
        status, body = await get_json(served, "GET", base + "/scripting")
    assert body["timeout"] == 100  # a refused PUT changes nothing
    assert (body["stats"]["totalExecutions"], body["stats"]["totalErrors"]) == (2, 1)


async def test_scripting_is_served_only_when_declared(tmp_path: Path) -> None:
    file = tmp_path / "plain.yaml"
    file.write_text(CAPABILITY.replace("      management:\n        scripting:\n          timeout: 5000\n          allowedLanguages: [python]\n", ""))
    (tmp_path / "work.py").write_text("result = 1\n")
    async with serve(str(file)) as served:
        assert (await get_json(served, "GET", served.url("control", None) + "/scripting"))[0] == 404
