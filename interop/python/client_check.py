"""Drives a legacy HTTP+SSE MCP server with the official Python SDK client and checks every
demo tool of `cli/src/demo.rs` exactly.

usage: python client_check.py URL MODE [SCOPE]   (MODE: legacy | auto; SCOPE: full | basic)

Uses `sse_client(URL)` + `Client(..., mode=MODE)` with sampling, roots, elicitation and logging
callbacks. Exits 0 and prints one line of JSON on success; exits 1 naming the failing check.

SCOPE `full` (the default) checks every demo tool, the resource template and the prompt.
SCOPE `basic` is for servers that serve only the demo's `echo` and `add` tools (the core's
`blocking_server` example): the handshake, ping, that both tools are listed, and their exact
results.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import anyio
from mcp import Client, MCPError
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp_types import (
    METHOD_NOT_FOUND,
    REQUEST_TIMEOUT,
    CreateMessageResult,
    ElicitResult,
    ListRootsResult,
    Root,
    TextContent,
)

warnings.simplefilter("ignore")  # ping/roots/logging helpers are deprecated for 2026-07-28 only

TOOLS = ["echo", "add", "log_and_progress", "sample", "list_roots", "elicit", "ping_client", "fail", "slow"]
ROOTS = ["file:///tmp/interop-a", "file:///tmp/interop-b"]


class CheckFailed(Exception):
    pass


def check(name: str, got, want) -> None:
    if got != want:
        raise CheckFailed(f"{name}: got {got!r}, want {want!r}")


def texts(result) -> list[str]:
    return [c.text for c in result.content if isinstance(c, TextContent)]


async def run(url: str, mode: str, scope: str = "full") -> dict:
    seen: dict[str, list] = {"sampling": [], "roots": 0, "elicitation": [], "logs": []}
    probe: list = []

    async def sampling_callback(_ctx, params):
        block = params.messages[0].content
        seen["sampling"].append((params.max_tokens, getattr(block, "text", None)))
        return CreateMessageResult(
            role="assistant",
            content=TextContent(type="text", text=f"you said '{block.text}'"),
            model="py-model",
            stop_reason="endTurn",
        )

    async def list_roots_callback(_ctx):
        seen["roots"] += 1
        return ListRootsResult(roots=[Root(uri=u, name=u.rsplit("-", 1)[1]) for u in ROOTS])

    async def elicitation_callback(_ctx, params):
        seen["elicitation"].append((params.message, params.requested_schema))
        return ElicitResult(action="accept", content={"answer": "42"})

    async def logging_callback(params):
        seen["logs"].append((params.level, params.logger, params.data))

    if mode == "auto":
        # Record how the server answered the `server/discover` probe (DIVERGENCE 9: -32601 at once).
        original = ClientSession.send_discover

        async def recording_send_discover(self, *args, **kwargs):
            started = time.monotonic()
            try:
                result = await original(self, *args, **kwargs)
            except MCPError as e:
                probe.append({"code": e.code, "seconds": round(time.monotonic() - started, 3)})
                raise
            probe.append({"result": True})
            return result

        ClientSession.send_discover = recording_send_discover

    summary: dict = {"mode": mode}
    client = Client(
        sse_client(url),
        mode=mode,
        sampling_callback=sampling_callback,
        list_roots_callback=list_roots_callback,
        elicitation_callback=elicitation_callback,
        logging_callback=logging_callback,
    )
    with anyio.fail_after(120):
        async with client:
            if mode == "auto":
                check("number of server/discover probes", len(probe), 1)
                check("server/discover answer code", probe[0].get("code"), METHOD_NOT_FOUND)
                summary["discover"] = probe[0]
            check("protocol version", client.protocol_version, "2025-11-25")
            name = client.server_info.name if client.server_info else ""
            check("server name starts with mcp-sse-demo", name.startswith("mcp-sse-demo"), True)
            check("has tools capability", client.server_capabilities.tools is not None, True)
            summary["server"] = client.server_info.name
            summary["scope"] = scope

            await client.send_ping()

            tools = await client.list_tools()
            names = sorted(t.name for t in tools.tools)
            if scope == "basic":
                check("echo and add are listed", {"echo", "add"} <= set(names), True)
            else:
                check("tool names", names, sorted(TOOLS))

            r = await client.call_tool("echo", {"text": "hello, SSE é"})
            check("echo", (texts(r), r.is_error), (["hello, SSE é"], False))

            r = await client.call_tool("add", {"a": 20, "b": 22})
            check("add", (texts(r), r.structured_content, r.is_error), (["42"], {"result": 42}, False))

            if scope == "basic":
                r = await client.call_tool("nope", {})
                check("unknown tool", (texts(r), r.is_error), (["Unknown tool: nope"], True))
                r = await client.call_tool("echo", {"text": "still here"})
                check("echo after an unknown tool", texts(r), ["still here"])
                summary["tools"] = len(names)
                summary["ok"] = True
                return summary

            progress: list = []

            async def on_progress(p, total, message):
                progress.append((p, total, message))

            r = await client.call_tool("log_and_progress", {"steps": 3}, progress_callback=on_progress)
            check("log_and_progress result", (texts(r), r.is_error), (["done 3"], False))
            check("progress", progress, [(float(i), 3.0, f"step {i}") for i in (1, 2, 3)])
            # Notification callbacks run in spawned tasks: let them drain before comparing.
            with anyio.fail_after(10):
                while len(seen["logs"]) < 3:
                    await anyio.sleep(0.01)
            check("logs", seen["logs"], [("info", None, f"step {i}/3") for i in (1, 2, 3)])

            r = await client.call_tool("sample", {"prompt": "What is MCP?"})
            check("sample", (texts(r), r.is_error), (["py-model: you said 'What is MCP?'"], False))
            check("sampling request", seen["sampling"], [(32, "What is MCP?")])

            r = await client.call_tool("list_roots", {})
            check("list_roots", (texts(r), r.is_error), ([",".join(ROOTS)], False))
            check("roots callback calls", seen["roots"], 1)

            r = await client.call_tool("elicit", {"question": "What is the answer?"})
            check("elicit", (texts(r), r.is_error), (["accept:42"], False))
            message, schema = seen["elicitation"][0]
            check("elicitation message", message, "What is the answer?")
            check("elicitation schema", schema.get("properties"), {"answer": {"type": "string"}})

            r = await client.call_tool("ping_client", {})
            check("ping_client", (texts(r), r.is_error), (["pong"], False))

            r = await client.call_tool("fail", {"message": "kaboom"})
            check("fail", (texts(r), r.is_error), (["kaboom"], True))

            r = await client.call_tool("slow", {"seconds": 0.1})
            check("slow", (texts(r), r.is_error), (["slept 0.1"], False))

            rr = await client.read_resource("demo://greeting/py")
            check("resource template", [c.text for c in rr.contents], ["Hello, py!"])
            pr = await client.get_prompt("greet", {"name": "bob"})
            check("prompt", [m.content.text for m in pr.messages], ["Please greet bob."])

            # A per-call read timeout: -32001, then the session is still usable.
            started = time.monotonic()
            try:
                r = await client.call_tool("slow", {"seconds": 30}, read_timeout_seconds=0.5)
            except MCPError as e:
                check("timeout error code", e.code, REQUEST_TIMEOUT)
                summary["timeout_seconds"] = round(time.monotonic() - started, 3)
            else:
                raise CheckFailed(f"slow(30) with a 0.5 s timeout returned {r!r}")
            r = await client.call_tool("echo", {"text": "after timeout"})
            check("echo after timeout", (texts(r), r.is_error), (["after timeout"], False))

    summary["tools"] = len(TOOLS)
    summary["ok"] = True
    return summary


def main() -> int:
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in ("legacy", "auto"):
        print("usage: client_check.py URL legacy|auto [full|basic]", file=sys.stderr)
        return 2
    scope = sys.argv[3] if len(sys.argv) == 4 else "full"
    if scope not in ("full", "basic"):
        print("usage: client_check.py URL legacy|auto [full|basic]", file=sys.stderr)
        return 2
    try:
        summary = anyio.run(run, sys.argv[1], sys.argv[2], scope)
    except CheckFailed as e:
        print(f"CHECK FAILED: {e}", file=sys.stderr)
        return 1
    except BaseException as e:  # noqa: BLE001 - report any failure (incl. ExceptionGroup) as one line
        print(f"ERROR: {type(e).__name__}: {e!r}", file=sys.stderr)
        return 1
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
