"""Echo load client on the Python MCP SDK (mcp 2.3.0), legacy SSE transport: the same workload
as the Rust `loadgen`, printing the same JSON line.

usage: echo_client.py URL echo|connect CALLS IN_FLIGHT SIZE WARMUP
"""

import asyncio
import json
import sys
import time

from mcp.client.session import ClientSession
from mcp.client.sse import sse_client


async def connect_once(url: str) -> float:
    t = time.perf_counter()
    async with sse_client(url) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            return time.perf_counter() - t


async def echo(session: ClientSession, calls: int, in_flight: int, size: int) -> list[float]:
    text = "x" * size
    lat: list[float] = []

    async def worker(share: int) -> None:
        for _ in range(share):
            t = time.perf_counter()
            r = await session.call_tool("echo", {"text": text})
            assert r.content[0].text == text, "echo returned other text"
            lat.append(time.perf_counter() - t)

    shares = [calls // in_flight + (1 if w < calls % in_flight else 0) for w in range(in_flight)]
    await asyncio.gather(*(worker(s) for s in shares))
    return lat


async def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    assert url.startswith("http://127.0.0.1:"), "127.0.0.1 only"
    calls, in_flight, size, warmup = (int(x) for x in sys.argv[3:7])
    calls, in_flight = min(calls, 1_000_000), max(in_flight, 1)
    if mode == "connect":
        for _ in range(min(warmup, calls)):
            await connect_once(url)
        t0 = time.perf_counter()
        lat = [await connect_once(url) for _ in range(calls)]
        secs = time.perf_counter() - t0
    else:
        async with sse_client(url, sse_read_timeout=120) as (read, write):
            async with ClientSession(read, write) as s:
                await s.initialize()
                await echo(s, warmup, in_flight, size)
                t0 = time.perf_counter()
                lat = await echo(s, calls, in_flight, size)
                secs = time.perf_counter() - t0
    lat.sort()
    pick = lambda q: lat[min(len(lat) * q // 100, len(lat) - 1)] * 1e3
    print(json.dumps({"impl": "python-mcp-2.3.0", "exec": "asyncio", "transport": "tcp", "mode": mode,
                      "in_flight": in_flight, "size": size, "calls": len(lat), "secs": round(secs, 4),
                      "calls_per_s": round(len(lat) / secs, 1), "p50_ms": round(pick(50), 4),
                      "p99_ms": round(pick(99), 4)}), flush=True)


asyncio.run(main())
