"""Turn a capability document (plain data + positions) into the typed model.

Tolerant by design: the schema check has already reported what is invalid, so this
reads what is there, fills defaults, compiles templates and JSONPaths, resolves every
`call` and `ref`, and reports what only a reader of the whole file can see.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from . import model as m
from .diagnostics import Diagnostic
from .jsonpaths import JsonPath
from .locations import resolve_location
from .paths import PathTemplate
from .resolution import CallSite, resolve_operation
from .scripting import script_language, unavailable_reason
from .templates import Template, has_tags
from .yaml_source import JsonPath as YPath
from .yaml_source import SourceMap

REFERENCE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

Loader = Callable[[Path], "tuple[Any, SourceMap] | None"]


class Normalizer:
    """One pass over one document; collects diagnostics instead of stopping at the first."""

    def __init__(self, data: dict[str, Any], source: SourceMap, file: Path, load_other: Loader) -> None:
        self.data = data
        self.source = source
        self.file = file
        self.load_other = load_other
        self.diagnostics: list[Diagnostic] = []
        self.apis: dict[str, m.ConsumedApi] = {}
        self.aggregates: dict[str, m.Action] = {}
        self._broken: str | None = None

    # -- diagnostics ---------------------------------------------------------------
    def where(self, path: YPath) -> m.Location:
        line, col = self.source.locate(path)
        return m.Location(self.source.file, line, col)

    def error(self, message: str, path: YPath, code: str = "semantic") -> None:
        line, col = self.source.locate(path)
        self.diagnostics.append(Diagnostic.error(message, self.source.file, line, col, path, code))

    def warn(self, message: str, path: YPath, code: str = "semantic") -> None:
        line, col = self.source.locate(path)
        self.diagnostics.append(Diagnostic.warning(message, self.source.file, line, col, path, code))

    # -- entry ---------------------------------------------------------------------
    def capability(self) -> m.Capability:
        info = _dict(self.data.get("info"))
        cap = _dict(self.data.get("capability"))
        binds = [self.bind(b, ("binds", i)) for i, b in enumerate(_list(self.data.get("binds"))) if isinstance(b, dict)]
        binds += [
            self.bind(b, ("capability", "binds", i))
            for i, b in enumerate(_list(cap.get("binds")))
            if isinstance(b, dict)
        ]
        consumes_path: YPath = ("capability", "consumes") if cap else ("consumes",)
        consumes_raw = cap.get("consumes") if cap else self.data.get("consumes")
        for i, entry in enumerate(_list(consumes_raw)):
            if isinstance(entry, dict):
                for api in self.consumes_entry(entry, consumes_path + (i,)):
                    self.add_api(api, consumes_path + (i,))
        for i, agg in enumerate(_list(cap.get("aggregates"))):
            if isinstance(agg, dict):
                self.aggregate(agg, ("capability", "aggregates", i))
        adapters: list[m.Adapter] = []
        for i, raw in enumerate(_list(cap.get("exposes"))):
            if isinstance(raw, dict):
                adapter = self.adapter(raw, ("capability", "exposes", i))
                if adapter is not None:
                    adapters.append(adapter)
        return m.Capability(
            file=self.file,
            label=_str(info.get("label")),
            description=_str(info.get("description")),
            binds=binds,
            consumes=list(self.apis.values()),
            adapters=adapters,
            aggregates=self.aggregates,
            raw=self.data,
        )

    def add_api(self, api: m.ConsumedApi, path: YPath) -> None:
        """Register a consumes namespace; a repeat with the same upstream adds its resources."""
        first = self.apis.get(api.namespace)
        if first is None:
            self.apis[api.namespace] = api
            return
        same_auth = (first.auth.raw if first.auth else None) == (api.auth.raw if api.auth else None)
        if first.base_uri != api.base_uri or not same_auth:
            self.error(
                f"consumes namespace '{api.namespace}' is declared twice with a different baseUri or authentication",
                path,
            )
            return
        for op in api.operations:
            op.api = first
        first.operations.extend(api.operations)
        self.warn(
            f"consumes namespace '{api.namespace}' is declared again with the same baseUri and authentication; "
            "its resources are merged into the first declaration",
            path,
            "merged-namespace",
        )

    # -- binds -----------------------------------------------------------------------
    def bind(self, raw: dict[str, Any], path: YPath) -> m.Bind:
        keys = {str(k): str(v) for k, v in _dict(raw.get("keys")).items()}
        return m.Bind(
            namespace=str(raw.get("namespace", "")),
            keys=keys,
            location=_str(raw.get("location")),
            base_dir=self.file.parent,
            where=self.where(path),
        )

    # -- consumes --------------------------------------------------------------------
    def consumes_entry(self, raw: dict[str, Any], path: YPath) -> list[m.ConsumedApi]:
        if "import" in raw or "location" in raw and "baseUri" not in raw:
            return self.imported(raw, path)
        return [self.api(raw, path)]

    def imported(self, raw: dict[str, Any], path: YPath) -> list[m.ConsumedApi]:
        location, wanted = _str(raw.get("location")), _str(raw.get("import"))
        if not location or not wanted:
            self.error("an imported consumes needs both 'location' and 'import'", path)
            return []
        target = resolve_location(location, self.file.parent)
        loaded = self.load_other(target)
        if loaded is None:
            self.error(f"cannot import consumes from '{location}' (resolved to {target})", path + ("location",))
            return []
        data, source = loaded
        other = Normalizer(data if isinstance(data, dict) else {}, source, target, self.load_other)
        entries = _list(_dict(data).get("consumes")) or _list(_dict(_dict(data).get("capability")).get("consumes"))
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and entry.get("namespace") == wanted:
                api = other.api(entry, ("consumes", i))
                self.diagnostics.extend(other.diagnostics)
                alias = _str(raw.get("as"))
                if alias:
                    api.namespace = alias
                    for op in api.operations:
                        op.namespace = alias
                return [api]
        names = ", ".join(str(_dict(e).get("namespace")) for e in entries) or "none"
        self.error(f"'{location}' has no consumes namespace '{wanted}' (it has: {names})", path + ("import",))
        return []

    def api(self, raw: dict[str, Any], path: YPath) -> m.ConsumedApi:
        namespace = str(raw.get("namespace", ""))
        base_uri = self.base_uri(raw.get("baseUri"), path + ("baseUri",))
        api = m.ConsumedApi(
            namespace=namespace,
            base_uri=base_uri,
            description=_str(raw.get("description")),
            params=self.consumed_params(raw.get("inputParameters"), path + ("inputParameters",)),
            auth=self.auth(raw.get("authentication", raw.get("auth")), path + ("authentication" if "authentication" in raw else "auth",)),
            operations=[],
            source_file=self.source.file,
            where=self.where(path),
        )
        for r, res in enumerate(_list(raw.get("resources"))):
            if not isinstance(res, dict):
                continue
            rpath = path + ("resources", r)
            template = PathTemplate.parse(str(res.get("path", "")))
            if template.single_brace:
                self.warn(
                    f"path '{template.raw}' uses single-brace placeholders; alpha2 writes "
                    "{{name}}. The runtime substitutes both forms alike",
                    rpath + ("path",),
                    "single-brace-placeholder",
                )
            res_params = self.consumed_params(res.get("inputParameters"), rpath + ("inputParameters",))
            for o, op in enumerate(_list(res.get("operations"))):
                if not isinstance(op, dict):
                    continue
                opath = rpath + ("operations", o)
                op_template = PathTemplate.parse(join_operation_path(template.raw, op["path"])) if isinstance(op.get("path"), str) else template
                params = _merge_params(
                    api.params,
                    res_params,
                    self.consumed_params(op.get("inputParameters"), opath + ("inputParameters",)),
                )
                api.operations.append(
                    m.ConsumedOperation(
                        namespace=namespace,
                        resource=str(res.get("name", f"resource-{r}")),
                        name=str(op.get("name", op.get("id", ""))),
                        method=str(op.get("method", "GET")).upper(),
                        path=op_template,
                        params=params,
                        body=self.body(op.get("body"), opath + ("body",), params),
                        output_format=str(op.get("outputRawFormat", "json")),
                        output_schema=_str(op.get("outputSchema")),
                        outputs=self.named_outputs(op.get("outputParameters"), opath + ("outputParameters",)),
                        description=_str(op.get("description")),
                        label=_str(op.get("label")),
                        api=api,
                        where=self.where(opath),
                    )
                )
        return api

    def base_uri(self, raw: Any, path: YPath) -> str:
        uri = str(raw or "")
        if uri and not re.match(r"^(https?://|\{\{)", uri):
            self.error(f"baseUri must be an absolute http(s) URI such as https://api.example.com, got '{uri}'", path)
        elif uri.endswith("/"):
            self.warn(
                f"baseUri '{uri}' ends with '/'; the reference engine refuses this. "
                "The runtime joins it to resource paths with exactly one '/'",
                path,
                "baseuri-trailing-slash",
            )
        return uri

    def consumed_params(self, raw: Any, path: YPath) -> list[m.ConsumedParam]:
        out = []
        for i, p in enumerate(_params_list(raw)):
            ppath = path + (i,)
            value = p.get("value")
            out.append(
                m.ConsumedParam(
                    name=str(p.get("name", "")),
                    location=str(p.get("in", "query")),  # type: ignore[arg-type]
                    value=self.template(value, ppath + ("value",)) if value is not None else None,
                    type=_str(p.get("type")),
                    description=_str(p.get("description")),
                    required=bool(p.get("required", False)),
                )
            )
        return out

    def template(self, raw: Any, path: YPath, mode: str = "text") -> Template:
        try:
            return Template.compile(str(raw), mode)  # type: ignore[arg-type]
        except Exception as exc:  # jinja syntax errors cannot happen by construction; be safe
            self.error(f"invalid template: {exc}", path)
            return Template.compile("")

    def jsonpath(self, raw: Any, path: YPath) -> JsonPath | None:
        if raw is None:
            return None
        try:
            return JsonPath.compile(str(raw))
        except ValueError as exc:
            self.error(str(exc), path)
            return None

    def body(self, raw: Any, path: YPath, params: list[m.ConsumedParam] | None = None) -> m.Body | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            mode = "json" if raw.lstrip()[:1] in ("{", "[") else "text"
            return m.Body("raw", self.template(raw, path, mode))
        if not isinstance(raw, dict):
            self.error("body must be a template string or {type, data}", path)
            return None
        kind = str(raw.get("type", "json"))
        kind = {"form": "formUrlEncoded", "multipart": "multipartForm"}.get(kind, kind)
        data = raw.get("data")
        if kind == "json" and "data" not in raw:
            if params is not None and not any(p.location == "body" for p in params):
                params.append(m.ConsumedParam("body", "body", None, "object", "The JSON request body.", False))
            return None
        if kind == "json":
            return m.Body("json", self.template_tree(data, path + ("data",)))
        if kind in ("text", "xml", "sparql"):
            mode = "xml" if kind == "xml" else "text"
            return m.Body(kind, self.template(data if data is not None else "", path + ("data",), mode))  # type: ignore[arg-type]
        if kind == "formUrlEncoded":
            if isinstance(data, str):
                return m.Body(kind, self.template(data, path + ("data",), "form"))
            return m.Body(kind, {str(k): self.template(v, path + ("data", k)) for k, v in _dict(data).items()})
        if kind == "multipartForm":
            parts = []
            for i, part in enumerate(_list(data)):
                part = _dict(part)
                parts.append(
                    {
                        "name": str(part.get("name", "")),
                        "value": self.template(part.get("value", ""), path + ("data", i, "value")),
                        "filename": _str(part.get("filename")),
                        "contentType": _str(part.get("contentType")),
                    }
                )
            return m.Body(kind, parts)
        self.error(f"unknown body type '{kind}' (json, text, xml, sparql, formUrlEncoded, multipartForm)", path)
        return None

    def template_tree(self, data: Any, path: YPath) -> Any:
        if isinstance(data, str):
            if data.lstrip()[:1] in ("{", "[") and has_tags(data):
                return self.template(data, path, "json")
            return self.template(data, path) if has_tags(data) else data
        if isinstance(data, dict):
            return {k: self.template_tree(v, path + (k,)) for k, v in data.items()}
        if isinstance(data, list):
            return [self.template_tree(v, path + (i,)) for i, v in enumerate(data)]
        return data

    def named_outputs(self, raw: Any, path: YPath) -> list[m.NamedOutput]:
        out = []
        for i, p in enumerate(_params_list(raw)):
            if "name" in p and "value" in p and "mapping" not in p:
                out.append(
                    m.NamedOutput(str(p["name"]), str(p.get("type", "string")), self.jsonpath(p.get("value"), path + (i, "value")))
                )
        return out

    def auth(self, raw: Any, path: YPath) -> m.Auth | None:
        if not isinstance(raw, dict):
            return None
        kind = str(raw.get("type", ""))

        def tpl(name: str) -> Template | None:
            return self.template(raw[name], path + (name,)) if raw.get(name) is not None else None

        headers = {str(k): self.template(v, path + ("headers", k)) for k, v in _dict(raw.get("headers")).items()}
        query = {
            str(p.get("name")): self.template(p.get("value", ""), path + ("parameters", i, "value"))
            for i, p in enumerate(_list(raw.get("parameters")))
            if isinstance(p, dict) and p.get("name")
        }
        if kind == "query" and query:
            kind = "apikey"
        elif kind not in ("bearer", "apikey", "basic", "digest", "oauth2"):
            self.warn(
                f"authentication type '{kind}' is not supported by this runtime (bearer, apikey, basic, digest); "
                "calls are sent without credentials",
                path + ("type",),
                "auth-unsupported",
            )
        placement = str(raw.get("placement", raw.get("in", "header")))
        return m.Auth(
            type=kind,
            token=tpl("token"),
            username=tpl("username"),
            password=tpl("password"),
            key=_str(raw.get("key", raw.get("name"))),
            value=tpl("value"),
            placement="query" if placement == "query" else "header",
            headers=headers,
            query=query,
            raw=raw,
        )

    # -- exposes ---------------------------------------------------------------------
    def adapter(self, raw: dict[str, Any], path: YPath) -> m.Adapter | None:
        kind = raw.get("type")
        namespace = str(raw.get("namespace", ""))
        auth = self.auth(raw.get("authentication"), path + ("authentication",))
        port = raw.get("port") if isinstance(raw.get("port"), int) else None
        address = _str(raw.get("address"))
        if kind == "rest":
            resources = [
                self.rest_resource(r, namespace, path + ("resources", i))
                for i, r in enumerate(_list(raw.get("resources")))
                if isinstance(r, dict)
            ]
            return m.RestAdapter(namespace, port or 0, address, auth, resources, self.where(path))
        if kind == "mcp":
            tools = [
                self.tool(t, namespace, path + ("tools", i))
                for i, t in enumerate(_list(raw.get("tools")))
                if isinstance(t, dict)
            ]
            return m.McpAdapter(
                namespace=namespace,
                port=port,
                address=address,
                transport=str(raw.get("transport", "http")),
                description=_str(raw.get("description")),
                auth=auth,
                tools=[t for t in tools if t is not None],
                resources=self.mcp_resources(raw.get("resources"), namespace, path + ("resources",)),
                prompts=self.mcp_prompts(raw.get("prompts")),
                where=self.where(path),
            )
        if kind in ("skill", "control"):
            return m.OtherAdapter(str(kind), namespace or None, port, address, auth, raw, self.where(path))
        self.error(f"unknown adapter type '{kind}' (rest, mcp, skill, control)", path + ("type",))
        return None

    def rest_resource(self, raw: dict[str, Any], adapter: str, path: YPath) -> m.RestResource:
        template = PathTemplate.parse(str(raw.get("path", "")))
        if re.match(r"^/(v\d+)/\1(/|$)", template.raw):
            self.warn(
                f"path '{template.raw}' repeats its version prefix; it is served exactly as declared",
                path + ("path",),
                "double-prefix",
            )
        shared_inputs = self.exposed_inputs(raw.get("inputParameters"), path + ("inputParameters",), rest=True)
        operations = []
        for i, op in enumerate(_list(raw.get("operations"))):
            if not isinstance(op, dict):
                continue
            opath = path + ("operations", i)
            method = str(op.get("method", "GET")).upper()
            site = PathTemplate.parse(join_operation_path(template.raw, op["path"])) if isinstance(op.get("path"), str) else template
            action = self.action(op, adapter, opath, rest=True, site_path=site, method=method)
            if action.inputs is not None or shared_inputs:
                action.inputs = _merge_inputs(shared_inputs, action.inputs or [])
            operations.append(m.RestOperation(method, action, site if site is not template else None))
        forward = None
        if isinstance(raw.get("forward"), dict):
            fwd = raw["forward"]
            forward = m.Forward(str(fwd.get("targetNamespace", "")), [str(h) for h in _list(fwd.get("trustedHeaders"))])
            if forward.target_namespace not in self.apis:
                self.error(f"forward targets unknown consumes namespace '{forward.target_namespace}'", path + ("forward",))
        return m.RestResource(template, _str(raw.get("name")), _str(raw.get("description")), operations, forward, self.where(path))

    def tool(self, raw: dict[str, Any], adapter: str, path: YPath) -> m.Action:
        referenced = self.aggregates.get(str(raw["ref"])) if raw.get("ref") is not None else None
        name = str(raw.get("name") or (referenced.name if referenced else ""))  # a `ref` tool may take its function's name
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,128}", name):
            self.error(f"MCP tool name '{name}' must be 1-128 characters of A-Z a-z 0-9 . _ -", path + ("name",))
        elif len(name) > 64:
            self.warn(f"MCP tool name '{name}' is longer than 64 characters; some clients truncate or refuse it", path + ("name",))
        return self.action(raw, adapter, path, rest=False)

    def action(
        self,
        raw: dict[str, Any],
        adapter: str,
        path: YPath,
        *,
        rest: bool,
        site_path: PathTemplate | None = None,
        method: str | None = None,
    ) -> m.Action:
        base: m.Action | None = None
        if raw.get("ref") is not None:
            ref = str(raw["ref"])
            base = self.aggregates.get(ref)
            if base is None:
                known = ", ".join(sorted(self.aggregates)) or "none"
                self.error(f"ref '{ref}' names no aggregate function (known: {known})", path + ("ref",))
        inputs = (
            self.exposed_inputs(raw.get("inputParameters"), path + ("inputParameters",), rest=rest)
            if raw.get("inputParameters") is not None
            else (list(base.inputs) if base and base.inputs is not None else None)
        )
        prefixes = ("rest.", "tools.", "mcp.", f"{adapter}.")
        with_raw = raw.get("with")
        site = CallSite(
            adapter=adapter,
            method=method if rest else None,
            path=site_path,
            provided={*(_dict(with_raw).keys()), *((i.name for i in inputs) if inputs else ())},
            description=_str(raw.get("description")),
            label=_str(raw.get("label")) or _str(raw.get("name")),
        )
        self._broken = None
        call = self.call(raw.get("call"), with_raw, prefixes, site, path) if raw.get("call") else None
        steps = self.steps(raw.get("steps"), prefixes, adapter, path + ("steps",)) if raw.get("steps") else []
        broken, self._broken = self._broken, None
        hints = self.hints(raw.get("hints"), base.hints if base else None)
        action = m.Action(
            name=str(raw.get("name") or (base.name if base else "")),
            adapter=adapter,
            label=_str(raw.get("label")) or (base.label if base else None),
            description=_str(raw.get("description")) or (base.description if base else None),
            inputs=inputs,
            call=call or (base.call if base and not steps else None),
            steps=steps or (base.steps if base and not call else []),
            mappings=self.mappings(raw.get("mappings"), path + ("mappings",)) or (base.mappings if base else []),
            outputs=self.outputs(raw.get("outputParameters"), path + ("outputParameters",))
            or (base.outputs if base else []),
            hints=hints,
            where=self.where(path),
            broken=broken,
        )
        if base and call is None and base.call is not None and raw.get("with") is not None:
            action.call = m.Call(base.call.target, base.call.operation, self.with_values(with_raw, prefixes, path + ("with",)), base.call.where)
        return action

    def call(self, target: Any, with_raw: Any, prefixes: tuple[str, ...], site: CallSite, path: YPath) -> m.Call | None:
        target = str(target)
        namespace, _, rest_name = target.partition(".")
        api = self.apis.get(namespace)
        if api is None:
            known = ", ".join(sorted(self.apis)) or "none"
            self.unresolved(f"call '{target}' names no consumes namespace '{namespace}' (known: {known})", path + ("call",))
            return None
        resolved = resolve_operation(api, rest_name, site)
        if resolved.operation is None:
            self.unresolved(resolved.message, path + ("call",))
            return None
        if resolved.message:
            self.warn(resolved.message, path + ("call",), "ambiguous-operation")
        return m.Call(target, resolved.operation, self.with_values(with_raw, prefixes, path + ("with",)), self.where(path + ("call",)))

    def unresolved(self, message: str, path: YPath) -> None:
        """A call that names nothing disables its operation only; the rest of the file still serves."""
        self.warn(f"{message}; this operation answers 502 until the call is fixed", path, "unresolved-call")
        self._broken = message

    def with_values(self, raw: Any, prefixes: tuple[str, ...], path: YPath) -> dict[str, m.WithValue]:
        out: dict[str, m.WithValue] = {}
        for key, value in _dict(raw).items():
            out[str(key)] = self.with_value(value, prefixes, path + (key,))
        return out

    def with_value(self, value: Any, prefixes: tuple[str, ...], path: YPath) -> m.WithValue:
        if isinstance(value, str):
            for prefix in prefixes:
                name = value[len(prefix):]
                if value.startswith(prefix) and REFERENCE_NAME.match(name):
                    return m.WithValue("ref", ref=name, prefix=prefix)
            if has_tags(value):
                return m.WithValue("template", template=self.template(value, path))
            return m.WithValue("literal", literal=value)
        return m.WithValue("literal", literal=value)

    def steps(self, raw: Any, prefixes: tuple[str, ...], adapter: str, path: YPath) -> list[m.Step]:
        steps: list[m.Step] = []
        for i, s in enumerate(_list(raw)):
            if not isinstance(s, dict):
                continue
            spath = path + (i,)
            name = str(s.get("name", f"step-{i}"))
            kind = str(s.get("type") or ("lookup" if "index" in s else "script" if "file" in s else "call"))
            if kind == "call":
                site = CallSite(adapter, None, None, set(_dict(s.get("with")).keys()), None, name)
                call = self.call(s.get("call"), s.get("with"), prefixes, site, spath) if s.get("call") else None
                if s.get("call") is None:
                    self.error("a call step needs 'call'", spath)
                steps.append(m.Step("call", name, call=call))
            elif kind == "lookup":
                index = str(s.get("index", ""))
                if index not in {st.name for st in steps}:
                    self.error(f"lookup index '{index}' names no earlier step", spath + ("index",))
                lv = s.get("lookupValue")
                lookup_value: Any = (
                    self.jsonpath(lv, spath + ("lookupValue",)) if str(lv).startswith("$") else self.template(lv, spath + ("lookupValue",))
                )
                steps.append(
                    m.Step(
                        "lookup", name, index=index, match=str(s.get("match", "")), lookup_value=lookup_value,
                        fields=[str(f) for f in _list(s.get("outputParameters"))],
                    )
                )
            elif kind == "script":
                reason = unavailable_reason(script_language(s))
                if reason:
                    self.error(f"script step '{name}': {reason}", spath + (("language",) if "language" in s else ("file",)), "script-language")
                steps.append(m.Step("script", name, script=dict(s), with_=self.with_values(s.get("with"), prefixes, spath + ("with",))))
            else:
                self.error(f"unknown step type '{kind}' (call, lookup, script)", spath + ("type",))
        return steps

    def mappings(self, raw: Any, path: YPath) -> list[m.Mapping]:
        out = []
        for i, mp in enumerate(_list(raw)):
            mp = _dict(mp)
            jp = self.jsonpath(mp.get("value"), path + (i, "value"))
            if jp is not None:
                out.append(m.Mapping(str(mp.get("targetName", "")), jp))
        return out

    def outputs(self, raw: Any, path: YPath) -> list[m.Output]:
        return [self.output(o, path + (i,)) for i, o in enumerate(_params_list(raw))]

    def output(self, raw: dict[str, Any], path: YPath) -> m.Output:
        kind = str(raw.get("type", "string"))
        props = raw.get("properties")
        items = raw.get("items")
        out = m.Output(
            type=kind,
            name=_str(raw.get("name")),
            mapping=self.jsonpath(raw.get("mapping"), path + ("mapping",)) if raw.get("mapping") is not None else None,
            value=self.template(raw["value"], path + ("value",)) if raw.get("value") is not None else None,
            const=raw.get("const"),
        )
        if isinstance(props, dict):
            out.properties = {str(k): self.output(_dict(v), path + ("properties", k)) for k, v in props.items()}
        if isinstance(items, dict):
            out.items = self.output(items, path + ("items",))
        elif isinstance(items, list):
            out.items = [self.output(_dict(v), path + ("items", i)) for i, v in enumerate(items)]
        if kind == "object" and out.properties is not None and out.mapping is not None and not out.mapping.is_root:
            self.warn(
                "an object's own 'mapping' is ignored when it has 'properties' (they are read from the "
                "enclosing node, as the reference engine does)",
                path + ("mapping",),
            )
        return out

    def hints(self, raw: Any, base: m.Hints | None) -> m.Hints:
        raw = _dict(raw)
        base = base or m.Hints()

        def pick(key: str, fallback: bool | None) -> bool | None:
            value = raw.get(key)
            return value if isinstance(value, bool) else fallback

        return m.Hints(
            read_only=pick("readOnly", base.read_only),
            destructive=pick("destructive", base.destructive),
            idempotent=pick("idempotent", base.idempotent),
            open_world=pick("openWorld", base.open_world),
        )

    def exposed_inputs(self, raw: Any, path: YPath, *, rest: bool) -> list[m.InputParam]:
        out = []
        for i, p in enumerate(_params_list(raw)):
            value = p.get("value")
            jp: JsonPath | str | None = None
            if isinstance(value, str) and value.startswith("$"):
                jp = self.jsonpath(value, path + (i, "value"))
            elif value is not None:
                jp = str(value)
            location = _str(p.get("in")) if rest else None
            pattern = _str(p.get("pattern"))
            if pattern:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    self.error(f"pattern is not a valid regular expression: {exc}", path + (i, "pattern"))
                    pattern = None
            required_default = (location == "path") if rest else True
            out.append(
                m.InputParam(
                    name=str(p.get("name", "")),
                    location=location,
                    type=str(p.get("type", "string")),
                    description=_str(p.get("description")),
                    required=bool(p.get("required", required_default)),
                    pattern=pattern,
                    value=jp,
                    items=_dict(p.get("items")) or None,
                )
            )
        return out

    def mcp_resources(self, raw: Any, adapter: str, path: YPath) -> list[m.McpResource]:
        out = []
        for i, r in enumerate(_list(raw)):
            r = _dict(r)
            action = None
            if r.get("call") or r.get("steps"):
                action = self.action(r, adapter, path + (i,), rest=False)
            out.append(
                m.McpResource(
                    name=str(r.get("name", "")), label=_str(r.get("label")), uri=str(r.get("uri", "")),
                    description=_str(r.get("description")), mime_type=_str(r.get("mimeType")),
                    action=action, location=_str(r.get("location")),
                )
            )
        return out

    def mcp_prompts(self, raw: Any) -> list[m.McpPrompt]:
        return [
            m.McpPrompt(
                name=str(_dict(p).get("name", "")), label=_str(_dict(p).get("label")),
                description=_str(_dict(p).get("description")),
                arguments=[_dict(a) for a in _list(_dict(p).get("arguments"))],
                template=[_dict(t) for t in _list(_dict(p).get("template"))],
                location=_str(_dict(p).get("location")),
            )
            for p in _list(raw)
        ]

    # -- aggregates ------------------------------------------------------------------
    def aggregate(self, raw: dict[str, Any], path: YPath) -> None:
        namespace = str(raw.get("namespace", ""))
        for i, fn in enumerate(_list(raw.get("functions"))):
            if not isinstance(fn, dict):
                continue
            fpath = path + ("functions", i)
            action = self.action(fn, namespace, fpath, rest=False)
            semantics = _dict(fn.get("semantics"))
            derived = m.Hints()
            if "safe" in semantics:
                derived.read_only = bool(semantics["safe"])
                if semantics["safe"]:
                    derived.destructive = False
            if "idempotent" in semantics:
                derived.idempotent = bool(semantics["idempotent"])
            action.hints = self.hints(fn.get("hints"), derived)
            self.aggregates[f"{namespace}.{action.name}"] = action


def join_operation_path(resource: str, operation: str) -> str:
    """An operation's own path: as is when it starts with the resource path, else appended to it."""
    if operation == resource or operation.startswith(resource.rstrip("/") + "/"):
        return operation
    return resource.rstrip("/") + "/" + operation.lstrip("/") if operation.strip("/") else resource


def _merge_params(*groups: list[m.ConsumedParam]) -> list[m.ConsumedParam]:
    merged: dict[tuple[str, str], m.ConsumedParam] = {}
    for group in groups:
        for p in group:
            merged[(p.name, p.location)] = p
    return list(merged.values())


def _merge_inputs(shared: list[m.InputParam], own: list[m.InputParam]) -> list[m.InputParam]:
    merged = {(p.name, p.location): p for p in shared}
    merged.update({(p.name, p.location): p for p in own})
    return list(merged.values())


def _params_list(raw: Any) -> list[dict[str, Any]]:
    """Parameters as a list, also accepting the map form (`name: {...}`) some files use."""
    if isinstance(raw, dict):
        return [{"name": k, **_dict(v)} for k, v in raw.items()]
    return [p for p in _list(raw) if isinstance(p, dict)]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
