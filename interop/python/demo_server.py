"""The mcp-sse demo server re-implemented on the official Python SDK (MCPServer + sse_app()).

Same tool names, arguments and result texts as `cli/src/demo.rs`, so our client can be checked
against a real reference server. Served by uvicorn on 127.0.0.1.

usage: python demo_server.py PORT      (PORT 0 picks a free port)

Prints `READY http://127.0.0.1:<port>/sse` on stdout once the socket is listening.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import warnings

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, SamplingMessage, TextContent

warnings.simplefilter("ignore")  # the legacy-era helpers (log, list_roots, …) warn by design

mcp = MCPServer("mcp-sse-demo-py", instructions="Python twin of the mcp-sse demo server.")

ANSWER_SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


@mcp.tool(description="Echo the given text back.")
async def echo(text: str) -> str:
    return text


@mcp.tool(description="Add two integers.")
async def add(a: int, b: int) -> int:
    return a + b


@mcp.tool(description="Emit log messages and progress notifications, then finish.")
async def log_and_progress(ctx: Context, steps: int = 3) -> str:
    steps = max(0, min(steps, 10_000))
    for i in range(1, steps + 1):
        await ctx.info(f"step {i}/{steps}")
        await ctx.report_progress(i, steps, f"step {i}")
    return f"done {steps}"


def _first_text(content) -> str:
    block = content[0] if isinstance(content, list) else content
    return getattr(block, "text", "") if block is not None else ""


@mcp.tool(description="Ask the client's LLM (sampling/createMessage).")
async def sample(ctx: Context, prompt: str) -> str:
    r = await ctx.session.create_message(
        messages=[SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
        max_tokens=32,
        related_request_id=ctx.request_context.request_id,
    )
    return f"{r.model}: {_first_text(r.content)}"


@mcp.tool(description="Ask the client for its roots (roots/list).")
async def list_roots(ctx: Context) -> str:
    r = await ctx.session.list_roots()
    return ",".join(str(root.uri) for root in r.roots)


@mcp.tool(description="Ask the user a question (elicitation/create, form mode).")
async def elicit(ctx: Context, question: str) -> str:
    r = await ctx.session.elicit_form(question, ANSWER_SCHEMA, related_request_id=ctx.request_context.request_id)
    answer = (r.content or {}).get("answer", "")
    return f"{r.action}:{answer}"


@mcp.tool(description="Ping the client (server-to-client ping).")
async def ping_client(ctx: Context) -> str:
    await ctx.session.send_ping()
    return "pong"


@mcp.tool(description="Always fails; the failure comes back as an isError result.")
async def fail(message: str = "boom") -> CallToolResult:
    # Returned rather than raised: a raised ToolError would be prefixed "Error executing tool fail: ".
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


@mcp.tool(description="Sleep for the given number of seconds, then return.")
async def slow(seconds: float = 1.0) -> str:
    if not 0.0 <= seconds <= 3600.0:
        return CallToolResult(content=[TextContent(type="text", text="seconds must be between 0 and 3600")], is_error=True)
    await anyio.sleep(seconds)
    return f"slept {float(seconds)}"


@mcp.resource("demo://readme", name="readme", description="What this server is.", mime_type="text/plain")
def readme() -> str:
    return "mcp-sse demo server: tools echo, add, log_and_progress, sample, list_roots, elicit, ping_client, fail, slow."


@mcp.resource("demo://greeting/{name}", name="greeting", mime_type="text/plain")
def greeting(name: str) -> str:
    return f"Hello, {name}!"


@mcp.prompt(description="Greet someone.")
def greet(name: str) -> str:
    return f"Please greet {name}."


async def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    # `streamable` serves the same server over the newer Streamable HTTP transport instead (at
    # /mcp), for the tests of what our legacy client says when pointed at one.
    streamable = len(sys.argv) > 2 and sys.argv[2] == "streamable"
    # CERT and KEY (PEM files) after the transport serve HTTPS, as uvicorn's
    # --ssl-certfile/--ssl-keyfile do.
    tls = {}
    if len(sys.argv) > 4:
        tls = {"ssl_certfile": sys.argv[3], "ssl_keyfile": sys.argv[4]}
    if streamable:
        config = uvicorn.Config(
            mcp.streamable_http_app(), log_level="warning", lifespan="on", **tls
        )
    else:
        config = uvicorn.Config(
            mcp.sse_app(host="127.0.0.1"), log_level="warning", lifespan="off", **tls
        )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            await serving  # re-raises the startup failure
            raise SystemExit("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    path = "/mcp" if streamable else "/sse"
    scheme = "https" if tls else "http"
    print(f"READY {scheme}://127.0.0.1:{port}{path}", flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(main())
