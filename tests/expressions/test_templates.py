"""The one template engine: shapes compiled once and shared, explicit missing values, escaping per format."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, unquote
from xml.etree import ElementTree

import pytest

from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import McpAdapter
from naftiko_runtime.expressions.templates import (
    MissingValue,
    Template,
    compile_prompt,
    shape_cache_info,
)

HOSTILE = ['x", "admin": true, "y": "', 'a\\"b\\', "line\nbreak\r\ttab\u2028\x00", "}{ {{other}}", "&role=admin", "a=b+c d%20",
           "</name><admin>1</admin><name>", "'\"<>&", "../../etc/passwd", "..", ".", "a/b?c#d", "ü 雪"]


# -- shapes --------------------------------------------------------------------------------------------
def test_templates_of_one_shape_share_one_compiled_template() -> None:
    """`{{orgN}}/{{appN}}` for many names: one jinja2 compile, the same compiled object for all."""
    literal = f"/{uuid.uuid4().hex}/"  # a shape no other test has compiled
    before = shape_cache_info()
    templates = [Template.compile(f"{{{{org{i}}}}}{literal}{{{{ app{i} }}}}") for i in range(50)]
    after = shape_cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 49
    assert len({id(t._shape) for t in templates}) == 1
    assert [templates[i].render({f"org{i}": "o", f"app{i}": i}) for i in (0, 49)] == [f"o{literal}0", f"o{literal}49"]


def test_same_source_is_one_template_and_modes_are_distinct_shapes() -> None:
    assert Template.compile("{{a}}-{{b}}") is Template.compile("{{a}}-{{b}}")
    text, form = Template.compile("{{a}}-{{b}}"), Template.compile("{{a}}-{{b}}", "form")
    assert text._shape is not form._shape
    assert Template.compile("{{x}}-{{y}}")._shape is text._shape
    # Policies do not change the shape: a prompt and a `with` value of the same shape share it.
    assert compile_prompt("{{q}}-{{r}}")._shape is text._shape


def test_loading_a_file_compiles_one_shape_for_many_lone_placeholders(tmp_path: Path) -> None:
    with_values = "\n".join(f"            p{i}: '{{{{tools.v{i}}}}}'" for i in range(30))
    (tmp_path / "cap.yaml").write_text(f"""\
naftiko: 1.0.0-alpha2
info: {{label: shapes, description: many with values of one shape}}
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: https://upstream.invalid
      resources:
        - name: things
          path: /things
          operations:
            - {{name: get, method: GET}}
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - name: get
          description: Get.
          call: up.get
          with:
{with_values}
""")
    result = load(tmp_path / "cap.yaml")
    assert result.capability is not None, result.errors
    [tool] = next(a for a in result.capability.adapters if isinstance(a, McpAdapter)).tools
    assert tool.call is not None
    templates = [w.template for w in tool.call.with_.values()]
    assert len(templates) == 30 and all(t is not None for t in templates)
    assert len({id(t._shape) for t in templates}) == 1  # type: ignore[union-attr]


# -- missing values ------------------------------------------------------------------------------------
def test_missing_values_empty_by_default_as_mustache() -> None:
    assert Template.compile("a{{x}}b").render({}) == "ab"
    assert Template.compile("{{x}}").render_value({}) is None
    assert Template.compile('{"s": "{{x}}", "v": {{x}}}', "json").render_value({}) == {"s": "", "v": None}
    assert Template.compile("k={{x}}", "form").render({}) == "k="
    assert Template.compile("<a>{{x.y}}</a>", "xml").render({"x": {}}) == "<a></a>"


def test_strict_missing_value_names_the_placeholder() -> None:
    strict = Template.compile("hello {{user.name}}!", missing="strict")
    assert strict.render({"user": {"name": "ada"}}) == "hello ada!"
    with pytest.raises(MissingValue, match=r"user\.name"):
        strict.render({"user": {}})
    with pytest.raises(MissingValue, match="'x'"):
        Template.compile("{{x}}", missing="strict").render_value({})
    with pytest.raises(MissingValue):
        Template.compile('{"v": {{x}}}', "json", "strict").render({})
    # null is a value, not a missing one
    assert strict.render({"user": {"name": None}}) == "hello !"


def test_keep_leaves_the_placeholder_as_written() -> None:
    kept = compile_prompt("Inspect {{imo}} for {{ focus }} and {{a.b}}")
    assert kept.render({"imo": "IMO-1"}) == "Inspect IMO-1 for {{ focus }} and {{a.b}}"
    assert compile_prompt("{{focus}}").render_value({}) == "{{focus}}"


def test_unknown_mode_or_policy_is_refused() -> None:
    with pytest.raises(ValueError):
        Template.compile("{{x}}", "yaml")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Template.compile("{{x}}", missing="maybe")  # type: ignore[arg-type]


# -- escaping per output format, hostile values -------------------------------------------------------
@pytest.mark.parametrize("evil", HOSTILE)
def test_json_values_can_neither_break_out_nor_change_type(evil: str) -> None:
    template = Template.compile('{"name": "hi {{v}}", "raw": {{v}}, "list": [{{n}}], "fixed": 1}', "json")
    body = template.render_value({"v": evil, "n": {"k": [evil]}})
    assert body == {"name": f"hi {evil}", "raw": evil, "list": [{"k": [evil]}], "fixed": 1}


@pytest.mark.parametrize("evil", HOSTILE)
def test_form_values_cannot_add_fields(evil: str) -> None:
    rendered = Template.compile("name={{v}}&role=user", "form").render({"v": evil})
    assert parse_qsl(rendered, keep_blank_values=True) == [("name", evil), ("role", "user")]


@pytest.mark.parametrize("evil", HOSTILE)
def test_xml_values_cannot_add_elements_or_attributes(evil: str) -> None:
    if "\x00" in evil:
        evil = evil.replace("\x00", "")  # not representable in XML 1.0 at all
    rendered = Template.compile("<user id=\"{{v}}\" k='{{v}}'><name>{{v}}</name></user>", "xml").render({"v": evil})
    root = ElementTree.fromstring(rendered)
    assert [c.tag for c in root] == ["name"] and set(root.attrib) == {"id", "k"}
    expected = evil.replace("\r", "\n")  # XML end-of-line handling in text content
    assert (root.find("name").text or "") == expected  # type: ignore[union-attr]
    assert root.attrib["k"] == evil.replace("\r", " ").replace("\n", " ").replace("\t", " ")


@pytest.mark.parametrize("evil", HOSTILE)
def test_path_values_are_exactly_one_segment(evil: str) -> None:
    rendered = Template.compile("/orgs/{{v}}/apps", "path").render({"v": evil})
    segments = rendered.split("/")
    assert len(segments) == 4 and segments[0] == "" and segments[3] == "apps"
    assert segments[2] not in (".", "..") and not set("?#\r\n ") & set(segments[2])
    assert unquote(segments[2]) == evil


def test_text_is_mustache_without_html_escaping() -> None:
    rendered = Template.compile("{{a}}|{{b}}|{{c}}|{{d}}|{{e}}").render(
        {"a": "<b>&</b>", "b": [1, "x"], "c": {"k": None}, "d": True, "e": None})
    assert rendered == '<b>&</b>|[1,"x"]|{"k":null}|true|'


def test_values_are_data_never_template_text() -> None:
    """A value holding `{{other}}` or jinja syntax is output as is, never read again."""
    context = {"v": "{{other}} {% raw %} {{ 7*7 }}", "other": "SECRET"}
    assert Template.compile("[{{v}}]").render(context) == "[{{other}} {% raw %} {{ 7*7 }}]"
    assert compile_prompt("{{v}} {{w}}").render(context) == "{{other}} {% raw %} {{ 7*7 }} {{w}}"
    # literal text of the file that looks like jinja is literal too
    assert Template.compile("{% if x %}{{v}}{# c #}").render({"v": 1}) == "{% if x %}1{# c #}"
    assert json.loads(Template.compile('{"a": "{{v}}"}', "json").render(context))["a"] == context["v"]
