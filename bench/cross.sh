#!/usr/bin/env bash
# The cross matrix (issue 19): each client against each server over 127.0.0.1, sequential and
# 8 in flight, in interleaved rounds, with the server's CPU time per call from the OS's
# accounting (/proc/PID/stat, user+system, around each run; warm-up calls included in the
# division, as they ran inside the window).
#
#   clients: mcp-sse on smol and on tokio's current-thread runtime, rmcp 0.10 (tokio), Python 2.3.0
#   servers: mcp-sse on smol, tokio-ct and tokio (2 workers), rmcp 0.10, Python 2.3.0
#
#   bench/cross.sh                         # 3 rounds
#   REPEAT=1 CALLS=2000 bench/cross.sh     # quicker
#
# Ratios are per round: with the same client, our server's calls/s over rmcp's (server speed)
# and rmcp's server CPU per call over ours; with the same server, our client's calls/s over
# rmcp's (client speed). Every loop is bounded; everything is on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
REPEAT=${REPEAT:-3}
CALLS=${CALLS:-5000}        # Rust clients against Rust servers
PY_CALLS=${PY_CALLS:-300}   # any cell with Python on either side (~50x slower)
WARMUP=${WARMUP:-200}
SERVER_SECS=${SERVER_SECS:-3600}
RESULTS=$OUT/cross.jsonl
: >"$RESULTS"
bench_build

base=$((20000 + RANDOM % 20000))
declare -A SPORT SPID
SERVERS=(ours-smol ours-tokio-ct ours-tokio rmcp python)
i=0
for s in "${SERVERS[@]}"; do
  port=$((base + i))
  i=$((i + 1))
  case $s in
    ours-smol) start "$s" "$port" "$LOADGEN" --serve "127.0.0.1:$port" --exec smol --max-secs "$SERVER_SECS" ;;
    ours-tokio-ct) start "$s" "$port" "$LOADGEN" --serve "127.0.0.1:$port" --exec tokio-ct --max-secs "$SERVER_SECS" ;;
    ours-tokio) start "$s" "$port" "$LOADGEN" --serve "127.0.0.1:$port" --exec tokio --max-secs "$SERVER_SECS" ;;
    rmcp) start "$s" "$port" "$RMCP" serve "127.0.0.1:$port" "$SERVER_SECS" ;;
    python) start "$s" "$port" "$PY" bench/python/echo_server.py "$port" "$SERVER_SECS" ;;
  esac
  SPORT[$s]=$port
  SPID[$s]=$LAST_PID
done
CLIENTS=(ours-smol ours-tokio-ct rmcp python)
TICK=$(getconf CLK_TCK)

# cell CLIENT SERVER IN_FLIGHT: one run, tagged with the round and the server's CPU.
cell() {
  local client=$1 server=$2 k=$3 url="http://127.0.0.1:${SPORT[$2]}/sse" calls=$CALLS line
  if [ "$client" = python ] || [ "$server" = python ]; then calls=$PY_CALLS; fi
  local before after
  before=$(cpu_ticks "${SPID[$server]}")
  case $client in
    ours-smol) line=$("$LOADGEN" --exec smol --url "$url" --calls "$calls" --in-flight "$k" --warmup "$WARMUP" | tail -1) ;;
    ours-tokio-ct) line=$("$LOADGEN" --exec tokio-ct --url "$url" --calls "$calls" --in-flight "$k" --warmup "$WARMUP" | tail -1) ;;
    rmcp) line=$("$RMCP" client "$url" echo "$calls" "$k" 4 "$WARMUP" | tail -1) ;;
    python) line=$("$PY" bench/python/echo_client.py "$url" echo "$calls" "$k" 4 "$WARMUP" | tail -1) ;;
  esac
  after=$(cpu_ticks "${SPID[$server]}")
  local us
  us=$(python3 -c "print(round(($after - $before) / $TICK * 1e6 / ($calls + $WARMUP), 2))")
  local wl=seq
  [ "$k" = 8 ] && wl=inflight8
  echo "{\"round\":$ROUND,\"client\":\"$client\",\"server\":\"$server\",\"workload\":\"$wl\",\"server_cpu_us\":$us,\"load1\":$(cut -d' ' -f1 /proc/loadavg),\"r\":$line}" >>"$RESULTS"
  echo "round $ROUND $client -> $server $wl server_cpu_us=$us $line" >&2
}

CELLS=()
for c in "${CLIENTS[@]}"; do for s in "${SERVERS[@]}"; do CELLS+=("$c $s"); done; done
for ROUND in $(seq 1 "$REPEAT"); do
  n=${#CELLS[@]}
  for j in $(seq 0 $((n - 1))); do
    # shellcheck disable=SC2086
    set -- ${CELLS[$(((j + ROUND - 1) % n))]}
    cell "$1" "$2" 1
    cell "$1" "$2" 8
  done
done

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
clients = ["ours-smol", "ours-tokio-ct", "rmcp", "python"]
servers = ["ours-smol", "ours-tokio-ct", "ours-tokio", "rmcp", "python"]
by = {}
for r in rows:
    by.setdefault((r["client"], r["server"], r["workload"]), []).append(r)
def med(c, s, wl, f):
    rs = by.get((c, s, wl))
    return statistics.median(f(x) for x in rs) if rs else None
rounds = max(x["round"] for x in rows)
for wl in ["seq", "inflight8"]:
    print(f"\n{wl}: calls/s (server CPU µs per call), medians of {rounds} rounds; rows = client, columns = server")
    print("%-14s" % "" + "".join("%22s" % s for s in servers))
    for c in clients:
        cells = []
        for s in servers:
            v = med(c, s, wl, lambda x: x["r"]["calls_per_s"])
            u = med(c, s, wl, lambda x: x["server_cpu_us"])
            cells.append("%22s" % (f"{v:,.0f} ({u:.0f} µs)" if v is not None else "-"))
        print("%-14s" % c + "".join(cells))
def per_round(a, b, f):
    # median [min-max] of this round's f(a)/f(b)
    ra = {x["round"]: x for x in by.get(a, [])}
    rb = {x["round"]: x for x in by.get(b, [])}
    rs = [f(ra[k]) / f(rb[k]) for k in ra if k in rb and f(rb[k])]
    return (statistics.median(rs), min(rs), max(rs)) if rs else None
def fmt(r):
    return "%.2fx [%.2f-%.2f]" % r if r else "n/a"
print("\nserver speed (same client): our server's calls/s / rmcp's; server CPU per call: rmcp's / ours (target >= 4x)")
for wl in ["seq", "inflight8"]:
    for c in clients:
        for s in ["ours-smol", "ours-tokio-ct", "ours-tokio"]:
            speed = per_round((c, s, wl), (c, "rmcp", wl), lambda x: x["r"]["calls_per_s"])
            cpu = per_round((c, "rmcp", wl), (c, s, wl), lambda x: x["server_cpu_us"])
            print(f"  {wl:10s} client {c:14s} {s:14s} speed {fmt(speed):22s} cpu {fmt(cpu)}")
print("\nclient speed (same server): our client's calls/s / rmcp's client's")
for wl in ["seq", "inflight8"]:
    for s in servers:
        for c in ["ours-smol", "ours-tokio-ct"]:
            print(f"  {wl:10s} server {s:14s} {c:14s} {fmt(per_round((c, s, wl), ('rmcp', s, wl), lambda x: x['r']['calls_per_s']))}")
PY
