"""Normalise skill and control adapters into their typed models."""

from __future__ import annotations

from typing import Any, TypeGuard

from ...expressions.templates import Template
from .. import model as m
from ..control import DEFAULT_TRACE_BUFFER, ControlAdapter, Management, Observability, Scripting
from ..skills import Skill, SkillAdapter, SkillTool
from .values import as_dict, as_list, as_str

FRONTMATTER = ("license", "compatibility", "argument-hint", "allowed-tools", "user-invocable", "disable-model-invocation")


def skill_adapter(raw: dict[str, Any], namespace: str | None, port: int | None, address: str | None,
                  auth: m.Auth | None, where: m.Location | None = None) -> SkillAdapter:
    skills = [_skill(s) for s in as_list(raw.get("skills")) if isinstance(s, dict)]
    return SkillAdapter("skill", namespace, port, address, auth, where, skills=skills)


def _skill(raw: dict[str, Any]) -> Skill:
    metadata = raw.get("metadata")
    return Skill(
        name=as_str(raw.get("name")),
        description=as_str(raw.get("description")),
        tools=tuple(_skill_tool(t) for t in as_list(raw.get("tools")) if isinstance(t, dict)),
        frontmatter={key: raw[key] for key in FRONTMATTER if raw.get(key) is not None},
        metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) and metadata else None,
        location=as_str(raw.get("location")) or None,
    )


def _skill_tool(raw: dict[str, Any]) -> SkillTool:
    source = raw.get("from")
    name, description = as_str(raw.get("name")), as_str(raw.get("description"))
    if isinstance(source, dict):
        return SkillTool(name, description, source_namespace=str(source.get("sourceNamespace", "")), action=as_str(source.get("action")))
    return SkillTool(name, description, instruction=as_str(raw.get("instruction")))


def control_adapter(raw: dict[str, Any], namespace: str | None, port: int | None, address: str | None,
                    auth: m.Auth | None, where: m.Location | None = None) -> ControlAdapter:
    management = as_dict(raw.get("management"))
    return ControlAdapter(
        "control", namespace, port, address, auth, where,
        management=Management(
            health=_flag(management, "health", True),
            info=_flag(management, "info", False),
            scripting=_scripting(management.get("scripting")),
        ),
        observability=_observability(raw.get("observability")),
    )


def _positive(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _scripting(raw: Any) -> Scripting:
    section = as_dict(raw)
    timeout, limit = section.get("timeout"), section.get("statementLimit")
    return Scripting(
        timeout_ms=float(timeout) if _positive(timeout) else None,
        declared=isinstance(raw, dict),
        enabled=_flag(section, "enabled", True),
        default_location=as_str(section.get("defaultLocation")) or None,
        default_language=as_str(section.get("defaultLanguage")) or None,
        statement_limit=int(limit) if _positive(limit) else None,
        allowed_languages=tuple(str(x) for x in as_list(section.get("allowedLanguages"))),
    )


def _observability(raw: Any) -> Observability:
    obs = as_dict(raw)
    traces = as_dict(obs.get("traces"))
    local_traces = as_dict(traces.get("local"))
    sampling, size = traces.get("sampling"), local_traces.get("buffer-size")
    endpoint = as_str(as_dict(as_dict(obs.get("exporters")).get("otlp")).get("endpoint"))
    return Observability(
        enabled=_flag(obs, "enabled", True),
        local_metrics=_flag(as_dict(as_dict(obs.get("metrics")).get("local")), "enabled", True),
        declared=isinstance(raw, dict),
        sampling=float(sampling) if isinstance(sampling, (int, float)) and not isinstance(sampling, bool) and 0 <= sampling <= 1 else 1.0,
        propagation=str(traces.get("propagation") or "w3c"),
        traces_local=_flag(local_traces, "enabled", True),
        buffer_size=int(size) if _positive(size) else DEFAULT_TRACE_BUFFER,
        otlp_endpoint=Template.compile(endpoint) if endpoint else None,
    )


def _flag(section: dict[str, Any], key: str, default: bool) -> bool:
    value = section.get(key)
    return value if isinstance(value, bool) else default
