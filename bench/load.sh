#!/usr/bin/env bash
# The load scenario (issue 19), for our server on each executor and for rmcp's, one server at a
# time on 127.0.0.1, always with the same client (mcp-sse on tokio, 2 workers):
#   1. SESSIONS concurrent TCP sessions, each running sequential echo calls for SECS seconds:
#      total calls/s, p50/p99/p999, the server's RSS and its CPU time per call;
#   2. IDLE_SESSIONS idle TCP sessions: the server's RSS per session (RSS after - before, / N).
#
#   bench/load.sh                                # 1,000 busy sessions for 10 s, 10,000 idle
#   SESSIONS=200 SECS=5 IDLE_SESSIONS=2000 bench/load.sh  # quicker
#
# The script raises the file-descriptor limit itself (each session is one GET connection and
# up to a few POST connections on each side). Every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
SESSIONS=${SESSIONS:-1000}
SECS=${SECS:-10}
IDLE_SESSIONS=${IDLE_SESSIONS:-10000}
SERVER_SECS=${SERVER_SECS:-900}
RESULTS=$OUT/load.jsonl
: >"$RESULTS"
# Each idle session is a GET and a kept-alive POST connection on both sides of 127.0.0.1.
need=$((IDLE_SESSIONS * 4 + 1024))
cur=$(ulimit -n)
if [ "$cur" != unlimited ] && [ "$cur" -lt "$need" ]; then
  ulimit -Hn "$need" 2>/dev/null || true # root may raise the hard limit too
  ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    echo "warning: fd limit $(ulimit -n) < $need; lower IDLE_SESSIONS or raise the hard limit" >&2
  fi
fi
bench_build

base=$((20000 + RANDOM % 20000))
i=0
for s in ours-smol ours-tokio rmcp; do
  port=$((base + i))
  i=$((i + 1))
  case $s in
    ours-smol) start "$s" "$port" "$LOADGEN" --serve "127.0.0.1:$port" --exec smol --max-secs "$SERVER_SECS" ;;
    ours-tokio) start "$s" "$port" "$LOADGEN" --serve "127.0.0.1:$port" --exec tokio --max-secs "$SERVER_SECS" ;;
    rmcp) start "$s" "$port" "$RMCP" serve "127.0.0.1:$port" "$SERVER_SECS" ;;
  esac
  url="http://127.0.0.1:$port/sse"
  line=$("$LOADGEN" --exec tokio --url "$url" --mode sessions --sessions "$SESSIONS" --secs "$SECS" --server-pid "$LAST_PID" | tail -1)
  echo "{\"server\":\"$s\",\"scenario\":\"busy\",\"load1\":$(cut -d' ' -f1 /proc/loadavg),\"r\":$line}" >>"$RESULTS"
  echo "$s busy: $line" >&2
  line=$("$LOADGEN" --exec tokio --url "$url" --mode idle --sessions "$IDLE_SESSIONS" --server-pid "$LAST_PID" | tail -1)
  echo "{\"server\":\"$s\",\"scenario\":\"idle\",\"load1\":$(cut -d' ' -f1 /proc/loadavg),\"r\":$line}" >>"$RESULTS"
  echo "$s idle: $line" >&2
  # One server at a time: stop this one before the next.
  kill "$LAST_PID" 2>/dev/null || true
  wait "$LAST_PID" 2>/dev/null || true
done

python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
busy = {r["server"]: r["r"] for r in rows if r["scenario"] == "busy"}
idle = {r["server"]: r["r"] for r in rows if r["scenario"] == "idle"}
print("\n%-11s %9s %10s %9s %9s %9s %13s %12s %16s" % ("server", "sessions", "calls/s", "p50 ms", "p99 ms", "p999 ms", "cpu µs/call", "RSS MiB", "idle B/session"))
for s in ["ours-smol", "ours-tokio", "rmcp"]:
    b, i = busy.get(s), idle.get(s)
    if not b:
        continue
    print("%-11s %9d %10.0f %9.2f %9.2f %9.2f %13.1f %12.1f %16s" % (
        s, b["sessions"], b["calls_per_s"], b["p50_ms"], b["p99_ms"], b["p999_ms"],
        b["server_cpu_us_per_call"], b["server_rss_bytes"] / 2**20,
        "%.0f (%d sessions)" % (i["server_bytes_per_session"], i["sessions"]) if i else "-"))
if "rmcp" in busy:
    r = busy["rmcp"]
    for s in ["ours-smol", "ours-tokio"]:
        if s in busy:
            o = busy[s]
            print(f"{s} vs rmcp: throughput {o['calls_per_s'] / r['calls_per_s']:.2f}x (target >= 3x), "
                  f"p99 {o['p99_ms']:.2f} vs {r['p99_ms']:.2f} ms, cpu/call {r['server_cpu_us_per_call'] / max(o['server_cpu_us_per_call'], 1e-9):.2f}x less")
PY
