"""Declared REST inputs (JSONPath body values, types), implicit forwarding, and orchestrated steps."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from naftiko_runtime.binding.incoming import Incoming, InputError
from naftiko_runtime.binding.inputs import extract

from ..support.recording_upstream import reply
from .helpers import mcp_incoming, rest_action, rest_incoming, tool

REST_CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: rest inputs, description: declared REST inputs}
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: https://upstream.invalid
      resources:
        - name: users
          path: /users
          operations:
            - name: create
              method: POST
              body: '{"id": "{{id}}", "name": "{{name}}", "limit": {{limit}}}'
        - name: notes
          path: /notes
          operations:
            - name: add
              method: POST
        - name: ships
          path: /ships/{{imo_number}}
          operations:
            - name: getship
              method: GET
  exposes:
    - type: rest
      namespace: api
      port: 9998
      resources:
        - path: /users
          name: users
          operations:
            - method: POST
              name: create-user
              call: up.create
              inputParameters:
                - {name: id, in: body, type: string, value: $.user.id}
                - {name: name, in: body, type: string, value: $.user.name}
                - {name: limit, in: query, type: integer}
        - path: /notes
          name: notes
          operations:
            - method: POST
              name: add-note
              call: up.add
        - path: /ships/{imo}
          name: ship
          operations:
            - method: GET
              name: get-ship
              call: up.getship
              with:
                imo_number: api.imo
"""


def declared_incoming(action: Any, body: Any, query: dict[str, str]) -> Incoming:
    """As the REST handler does: raw values, then the declared inputs extracted and typed."""
    incoming = rest_incoming({}, query=list(query.items()), body=body)
    incoming.forward_query = False  # an operation that declares its inputs forwards only what it maps
    incoming.values.update(extract(action.inputs, path={}, query=query, headers=CIMultiDict(), cookies={}, body=body))
    return incoming


async def test_declared_body_inputs_with_jsonpath_fill_the_body_template(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(REST_CAPABILITY)
    upstream.route("POST", "/users", reply(201, json={"ok": True}))
    action = rest_action(cap, "POST", "/users")
    incoming = declared_incoming(action, {"user": {"id": "123", "name": 'Alice "A"'}}, {"limit": "5"})
    outcome = await make_invoker(cap).invoke(action, incoming)
    [seen] = upstream.requests
    assert seen.json == {"id": "123", "name": 'Alice "A"', "limit": 5}
    assert seen.query == [], "a declared input used by the body template is not also sent as a query parameter"
    assert outcome.status == 201


@pytest.mark.parametrize("query, message", [({"limit": "many"}, "integer"), ({"limit": "1.5"}, "integer")])
def test_declared_inputs_are_checked(query: dict, message: str, write_capability: Any) -> None:
    cap = write_capability(REST_CAPABILITY)
    action = rest_action(cap, "POST", "/users")
    with pytest.raises(InputError) as caught:
        extract(action.inputs, path={}, query=query, headers=CIMultiDict(), cookies={}, body={})
    assert message in caught.value.message


async def test_rest_post_body_is_forwarded_implicitly(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(REST_CAPABILITY)
    upstream.route("POST", "/notes", reply(json={"saved": 1}))
    await make_invoker(cap).invoke(rest_action(cap, "POST", "/notes"), rest_incoming({}, body={"text": "hi"}))
    [seen] = upstream.requests
    assert seen.json == {"text": "hi"}


async def test_renamed_reference_is_not_forwarded_twice(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    """`with: imo_number: api.imo`: the value fills the path; `imo` does not leak as a query parameter."""
    cap = write_capability(REST_CAPABILITY)
    upstream.route("GET", "/ships/IMO-9321483", reply(json={"imo": "IMO-9321483"}))
    incoming = rest_incoming({"imo": "IMO-9321483"}, query=[("fields", "name")])
    await make_invoker(cap).invoke(rest_action(cap, "GET", "/ships/{imo}"), incoming)
    [seen] = upstream.requests
    assert seen.raw_path == "/ships/IMO-9321483"
    assert seen.query == [("fields", "name")]


STEPS_CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: steps, description: orchestrated lookup}
capability:
  consumes:
    - type: http
      namespace: reg
      baseUri: https://registry.invalid
      resources:
        - name: ships
          path: /ships/{{imo}}
          operations:
            - name: getship
              method: GET
        - name: crew
          path: /crew
          operations:
            - name: listcrew
              method: GET
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - name: ship-with-crew
          description: Ship and its crew
          inputParameters:
            - {name: imo, type: string, required: true, description: IMO}
          steps:
            - type: call
              name: get-ship
              call: reg.getship
              with:
                imo: t.imo
            - type: call
              name: list-crew
              call: reg.listcrew
            - type: lookup
              name: members
              index: list-crew
              match: crewId
              lookupValue: $.get-ship.crewIds
              outputParameters: [fullName, role]
          mappings:
            - {targetName: name, value: $.get-ship.name}
            - {targetName: crew, value: $.members}
          outputParameters:
            - {name: name, type: string}
            - name: crew
              type: array
              items:
                - {name: fullName, type: string}
                - {name: role, type: string}
"""


async def test_steps_call_lookup_and_mappings(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(STEPS_CAPABILITY)
    upstream.route("GET", "/ships/IMO-1", reply(json={"imo": "IMO-1", "name": "Northern Star", "crewIds": ["c2", "c1"]}))
    upstream.route("GET", "/crew", reply(json=[
        {"crewId": "c1", "fullName": "Ada", "role": "captain", "pay": 1},
        {"crewId": "c2", "fullName": "Bob", "role": "cook", "pay": 2},
        {"crewId": "c3", "fullName": "Cy", "role": "pilot", "pay": 3},
    ]))
    outcome = await make_invoker(cap).invoke(tool(cap, "ship-with-crew"), mcp_incoming({"imo": "IMO-1"}))
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("GET", "/ships/IMO-1"), ("GET", "/crew")]
    assert outcome.status == 200
    assert outcome.data == {"name": "Northern Star", "crew": [{"fullName": "Bob", "role": "cook"}, {"fullName": "Ada", "role": "captain"}]}


async def test_steps_stop_at_the_first_upstream_error(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(STEPS_CAPABILITY)
    upstream.route("GET", "/ships/nope", reply(404, json={"message": "no ship nope"}))
    outcome = await make_invoker(cap).invoke(tool(cap, "ship-with-crew"), mcp_incoming({"imo": "nope"}))
    assert outcome.status == 404 and outcome.message == "no ship nope"
    assert [r.raw_path for r in upstream.requests] == ["/ships/nope"]


async def test_steps_missing_input_is_400(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(STEPS_CAPABILITY)
    with pytest.raises(InputError) as caught:
        await make_invoker(cap).invoke(tool(cap, "ship-with-crew"), mcp_incoming({}))
    assert caught.value.status == 400 and "imo" in caught.value.message
    assert upstream.requests == []


NAMED_BODY_FIELDS = """\
naftiko: 1.0.0-alpha2
info: {label: named body fields, description: two in-body parameters}
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: http://upstream.invalid
      resources:
        - name: notes
          path: /notes
          operations:
            - name: create
              method: POST
              inputParameters:
                - {name: title, in: body}
                - {name: note, in: body}
  exposes:
    - type: rest
      namespace: api
      port: 9000
      resources:
        - path: /notes
          operations:
            - {method: POST, call: up.create}
"""


async def test_a_missing_named_body_field_stays_missing(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    """Only the sole body parameter takes the whole incoming body; named fields take their own value or nothing."""
    cap = write_capability(NAMED_BODY_FIELDS)
    upstream.route("POST", "/notes", reply(201, json={"ok": True}))
    await make_invoker(cap).invoke(rest_action(cap, "POST", "/notes"), rest_incoming({}, body={"title": "hello"}))
    [seen] = upstream.requests
    assert seen.json == {"title": "hello"}
