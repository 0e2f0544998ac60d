"""One module per adapter server kind: REST, MCP (HTTP and stdio), skill, control and metrics, the local engine."""
