"""Several MCP adapters on one port serve as one MCP server, as REST adapters share a port.

The seeds all declare MCP on 9090, so `naftiko run a.yaml b.yaml` must serve both:
their tools, resources and prompts are listed together and each call runs on its own
file's invoker. Two tools of one name, or adapters that require different credentials,
cannot share a server and stop the start with both places named.
"""

from __future__ import annotations

from dataclasses import replace

from ...binding.incoming import Incoming
from ...capability.model import Action, McpAdapter
from ...invoke.invoker import Invoker, Outcome


class SharingConflict(Exception):
    pass


class SharedInvoker:
    """Dispatches each action to the invoker of the file that declared it."""

    def __init__(self, first: Invoker, owners: dict[int, Invoker]) -> None:
        self._owners = owners
        self.capability = first.capability
        self.bind_context = first.bind_context

    async def invoke(self, action: Action, incoming: Incoming) -> Outcome:
        return await self._owners[id(action)].invoke(action, incoming)


def merge(adapters: list[tuple[McpAdapter, Invoker]]) -> tuple[McpAdapter, Invoker | SharedInvoker]:
    """One adapter and invoker for everything on a port (the adapter itself when it is alone)."""
    if len(adapters) == 1:
        return adapters[0]
    first, first_invoker = adapters[0]
    owners: dict[int, Invoker] = {}
    names: dict[str, str] = {}
    tools, resources, prompts = [], [], []
    for adapter, invoker in adapters:
        if adapter.auth != first.auth:
            raise SharingConflict(
                f"MCP adapters '{first.namespace}' ({first.where}) and '{adapter.namespace}' ({adapter.where}) share a "
                "port but require different authentication; give one of them another port"
            )
        for tool in adapter.tools:
            if tool.name in names:
                raise SharingConflict(f"MCP tool '{tool.name}' at {tool.where} collides with the tool declared at {names[tool.name]}")
            names[tool.name] = str(tool.where)
            owners[id(tool)] = invoker
            tools.append(tool)
        for resource in adapter.resources:
            if resource.action is not None:
                owners[id(resource.action)] = invoker
            resources.append(resource)
        prompts.extend(adapter.prompts)
    description = "\n\n".join(a.description for a, _ in adapters if a.description) or None
    merged = replace(
        first,
        namespace="+".join(a.namespace for a, _ in adapters),
        description=description,
        tools=tools,
        resources=resources,
        prompts=prompts,
    )
    return merged, SharedInvoker(first_invoker, owners)
