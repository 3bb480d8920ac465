"""Echo server on the Python MCP SDK (mcp 2.3.0), legacy SSE transport, for bench/compare.sh.

usage: echo_server.py PORT MAX_SECS   (binds 127.0.0.1 only; exits by itself after MAX_SECS)
"""

import asyncio
import sys

import uvicorn
from mcp.server.mcpserver import MCPServer

mcp = MCPServer("mcp-sse-bench-python", log_level="WARNING")


# Unstructured output: one text content, as the other peers (a str result would otherwise be
# sent twice, also as structuredContent).
@mcp.tool(structured_output=False)
def echo(text: str) -> str:
    """Echo the given text back."""
    return text


async def main() -> None:
    port, max_secs = int(sys.argv[1]), float(sys.argv[2])
    app = mcp.sse_app(host="127.0.0.1", max_request_body_size=40 * 1024 * 1024)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    print(f'{{"listening":"http://127.0.0.1:{port}/sse"}}', flush=True)
    try:
        await asyncio.wait_for(server.serve(), timeout=max_secs)
    except asyncio.TimeoutError:
        pass


asyncio.run(main())
