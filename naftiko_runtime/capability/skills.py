"""The typed model of a skill adapter: skill groups over the capability's other adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import OtherAdapter


@dataclass(frozen=True)
class SkillTool:
    """A derived tool (`from: {sourceNamespace, action}`) or an instruction."""

    name: str | None
    description: str | None
    source_namespace: str | None = None  # set for a derived tool
    action: str | None = None
    instruction: str | None = None  # set for an instruction tool


@dataclass(frozen=True)
class Skill:
    name: str | None
    description: str | None
    tools: tuple[SkillTool, ...]
    frontmatter: dict[str, Any]  # license, compatibility, ... as declared (only those present)
    metadata: dict[str, str] | None
    location: str | None

    @property
    def license(self) -> Any:
        return self.frontmatter.get("license")


@dataclass
class SkillAdapter(OtherAdapter):
    skills: list[Skill] = field(default_factory=list)
