"""Normalise skill and control adapters into their typed models."""

from __future__ import annotations

from typing import Any

from .. import model as m
from ..control import ControlAdapter, Management, Observability, Scripting
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
    timeout = as_dict(management.get("scripting")).get("timeout")
    valid_timeout = isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0
    observability = raw.get("observability")
    obs = as_dict(observability)
    local = as_dict(as_dict(obs.get("metrics")).get("local"))
    return ControlAdapter(
        "control", namespace, port, address, auth, where,
        management=Management(
            health=_flag(management, "health", True),
            info=_flag(management, "info", False),
            scripting=Scripting(float(timeout) if valid_timeout else None),
        ),
        observability=Observability(enabled=_flag(obs, "enabled", True), local_metrics=_flag(local, "enabled", True)),
    )


def _flag(section: dict[str, Any], key: str, default: bool) -> bool:
    value = section.get(key)
    return value if isinstance(value, bool) else default
