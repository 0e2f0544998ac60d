"""MCP adapter: the SDK server, its streamable HTTP and stdio transports, tool schemas."""
