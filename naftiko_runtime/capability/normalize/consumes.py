"""Normalise what a capability consumes: binds, upstream APIs, their operations, params, bodies, auth."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from ...expressions.paths import PathTemplate
from ...expressions.templates import Template, has_tags
from .. import model as m
from ..compat import auth_alias
from ..locations import resolve_location
from ..yaml_source import JsonPath as YPath
from .context import Context
from .values import (
    as_dict,
    as_list,
    as_str,
    caller_template,
    join_operation_path,
    jsonpath,
    merge_params,
    params_list,
    repeated_base_path,
    template,
)


def bind(ctx: Context, raw: dict[str, Any], path: YPath) -> m.Bind:
    namespace = str(raw.get("namespace", ""))
    with ctx.part("bind", namespace):
        return m.Bind(
            namespace=namespace,
            keys={str(k): str(v) for k, v in as_dict(raw.get("keys")).items()},
            location=as_str(raw.get("location")),
            base_dir=ctx.file.parent,
            where=ctx.where(path),
        )


def consumes_entry(ctx: Context, raw: dict[str, Any], path: YPath) -> list[m.ConsumedApi]:
    if "import" in raw or ("location" in raw and "baseUri" not in raw):
        return imported(ctx, raw, path)
    return [api(ctx, raw, path)]


def add_api(ctx: Context, new: m.ConsumedApi, path: YPath) -> None:
    """Register a consumes namespace; a repeat with the same upstream adds its resources."""
    first = ctx.apis.get(new.namespace)
    if first is None:
        ctx.apis[new.namespace] = new
        return
    with ctx.part("consumes", new.namespace):
        if first.base_uri != new.base_uri or first.auth != new.auth:
            ctx.error(
                f"consumes namespace '{new.namespace}' is declared twice with a different baseUri or authentication",
                path,
            )
            return
        for op in new.operations:
            op.api = first
        first.operations.extend(new.operations)
        ctx.warn(
            f"consumes namespace '{new.namespace}' is declared again with the same baseUri and authentication; "
            "its resources are merged into the first declaration",
            path,
            "merged-namespace",
        )


def imported(ctx: Context, raw: dict[str, Any], path: YPath) -> list[m.ConsumedApi]:
    location, wanted = as_str(raw.get("location")), as_str(raw.get("import"))
    with ctx.part("consumes", str(raw.get("as") or wanted or "")):
        if not location or not wanted:
            ctx.error("an imported consumes needs both 'location' and 'import'", path)
            return []
        target = resolve_location(location, ctx.file.parent)
        loaded = ctx.load_other(target)
        if loaded is None:
            ctx.error(f"cannot import consumes from '{location}' (resolved to {target})", path + ("location",))
            return []
        data, source = loaded
        entries = as_list(as_dict(data).get("consumes")) or as_list(as_dict(as_dict(data).get("capability")).get("consumes"))
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and entry.get("namespace") == wanted:
                found = api(ctx.for_file(source, target), entry, ("consumes", i))
                alias = as_str(raw.get("as"))
                if alias:
                    found.namespace = alias
                    for op in found.operations:
                        op.namespace = alias
                return [found]
        names = ", ".join(str(as_dict(e).get("namespace")) for e in entries) or "none"
        ctx.error(f"'{location}' has no consumes namespace '{wanted}' (it has: {names})", path + ("import",))
        return []


def api(ctx: Context, raw: dict[str, Any], path: YPath) -> m.ConsumedApi:
    namespace = str(raw.get("namespace", ""))
    with ctx.part("consumes", namespace):
        auth_key = "authentication" if "authentication" in raw else "auth"
        out = m.ConsumedApi(
            namespace=namespace,
            base_uri=base_uri(ctx, raw.get("baseUri"), path + ("baseUri",)),
            description=as_str(raw.get("description")),
            params=consumed_params(ctx, raw.get("inputParameters"), path + ("inputParameters",)),
            auth=auth(ctx, raw.get(auth_key), path + (auth_key,)),
            operations=[],
            source_file=ctx.source.file,
            where=ctx.where(path),
        )
        for r, res in enumerate(as_list(raw.get("resources"))):
            if isinstance(res, dict):
                _resource(ctx, out, res, r, path + ("resources", r))
    return out


def _resource(ctx: Context, api: m.ConsumedApi, res: dict[str, Any], r: int, rpath: YPath) -> None:
    template_ = PathTemplate.parse(str(res.get("path", "")))
    if template_.single_brace:
        ctx.warn(
            f"path '{template_.raw}' uses single-brace placeholders; alpha2 writes "
            "{{name}}. The runtime substitutes both forms alike",
            rpath + ("path",),
            "single-brace-placeholder",
        )
    said = _unrepeated(ctx, api.base_uri, template_, rpath + ("path",)) is not template_
    res_params = consumed_params(ctx, res.get("inputParameters"), rpath + ("inputParameters",))
    resource = str(res["name"]) if res.get("name") is not None else f"resource-{r}"  # `name:` left empty: unnamed
    for o, op in enumerate(as_list(res.get("operations"))):
        if not isinstance(op, dict):
            continue
        opath = rpath + ("operations", o)
        name = str(op.get("name", op.get("id", "")))
        with ctx.part("operation", f"{resource}.{name}") as part:
            op_path = op.get("path")
            op_template = PathTemplate.parse(join_operation_path(template_.raw, op_path)) if isinstance(op_path, str) else template_
            op_template = _unrepeated(ctx, api.base_uri, op_template, opath + ("path",), warn=not said)
            params = merge_params(
                api.params, res_params, consumed_params(ctx, op.get("inputParameters"), opath + ("inputParameters",))
            )
            api.operations.append(
                m.ConsumedOperation(
                    namespace=api.namespace,
                    resource=resource,
                    name=name,
                    method=str(op.get("method", "GET")).upper(),
                    path=op_template,
                    params=params,
                    body=body(ctx, op.get("body"), opath + ("body",), params),
                    output_format=output_format(op.get("outputRawFormat")),
                    output_schema=as_str(op.get("outputSchema")),
                    outputs=named_outputs(ctx, op.get("outputParameters"), opath + ("outputParameters",)),
                    description=as_str(op.get("description")),
                    label=as_str(op.get("label")),
                    api=api,
                    where=ctx.where(opath),
                )
            )
            api.operations[-1].broken = ctx.broken_at(opath) or ctx.why_disabled(part)


def _unrepeated(ctx: Context, base_uri: str, path: PathTemplate, at: YPath, warn: bool = True) -> PathTemplate:
    """`path` without a repeat of the base URI's versioned path (`repeated-base-path`), else `path` itself.
    A resource's repeat is said once, at the resource; its operations' paths are joined to it as written."""
    repeated = repeated_base_path(base_uri, path.raw)
    if repeated is None:
        return path
    if warn:
        ctx.warn(
            f"path '{path.raw}' repeats the path of baseUri '{base_uri}' ('{repeated}'); the runtime sends it once "
            f"('{repeated}{path.raw[len(repeated):] or '/'}'), where the reference engine would send it twice",
            at,
            "repeated-base-path",
        )
    return PathTemplate.parse(path.raw[len(repeated):] or "/")


#: The `outputRawFormat`s alpha2 defines; any other passes the upstream body through as text (`raw`).
OUTPUT_FORMATS = ("json", "xml", "avro", "protobuf", "csv", "tsv", "psv", "yaml", "html", "markdown")


def output_format(raw: Any) -> str:
    value = str(raw if raw is not None else "json")
    return value if value.lower() in OUTPUT_FORMATS else "raw"


def base_uri(ctx: Context, raw: Any, path: YPath) -> str:
    uri = str(raw or "")
    if re.match(r"^//[^/{}\s]+", uri):
        uri = "https:" + uri  # scheme-relative: the schema check reported it (`baseuri-scheme-relative`)
    try:
        urlsplit(uri)
    except ValueError:  # e.g. `https://[array]`: the semantic checks warn (`invalid-base-uri`); calls answer 502
        return uri      # unless `--upstream` replaces the origin
    if uri and not re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://|\{)", uri):  # another scheme: `baseuri-not-http`
        ctx.error(f"baseUri must be an absolute http(s) URI such as https://api.example.com, got '{uri}'", path)
    elif uri.endswith("/"):
        ctx.warn(
            f"baseUri '{uri}' ends with '/'; the reference engine refuses this. "
            "The runtime joins it to resource paths with exactly one '/'",
            path,
            "baseuri-trailing-slash",
        )
    return uri


def consumed_params(ctx: Context, raw: Any, path: YPath) -> list[m.ConsumedParam]:
    out = []
    for i, p in enumerate(params_list(raw)):
        if ctx.broken_at(path + (i,)) is not None:
            continue  # a broken parameter is left out; its operation still runs
        name = str(p.get("name", ""))
        value = p.get("value")
        with ctx.part("parameter", name):
            out.append(
                m.ConsumedParam(
                    name=name,
                    location=str(p.get("in", "query")),  # type: ignore[arg-type]
                    value=caller_template(ctx, value, path + (i, "value")) if value is not None else None,
                    type=as_str(p.get("type")),
                    description=as_str(p.get("description")),
                    required=bool(p.get("required", False)),
                )
            )
    return out


def body(ctx: Context, raw: Any, path: YPath, params: list[m.ConsumedParam] | None = None) -> m.Body | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        mode = "json" if raw.lstrip()[:1] in ("{", "[") else "text"
        return m.Body("raw", caller_template(ctx, raw, path, mode))
    if not isinstance(raw, dict):
        ctx.error("body must be a template string or {type, data}", path)
        return None
    kind = str(raw.get("type", "json"))
    kind = {"form": "formUrlEncoded", "multipart": "multipartForm"}.get(kind, kind)
    data = raw.get("data")
    if kind == "json" and "data" not in raw:
        if params is not None and not any(p.location == "body" for p in params):
            params.append(m.ConsumedParam("body", "body", None, "object", "The JSON request body.", False))
        return None
    if kind == "json":
        return m.Body("json", template_tree(ctx, data, path + ("data",)))
    if kind in ("text", "xml", "sparql"):
        mode = "xml" if kind == "xml" else "text"
        return m.Body(kind, caller_template(ctx, data if data is not None else "", path + ("data",), mode))  # type: ignore[arg-type]
    if kind == "formUrlEncoded":
        if isinstance(data, str):
            return m.Body("formUrlEncoded", caller_template(ctx, data, path + ("data",), "form"))
        return m.Body("formUrlEncoded", {str(k): caller_template(ctx, v, path + ("data", k)) for k, v in as_dict(data).items()})
    if kind == "multipartForm":
        parts = []
        for i, part in enumerate(as_list(data)):
            part = as_dict(part)
            parts.append(
                {
                    "name": str(part.get("name", "")),
                    "value": caller_template(ctx, part.get("value", ""), path + ("data", i, "value")),
                    "filename": as_str(part.get("filename")),
                    "contentType": as_str(part.get("contentType")),
                }
            )
        return m.Body("multipartForm", parts)
    # an unknown type (a deviation the schema check reported): the body as written, the type as its content type
    text = data if isinstance(data, str) else json.dumps(data) if data is not None else ""
    return m.Body("raw", caller_template(ctx, text, path + ("data",)), content_type=kind if "/" in kind else f"application/{kind}")


_TAG = re.compile(r"\{\{.*?\}\}", re.S)


def _json_shaped(text: str) -> bool:
    """A string leaf that is JSON once its tags are filled (`{"id": {{x}}}`), not text that starts with a brace
    (a GraphQL query `{ products(first: {{limit}}) { … } }` is sent as a string). Loops and conditions (`{% %}`)
    cannot be judged before rendering: such a leaf stays JSON."""
    if "{%" in text:
        return True
    try:
        json.loads(_TAG.sub("0", text))
    except ValueError:
        return False
    return True


def template_tree(ctx: Context, data: Any, path: YPath) -> Any:
    if isinstance(data, str):
        if data.lstrip()[:1] in ("{", "[") and has_tags(data) and _json_shaped(data):
            return caller_template(ctx, data, path, "json")
        return caller_template(ctx, data, path) if has_tags(data) else data
    if isinstance(data, dict):
        return {k: template_tree(ctx, v, path + (k,)) for k, v in data.items()}
    if isinstance(data, list):
        return [template_tree(ctx, v, path + (i,)) for i, v in enumerate(data)]
    return data


def named_outputs(ctx: Context, raw: Any, path: YPath) -> list[m.NamedOutput]:
    out = []
    for i, p in enumerate(params_list(raw)):
        if "name" in p and "value" in p and "mapping" not in p:
            out.append(m.NamedOutput(str(p["name"]), str(p.get("type", "string")), jsonpath(ctx, p.get("value"), path + (i, "value"))))
    return out


def auth(ctx: Context, raw: Any, path: YPath) -> m.Auth | None:
    if not isinstance(raw, dict):
        return None
    kind = str(raw.get("type", ""))
    kind = auth_alias(kind) or kind

    def tpl(name: str) -> Template | None:
        return template(ctx, raw[name], path + (name,)) if raw.get(name) is not None else None

    headers = {str(k): template(ctx, v, path + ("headers", k)) for k, v in as_dict(raw.get("headers")).items()}
    query = {
        str(p.get("name")): template(ctx, p.get("value", ""), path + ("parameters", i, "value"))
        for i, p in enumerate(as_list(raw.get("parameters")))
        if isinstance(p, dict) and p.get("name")
    }
    if kind == "query" and query:
        kind = "apikey"
    elif kind not in ("bearer", "apikey", "basic", "digest", "oauth2"):
        ctx.warn(
            f"authentication type '{kind}' is not supported by this runtime (bearer, apikey, basic, digest); "
            "calls are sent without credentials",
            path + ("type",),
            "auth-unsupported",
        )
    placement = str(raw.get("placement", raw.get("in", "header")))
    key, value = as_str(raw.get("key", raw.get("name"))), tpl("value")
    token = tpl("token")
    if kind == "bearer" and token is None:
        token = tpl("value")  # `value` (the schema check reported it: `auth-other-scheme-fields`)
    where = next((w for w in ("header", "query") if isinstance(raw.get(w), str)), None)
    if kind == "apikey" and where is not None:  # `header: X-Key` names the header; `key` then holds the secret
        key, value, placement = str(raw[where]), value or tpl("key"), where
    return m.Auth(
        type=kind,
        token=token,
        username=tpl("username"),
        password=tpl("password"),
        key=key,
        value=value,
        placement="query" if placement == "query" else "header",
        headers=headers,
        query=query,
    )
