"""`naftiko inspect`: what a capability would serve, without serving it."""

from __future__ import annotations

import json
from typing import Any

from .binding.binds import BindValues
from .capability.model import Action, Capability, McpAdapter, OtherAdapter, RestAdapter
from .invoke.request import join_url


def _upstream(action: Action) -> str:
    if action.call is not None:
        op = action.call.operation
        base = op.api.base_uri if op.api else ""
        return f"{op.method} {join_url(base, op.path.raw)}"
    if action.steps:
        calls = [s.call.operation for s in action.steps if s.call is not None]
        return "steps: " + ", ".join(f"{o.method} {o.path.raw}" for o in calls) if calls else "steps"
    return "mock (no upstream)"


def describe(cap: Capability, binds: BindValues, namespaces: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A JSON-able description; secrets are never included, only whether they resolve.

    `namespaces`: where each consumed namespace goes (mode and upstream), as `naftiko run` decides.
    """
    from .binding.input_schema import bind_keys, input_schema
    from .exposes.mcp.schema import annotations
    from .exposes.rest.openapi import inferred_query

    keys = bind_keys(cap)

    out: dict[str, Any] = {"file": str(cap.file), "label": cap.label, "rest": [], "mcp": [], "other": [], "binds": [],
                           "namespaces": [{k: v for k, v in n.items() if k != "file"} for n in namespaces or []]}
    for adapter in cap.adapters:
        if isinstance(adapter, RestAdapter):
            for res in adapter.resources:
                for op in res.operations:
                    out["rest"].append(
                        {
                            "adapter": adapter.namespace,
                            "port": adapter.port,
                            "route": f"{op.method} {(op.path or res.path).raw}",
                            "operation": op.action.name,
                            "upstream": _upstream(op.action),
                            "resource": op.action.call.operation.resource if op.action.call else None,
                            "inferred_query": inferred_query(res, op, keys),  # required values the route lacks
                            "disabled": op.action.broken,
                        }
                    )
                if res.forward is not None:
                    out["rest"].append(
                        {
                            "adapter": adapter.namespace,
                            "port": adapter.port,
                            "route": f"* {res.path.raw}",
                            "operation": f"forward:{res.forward.target_namespace}",  # as the access log names it
                            "upstream": f"forward to {res.forward.target_namespace}",
                            "resource": None,
                        }
                    )
        elif isinstance(adapter, McpAdapter):
            for tool in adapter.tools:
                out["mcp"].append(
                    {
                        "adapter": adapter.namespace,
                        "port": adapter.port,
                        "tool": tool.name,
                        "upstream": _upstream(tool),
                        "inputSchema": input_schema(tool, bind_keys(cap)),
                        "annotations": annotations(tool),
                        "disabled": tool.broken,
                    }
                )
        elif isinstance(adapter, OtherAdapter):
            out["other"].append({"type": adapter.type, "namespace": adapter.namespace, "port": adapter.port})
    out["disabled"] = [part.as_json() for part in cap.disabled]
    for status in binds.status:
        out["binds"].append(
            {"namespace": status.namespace, "key": status.var, "source": status.source, "from": status.origin, "resolved": status.resolved}
        )
    return out


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _schema_summary(schema: dict[str, Any]) -> str:
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    parts = [f"{name}{'*' if name in required else ''}: {p.get('type', 'any')}" for name, p in props.items()]
    return ", ".join(parts) or "(no arguments)"


def _hints(ann: dict[str, Any]) -> str:
    names = {"readOnlyHint": "read-only", "destructiveHint": "destructive", "idempotentHint": "idempotent", "openWorldHint": "open-world"}
    return ", ".join(label for key, label in names.items() if ann.get(key)) or "-"


def render_text(desc: dict[str, Any]) -> str:
    sections = [f"{desc['file']}" + (f" — {desc['label']}" if desc.get("label") else "")]
    if desc["rest"]:
        rows = [[r["route"] + (" ?" + "&".join(f"{q}=" for q in r["inferred_query"]) if r.get("inferred_query") else ""), "DISABLED" if r.get("disabled") else r["upstream"], r["operation"]] for r in desc["rest"]]
        sections.append(f"REST routes (port {desc['rest'][0]['port']})\n" + _table(rows, ["ROUTE", "CALLS UPSTREAM", "OPERATION"]))
    if desc["mcp"]:
        rows = [[t["tool"], "DISABLED" if t.get("disabled") else t["upstream"], _schema_summary(t["inputSchema"]), _hints(t["annotations"])] for t in desc["mcp"]]
        sections.append(f"MCP tools (port {desc['mcp'][0]['port']})\n" + _table(rows, ["TOOL", "CALLS UPSTREAM", "INPUT (* required)", "HINTS"]))
    if desc["other"]:
        rows = [[o["type"], str(o["namespace"]), str(o["port"])] for o in desc["other"]]
        sections.append("Other adapters\n" + _table(rows, ["TYPE", "NAMESPACE", "PORT"]))
    if desc.get("namespaces"):
        rows = [[n["namespace"], n["mode"], n["upstream"] or "the bundled local engine"] for n in desc["namespaces"]]
        sections.append("Consumed namespaces (as naftiko run would send them)\n" + _table(rows, ["NAMESPACE", "MODE", "UPSTREAM"]))
    if desc.get("disabled"):
        rows = [[f"{d['file']}:{d['line']}:{d['column']}", d["part"], d["reason"]] for d in desc["disabled"]]
        sections.append("Disabled parts (not served; a disabled route or tool answers 503)\n" + _table(rows, ["WHERE", "PART", "REASON"]))
    if desc["binds"]:
        rows = [[f"{b['namespace']}.{b['key']}", b["source"], b["from"], "yes" if b["resolved"] else "NO"] for b in desc["binds"]]
        sections.append("Binds (values never shown)\n" + _table(rows, ["BIND", "SOURCE KEY", "FROM", "RESOLVED"]))
    return "\n\n".join(sections)


def render_json(descs: list[dict[str, Any]]) -> str:
    return json.dumps(descs, indent=2)
