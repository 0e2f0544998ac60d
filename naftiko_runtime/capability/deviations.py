"""The one table of deviations from alpha2 that the runtime tolerates.

Each real-world deviation has a stable code, what the file does, its severity at each validation
level, and what the runtime does with it. The schema check (`schema_messages.py`), the dialect
rules (`compat.py`) and the normaliser attach codes; the loader reads severities and wording here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .diagnostics import Severity

#: Who attaches the code: the schema check itself, a dialect rule over a schema issue, or the normaliser.
SeenBy = Literal["schema", "dialect", "normalise"]


@dataclass(frozen=True)
class Deviation:
    code: str
    message: str  # what the file does, and why that is tolerable
    runtime: str  # what the runtime does with it
    seen_by: SeenBy
    default: Severity = "warning"  # at the default level
    strict: Severity = "error"  # at `--strict`


_TABLE = (
    # -- attached by the schema check --------------------------------------------------------------
    Deviation(
        "consumed-param-extra-fields",
        "A consumed inputParameter carries `type`, `description` or `required`, which alpha2 does not define but "
        "the reference engine reads",
        "the runtime uses them for MCP input schemas and required-argument checks.",
        "schema",
    ),
    Deviation(
        "rest-adapter-description",
        "A `type: rest` adapter has a `description` (alpha2 gives only MCP and skill adapters one) and nothing reads it",
        "the runtime ignores it.",
        "schema",
    ),
    Deviation(
        "object-output-without-properties",
        "A `type: object` output has `mapping` (or `value`) but no `properties`, for which the reference engine "
        "returns `{}`",
        "the runtime passes the mapped subtree through unchanged.",
        "schema",
    ),
    Deviation(
        "resource-name-not-kebab",
        "A resource `name` has characters besides letters, digits and `-` (e.g. `plan_id`, `emoji.list`, "
        "`#Create`, copied from upstream paths) but no `call` refers to resource names",
        "the runtime keeps the name as given.",
        "schema",
    ),
    Deviation(
        "param-name-chars",
        "An input parameter `name` uses `.`, `[`, `]` or `:` as real upstream names do (`filter[tags]`, `svm.name`, "
        "`id:in`, which the reference regex even admits in part by accident)",
        "the runtime sends the name unchanged.",
        "schema",
    ),
    Deviation(
        "missing-description",
        "A `description` that alpha2 requires is absent (exposed or tool input parameter, MCP tool, skill tool) "
        "although nothing depends on it",
        "the runtime falls back to the label or the name.",
        "schema",
    ),
    Deviation(
        "info-metadata",
        "`info` uses `title` or `name` instead of `label` (or has none), or carries extra descriptive fields such as "
        "`personas`, and `info` "
        "is never interpreted",
        "the runtime shows `title` (else `name`) as the label and ignores the rest.",
        "schema",
    ),
    # -- dialects of published files, recognised over a schema issue (compat.py) -------------------
    Deviation("version-previous-alpha", "the file declares `naftiko: 1.0.0-alpha1`, the previous alpha, whose published files are "
              "otherwise written like alpha2 ones", "the file is read by alpha2's rules: what alpha2 does not define is "
              "reported and disables only its part", "dialect"),
    Deviation("resource-name-empty", "a consumed resource's `name` is left empty (`name: null`), and only a three-part "
              "call refers to resource names", "the resource is served unnamed (`resource-N`, its position)", "dialect"),
    Deviation("operation-name-chars", "a consumed operation's `name` keeps an upstream operationId's `_` or `.` "
              "(`AIGateway_ChatCompletions`)", "the operation keeps its name; a call reaches it by a spelling a call can "
              "write (`ns.aigateway-chat-completions`, read in another case or with other separators)", "dialect"),
    Deviation("with-structured", "a `with` entry is a list or mapping (the JSON value of a body parameter), maybe with "
              "references such as `tools.tag` among its leaves", "the structure is sent as that parameter's value, each "
              "leaf read like a `with` value of its own (a reference with no value is null)", "dialect"),
    Deviation("identifier-underscore", "a consumes `namespace` or a `call` uses `_` (`migration_hub`, "
              "`openmeetings.add_2`), as upstream operationIds do", "the name is used as written", "dialect"),
    Deviation("baseuri-placeholder", "`baseUri` holds `{{placeholders}}` (or OpenAPI's `{x}`), maybe as its whole origin "
              "(`{{env.BASE_URL}}/api/58`)",
              "the placeholders are filled per call from binds, then the environment, then the call's values; a leading "
              "one may hold a whole origin, which `--upstream` replaces", "dialect"),
    Deviation("baseuri-not-http", "`baseUri` has a scheme other than http(s) (`blpapi+session://localhost`)",
              "calls through it answer 502 until `--upstream NAMESPACE=URL` replaces its origin; the rest of the "
              "namespace is read as usual", "dialect"),
    Deviation("baseuri-scheme-relative", "`baseUri` is scheme-relative (`//api.example.com/v1`)",
              "it is read as https", "dialect"),
    Deviation("baseuri-empty", "`baseUri` is empty",
              "calls answer 502 until `--upstream NAMESPACE=URL` names the upstream", "dialect"),
    Deviation("auth-alias", "`auth` is written for `authentication`", "'auth' is read as 'authentication'", "dialect"),
    Deviation("apikey-dialect", "API-key authentication uses OpenAPI's `in`/`name` or a `headers` map",
              "API-key authentication written OpenAPI-style ('in'/'name') or as a 'headers' map is sent as such", "dialect"),
    Deviation("auth-other-scheme-fields", "bearer authentication gives its token as `value` (with `placement`), or API-key "
              "authentication names its header as `header: X-Key` (or `query: key`) with the secret in `key`",
              "the bearer `value` is sent as the token; `header:`/`query:` names where the API key goes and `key` is its "
              "value", "dialect"),
    Deviation("auth-query-parameters", "`type: query` authentication lists `parameters`",
              "each of the 'parameters' is added to the query string of every call", "dialect"),
    Deviation("body-type-alias", "a body `type` is `form` or `multipart`",
              "'form' is read as formUrlEncoded, 'multipart' as multipartForm", "dialect"),
    Deviation("method-head", "an operation's `method` is HEAD", "HEAD is sent as HEAD", "dialect"),
    Deviation("bind-key-digit", "a bind key starts with a digit",
              "the key is read from the environment or file under that exact name", "dialect"),
    Deviation("empty-binds", "`binds` is an empty list", "an empty 'binds' list is ignored", "dialect"),
    Deviation("array-output-without-items", "an array output has no `items`",
              "the array's elements pass through unchanged", "dialect"),
    Deviation("output-type-integer", "an output parameter's `type` is `integer`, as JSON Schema writes it",
              "the output is described and converted as an integer", "dialect"),
    Deviation("output-descriptive-fields", "an output carries descriptive fields its kind does not define "
              "(`name`, `description` on a mapped object or array)", "they are ignored; the output maps as written",
              "dialect"),
    Deviation("rest-operation-hints", "an exposed REST operation has MCP tool `hints`",
              "they are ignored (REST has no hints)", "dialect"),
    Deviation("operation-path", "an operation has its own `path`",
              "the operation's own path is used: as is when it starts with the resource path, else appended to it", "dialect"),
    Deviation("resource-path-from-operations", "a consumed resource has no `path` but each of its operations has its own",
              "each operation's own path is used as written", "dialect"),
    Deviation("operation-id-alias", "an operation is named by `id`", "an operation's 'id' is read as its 'name'", "dialect"),
    Deviation("body-json-passthrough", "a JSON body has no `data`",
              "a JSON body without 'data' sends the caller's JSON body (REST) or 'body' argument (MCP)", "dialect"),
    Deviation("auth-unsupported", "an authentication scheme this runtime cannot compute (request signing) or does not know",
              "calls are sent without credentials (the upstream will likely answer 401)", "dialect"),
    Deviation("exposed-param-required", "an exposed input parameter has `required`",
              "'required' on an exposed input parameter is honoured", "dialect"),
    Deviation("exposed-param-no-type", "an exposed input parameter or tool argument has no `type`",
              "an input without 'type' is read as a string", "dialect"),
    Deviation("param-unknown-field", "an input parameter carries a field alpha2 does not define",
              "fields of a parameter the runtime does not know are ignored", "dialect"),
    Deviation("adapter-port-missing", "an exposed adapter has no `port`",
              "the adapter listens on the port --rest-port/--mcp-port names, else on a free port the start log shows",
              "dialect"),
    Deviation("auth-type-alias", "an authentication `type` is a known one in another case or with separators "
              "(`Bearer`, `api_key`)", "the type is read case-insensitively, separators ignored", "dialect"),
    Deviation("body-type-unknown", "a body `type` is none of alpha2's",
              "the body is sent as written, with the type as its content type (`graphql`: application/graphql)", "dialect"),
    Deviation("output-format-unknown", "an `outputRawFormat` is none of alpha2's",
              "the upstream body is passed through as text, unconverted", "dialect"),
    Deviation("three-part-call", "a `call` is `namespace.resource.operation`",
              "'namespace.resource.operation' names the resource explicitly (a runtime extension)", "dialect"),
    Deviation("hint-mcp-names", "a tool's `hints` use MCP's names (`readOnlyHint`, `destructiveHint`, `idempotentHint`, "
              "`openWorldHint`)",
              "MCP's hint names are read as the alpha2 ones (readOnlyHint as readOnly, destructiveHint as destructive, …)",
              "dialect"),
    # -- seen by the normaliser: the schema cannot see them ----------------------------------------
    Deviation(
        "single-brace-placeholder",
        "A consumed resource path uses OpenAPI `{x}` instead of `{{x}}`, which alpha2 does not constrain and the "
        "reference engine leaves literal",
        "the runtime substitutes `{x}` like `{{x}}`.",
        "normalise",
    ),
    Deviation(
        "with-reference-prefix",
        "A `with` value is `rest.x`, `tools.x` or `mcp.x`, which the schema allows as any string and the reference "
        "engine sends literally",
        "the runtime treats it as a reference to the incoming value `x`.",
        "normalise",
    ),
    Deviation(
        "prompt-placeholder",
        "An MCP prompt placeholder is written `{{ x }}`, `{{a.b}}` or `{{a-b}}`, which the reference engine leaves "
        "as text (alpha2 prompts read `{{name}}` with letters, digits and `_` only)",
        "the runtime fills it like every other template; an argument not given leaves it as written.",
        "normalise",
    ),
    Deviation(
        "guessed-namespace",
        "A `call` names a consumes namespace declared nowhere, yet the file leaves one reading: the one declared "
        "namespace it is a `-`-separated prefix/suffix variant of, else the one upstream request the file's operations "
        "give by name (exact, else in another case or with other separators, else a `-`-variant, else method-resource "
        "such as `get-volumes`)",
        "the call goes to that operation (operations declared several times alike count once).",
        "normalise",
    ),
    Deviation(
        "guessed-operation",
        "A `call` names an operation its namespace lacks, yet the namespace leaves one reading: the one request "
        "whose name is it in another case or with other separators (`listTargets` for `list-targets`), else the one "
        "whose name is a `-`-separated variant of it (`list` for `list-signals`), else the resource's own request "
        "it spells as method-resource (`get-volumes` for resource `volumes`' GET `…/volumes`)",
        "the call goes to that operation.",
        "normalise",
    ),
    Deviation(
        "exposed-path-relative",
        "An exposed REST resource `path` does not start with `/` (`path: token`), which no HTTP request can match",
        "the runtime serves it under `/` (`/token`), and exports it so.",
        "normalise",
    ),
    Deviation(
        "exposed-path-fragment",
        "An exposed REST resource `path` has a `#fragment` (`/v1/#DescribeDBInstances`, copied from Smithy-style "
        "upstream paths), which no HTTP request carries",
        "the runtime serves it at the path before `#`; two operations that then share method and path are a duplicate "
        "route (the first is served).",
        "normalise",
    ),
    Deviation(
        "repeated-base-path",
        "A consumed path starts by repeating the base URI's own path, which names an API version (`baseUri: "
        "https://api.netlify.com/api/v1` with `path: /api/v1/sites`); the reference engine sends the version twice",
        "the repeat is sent once (`/api/v1/sites`).",
        "normalise",
    ),
    Deviation(
        "consumed-template-caller-prefix",
        "A consumed template names the caller's values with the exposing side's prefix (`{{tools.query}}`), as a "
        "`with` reference would; a consumed template has no such names, so the reference engine sends them empty",
        "the values are read by their own names (`{{query}}`).",
        "normalise",
    ),
    Deviation(
        "unresolved-call",
        "A `call` names no consumes namespace or operation",
        "the operation answers 503 (operation_disabled) until the call is fixed; the rest of the file serves",
        "normalise",
    ),
)

DEVIATIONS: dict[str, Deviation] = {d.code: d for d in _TABLE}


def severity(code: str | None, *, strict: bool) -> Severity | None:
    """The severity a deviation has at a level; None when `code` is not a deviation."""
    deviation = DEVIATIONS.get(code or "")
    if deviation is None:
        return None
    return deviation.strict if strict else deviation.default
