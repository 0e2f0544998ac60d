"""The normalised capability model that every other layer reads instead of YAML.

Everything here is resolved at load: calls point at their consumed operation,
templates and JSONPaths are compiled, `{x}` and `{{x}}` placeholders are alike,
and `rest.x` / `tools.x` / `<namespace>.x` in `with` are references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from ..expressions.jsonpaths import JsonPath
from ..expressions.paths import PathTemplate
from ..expressions.templates import Template

ParamIn = Literal["query", "header", "path", "cookie", "body", "environment"]
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class Bind:
    """A namespace of keys resolved from the environment or a `location` file."""

    namespace: str
    keys: dict[str, str]
    location: str | None
    base_dir: Path
    where: Location


@dataclass
class Auth:
    """Authentication to an upstream (consumes) or required from callers (exposes)."""

    type: str
    token: Template | None = None
    username: Template | None = None
    password: Template | None = None
    key: str | None = None
    value: Template | None = None
    placement: str = "header"
    headers: dict[str, Template] = field(default_factory=dict)
    query: dict[str, Template] = field(default_factory=dict)

    @property
    def templates(self) -> list[Template]:
        values = (self.token, self.username, self.password, self.value, *self.headers.values(), *self.query.values())
        return [t for t in values if t is not None]


@dataclass
class ConsumedParam:
    name: str
    location: ParamIn
    value: Template | None
    type: str | None = None
    description: str | None = None
    required: bool = False


@dataclass
class Body:
    """A consumed operation's request body. `data` holds Templates at string leaves."""

    kind: Literal["json", "text", "xml", "sparql", "formUrlEncoded", "multipartForm", "raw"]
    data: Any
    content_type: str | None = None  # a raw body's own content type (a body `type` alpha2 does not define)


@dataclass
class NamedOutput:
    """A consumed operation's named projection (`name`, `type`, `value` JSONPath)."""

    name: str
    type: str
    path: JsonPath | None


@dataclass
class ConsumedOperation:
    namespace: str
    resource: str
    name: str
    method: str
    path: PathTemplate
    params: list[ConsumedParam]
    body: Body | None
    output_format: str
    output_schema: str | None
    outputs: list[NamedOutput]
    description: str | None
    label: str | None
    api: ConsumedApi = field(repr=False, default=None)  # type: ignore[assignment]
    where: Location | None = None
    broken: str | None = None  # why this operation is disabled (with its location); actions calling it answer 503

    @cached_property
    def body_params(self) -> tuple[ConsumedParam, ...]:
        """The parameters sent `in: body` (read by every call binding: sorted out once)."""
        return tuple(p for p in self.params if p.location == "body")

    @cached_property
    def taken_names(self) -> frozenset[str]:
        """What a forwarded query parameter may not be named: a path placeholder (any case) or a declared parameter."""
        return frozenset(n.casefold() for n in self.path.names) | {p.name for p in self.params}


@dataclass
class ConsumedApi:
    namespace: str
    base_uri: str
    description: str | None
    params: list[ConsumedParam]
    auth: Auth | None
    operations: list[ConsumedOperation]
    source_file: str
    where: Location | None = None

    def bind_names(self) -> set[str]:
        """The bind keys its credentials and parameters read (`{{X}}` and `{{namespace.X}}` alike)."""
        templates = [*(self.auth.templates if self.auth else []), *(p.value for p in self.params if p.value is not None)]
        return {n.split(".")[-1] for t in templates for n in t.names}


@dataclass
class WithValue:
    """One `with` entry: a reference to an incoming value, a template, a literal, or a tree (a list or mapping
    whose leaves are entries themselves, `with-structured`)."""

    kind: Literal["ref", "template", "literal", "tree"]
    ref: str | None = None
    prefix: str | None = None
    template: Template | None = None
    literal: Any = None
    tree: Any = None  # dict[str, WithValue] | list[WithValue]

    def leaves(self) -> list[WithValue]:
        """Itself, or every leaf of a tree."""
        if self.kind != "tree":
            return [self]
        nodes = self.tree.values() if isinstance(self.tree, dict) else self.tree
        return [leaf for node in nodes for leaf in node.leaves()]


@dataclass
class Call:
    target: str
    operation: ConsumedOperation
    with_: dict[str, WithValue]
    where: Location | None = None

    @cached_property
    def refs(self) -> frozenset[str | None]:
        """The incoming names `with` reads by reference: never forwarded as query parameters as well."""
        return frozenset(v.ref for v in self.with_.values() if v.kind == "ref")


@dataclass
class InputParam:
    """An exposed input: a REST parameter (`in` set) or an MCP tool argument (`in` None)."""

    name: str
    location: str | None
    type: str
    description: str | None
    required: bool
    pattern: str | None = None
    value: JsonPath | str | None = None
    items: dict[str, Any] | None = None
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)  # `pattern`, compiled at load
    enum: list[Any] | None = None  # the only values accepted
    example: Any = None  # shown to agents (MCP `examples`) and in the exported OpenAPI


@dataclass
class Output:
    """An exposed output mapping node (simple, orchestrated or mock mode)."""

    type: str
    name: str | None = None
    mapping: JsonPath | None = None
    value: Template | None = None
    const: Any = None
    properties: dict[str, Output] | None = None
    items: Output | list[Output] | None = None


@dataclass(frozen=True)
class ScriptStep:
    """A `script` step as declared; its interpreter and folder are resolved when a server starts."""

    language: str  # python, javascript or groovy (declared, else from the file's extension)
    file: str
    dependencies: tuple[str, ...] = ()
    location: str = "."  # the scripts' folder, relative to the capability file


@dataclass
class Step:
    kind: Literal["call", "lookup", "script"]
    name: str
    call: Call | None = None
    index: str | None = None
    match: str | None = None
    lookup_value: JsonPath | Template | None = None
    fields: list[str] = field(default_factory=list)
    script: ScriptStep | None = None
    with_: dict[str, WithValue] = field(default_factory=dict)


@dataclass
class Mapping:
    target: str
    value: JsonPath


@dataclass
class Hints:
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


@dataclass
class Action:
    """What an exposed REST operation or MCP tool does, in the terms `invoke` executes."""

    name: str
    adapter: str
    label: str | None
    description: str | None
    inputs: list[InputParam] | None
    call: Call | None
    steps: list[Step]
    mappings: list[Mapping]
    outputs: list[Output]
    hints: Hints
    where: Location | None = None
    broken: str | None = None  # why this action is disabled (the defect and its location); it answers 503

    @property
    def is_mock(self) -> bool:
        return self.call is None and not self.steps


@dataclass
class RestOperation:
    method: str
    action: Action
    path: PathTemplate | None = None  # an operation-level sub-path, when it has its own


@dataclass
class Forward:
    target_namespace: str
    trusted_headers: list[str]


@dataclass
class RestResource:
    path: PathTemplate
    name: str | None
    description: str | None
    operations: list[RestOperation]
    forward: Forward | None
    where: Location | None = None


@dataclass
class RestAdapter:
    namespace: str
    port: int
    address: str | None
    auth: Auth | None
    resources: list[RestResource]
    where: Location | None = None
    type: str = "rest"


@dataclass(frozen=True)
class PromptArgument:
    name: str
    label: str | None
    description: str | None
    required: bool = True


@dataclass(frozen=True)
class PromptMessage:
    role: str
    content: Template  # compiled with the "keep" policy: an argument not given leaves its placeholder


@dataclass
class McpResource:
    name: str
    label: str | None
    uri: str
    description: str | None
    mime_type: str | None
    action: Action | None
    location: str | None


@dataclass
class McpPrompt:
    name: str
    label: str | None
    description: str | None
    arguments: list[PromptArgument]
    template: list[PromptMessage]
    location: str | None


@dataclass
class McpAdapter:
    namespace: str
    port: int | None
    address: str | None
    transport: str
    description: str | None
    auth: Auth | None
    tools: list[Action]
    resources: list[McpResource]
    prompts: list[McpPrompt]
    where: Location | None = None
    type: str = "mcp"


@dataclass
class OtherAdapter:
    """What skill and control adapters share (their own parts: `skills.py`, `control.py`)."""

    type: str
    namespace: str | None
    port: int | None
    address: str | None
    auth: Auth | None
    where: Location | None = None


Adapter = RestAdapter | McpAdapter | OtherAdapter


@dataclass(frozen=True)
class Disabled:
    """A part of the file that is not served as written, and why; the rest of the file is."""

    part: str  # e.g. "tool 'search' of adapter 'api'"
    kind: str
    reason: str
    where: Location

    def __str__(self) -> str:
        return f"{self.where}: {self.part} disabled: {self.reason}"

    def as_json(self) -> dict[str, Any]:
        """As the readiness probe and `naftiko inspect --format json` list it."""
        w = self.where
        return {"file": w.file, "line": w.line, "column": w.col, "part": self.part, "kind": self.kind, "reason": self.reason}


@dataclass
class Capability:
    file: Path
    label: str | None
    description: str | None
    binds: list[Bind]
    consumes: list[ConsumedApi]
    adapters: list[Adapter]
    aggregates: dict[str, Action]
    spec_version: str | None = None  # the file's `naftiko:` version
    disabled: list[Disabled] = field(default_factory=list)  # broken parts, left out or answering 503

    def api(self, namespace: str) -> ConsumedApi | None:
        return next((a for a in self.consumes if a.namespace == namespace), None)

    @property
    def base_dir(self) -> Path:
        return self.file.parent
