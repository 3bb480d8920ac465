#!/usr/bin/env bash
# Runs the echo workload against mcp-sse (smol and tokio), the Python SDK (mcp 2.3.0) and
# rmcp 0.10 over 127.0.0.1 TCP, side by side in one run, plus our in-process figures, and prints
# a table with ratios (medians over REPEAT interleaved rounds; ratios are medians of per-round
# ratios; the 1-minute load average is recorded per run).
#
#   bench/compare.sh            # full run
#   REPEAT=1 CALLS=2000 bench/compare.sh   # quicker
#
# Every loop is bounded (call counts; servers exit by themselves after SERVER_SECS and are
# stopped at the end); everything binds and connects to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
REPEAT=${REPEAT:-5}       # rounds
CALLS=${CALLS:-5000}          # sequential / 8-in-flight calls (Rust clients)
PY_CALLS=${PY_CALLS:-500}     # the Python client is ~50x slower: fewer calls, same workload
BIG_CALLS=${BIG_CALLS:-20}    # ~1 MiB echoes
# ~1 MiB: the Python client refuses SSE events over 1 MiB (httpx2's default), so the echoed text
# is 1,048,000 bytes for every implementation (the event, JSON included, stays under 1 MiB).
BIG_SIZE=${BIG_SIZE:-1048000}
CONNECTS=${CONNECTS:-100}     # connect+initialize repetitions
SERVER_SECS=${SERVER_SECS:-1800}
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

bench_build

base=$((20000 + RANDOM % 20000))
P_SMOL=$base P_TOKIO=$((base + 1)) P_PY=$((base + 2)) P_RMCP=$((base + 3))
P_TOKIO_CT=$((base + 4)) P_RMCP_CT=$((base + 5)) P_AXUM=$((base + 6))
P_SMOL_TLS=$((base + 7)) P_TOKIO_TLS=$((base + 8))
echo "== servers on 127.0.0.1:$base..$((base + 8))" >&2
start ours-smol "$P_SMOL" "$LOADGEN" --serve "127.0.0.1:$P_SMOL" --exec smol --max-secs "$SERVER_SECS"
start ours-tokio "$P_TOKIO" "$LOADGEN" --serve "127.0.0.1:$P_TOKIO" --exec tokio --max-secs "$SERVER_SECS"
start python "$P_PY" "$PY" bench/python/echo_server.py "$P_PY" "$SERVER_SECS"
start rmcp "$P_RMCP" "$RMCP" serve "127.0.0.1:$P_RMCP" "$SERVER_SECS"
# Like for like on one thread: tokio's current-thread runtime on both sides, for both.
start ours-tokio-ct "$P_TOKIO_CT" "$LOADGEN" --serve "127.0.0.1:$P_TOKIO_CT" --exec tokio-ct --max-secs "$SERVER_SECS"
# Over TLS (rustls; a certificate from a test CA made at start, the client trusting that CA).
start ours-smol-tls "$P_SMOL_TLS" "$LOADGEN" --serve "127.0.0.1:$P_SMOL_TLS" --exec smol --tls-ca-out "$OUT/ca-smol.pem" --max-secs "$SERVER_SECS"
start ours-tokio-tls "$P_TOKIO_TLS" "$LOADGEN" --serve "127.0.0.1:$P_TOKIO_TLS" --exec tokio --tls-ca-out "$OUT/ca-tokio.pem" --max-secs "$SERVER_SECS"
# Our server mounted in an axum app through the hyper adapter (tokio, under /mcp).
start ours-axum "$P_AXUM" "$LOADGEN" --serve "127.0.0.1:$P_AXUM" --exec tokio --transport axum --max-secs "$SERVER_SECS"
start rmcp-ct "$P_RMCP_CT" env RMCP_CURRENT_THREAD=1 "$RMCP" serve "127.0.0.1:$P_RMCP_CT" "$SERVER_SECS"

# run LABEL WORKLOAD CMD...: runs one client once, tags its JSON line with the round.
run() {
  local label=$1 workload=$2
  shift 2
  local load line
  load=$(cut -d' ' -f1 /proc/loadavg)
  line=$("$@" | tail -1)
  echo "{\"round\":$ROUND,\"label\":\"$label\",\"workload\":\"$workload\",\"load1\":$load,\"r\":$line}" >>"$RESULTS"
  echo "round $ROUND $label $workload load=$load $line" >&2
}

# One round runs every job once. Rounds are interleaved (not REPEAT runs of one job, then the
# next) so that the machine's drift over minutes hits every implementation alike, and each round
# starts one job further along the list, so that no implementation always runs first (the order
# is rotated, not shuffled: each job keeps its neighbours); the summary gives medians over rounds
# and, for ratios, the median of the per-round ratios.
job_ours() { # mcp-sse over TCP, the client on the executor of its server
  local ex=$1 port=$2 url=http://127.0.0.1:$2/sse
  run "mcp-sse/$ex" seq "$LOADGEN" --exec "$ex" --url "$url" --calls "$CALLS" --in-flight 1
  run "mcp-sse/$ex" inflight8 "$LOADGEN" --exec "$ex" --url "$url" --calls "$CALLS" --in-flight 8
  if [ "$ex" != tokio-ct ]; then
    run "mcp-sse/$ex" echo1MiB "$LOADGEN" --exec "$ex" --url "$url" --calls "$BIG_CALLS" --warmup 3 --size "$BIG_SIZE"
    run "mcp-sse/$ex" connect "$LOADGEN" --exec "$ex" --url "$url" --mode connect --calls "$CONNECTS" --warmup 10
  fi
}
job_smol() { job_ours smol "$P_SMOL"; }
job_tokio() { job_ours tokio "$P_TOKIO"; }
job_tokio_ct() { job_ours tokio-ct "$P_TOKIO_CT"; }
job_axum() { # the same tokio client against the axum mount: what the convenience costs
  local url=http://127.0.0.1:$P_AXUM/mcp/sse
  run mcp-sse/tokio+axum seq "$LOADGEN" --exec tokio --url "$url" --calls "$CALLS" --in-flight 1
  run mcp-sse/tokio+axum inflight8 "$LOADGEN" --exec tokio --url "$url" --calls "$CALLS" --in-flight 8
}
job_tls() { # TCP+TLS beside the plain figures, same client executor as the server
  local ex url
  for ex in smol tokio; do
    if [ $ex = smol ]; then url=https://127.0.0.1:$P_SMOL_TLS/sse; else url=https://127.0.0.1:$P_TOKIO_TLS/sse; fi
    run "mcp-sse/$ex+tls" seq "$LOADGEN" --exec "$ex" --url "$url" --cacert "$OUT/ca-$ex.pem" --calls "$CALLS" --in-flight 1
    run "mcp-sse/$ex+tls" inflight8 "$LOADGEN" --exec "$ex" --url "$url" --cacert "$OUT/ca-$ex.pem" --calls "$CALLS" --in-flight 8
  done
}
job_rmcp_ct() {
  local url=http://127.0.0.1:$P_RMCP_CT/sse
  run rmcp-0.10-ct seq env RMCP_CURRENT_THREAD=1 "$RMCP" client "$url" echo "$CALLS" 1 4 200
  run rmcp-0.10-ct inflight8 env RMCP_CURRENT_THREAD=1 "$RMCP" client "$url" echo "$CALLS" 8 4 200
}
job_rmcp() {
  local url=http://127.0.0.1:$P_RMCP/sse
  run rmcp-0.10 seq "$RMCP" client "$url" echo "$CALLS" 1 4 200
  run rmcp-0.10 inflight8 "$RMCP" client "$url" echo "$CALLS" 8 4 200
  run rmcp-0.10 echo1MiB "$RMCP" client "$url" echo "$BIG_CALLS" 1 "$BIG_SIZE" 3
  run rmcp-0.10 connect "$RMCP" client "$url" connect "$CONNECTS" 1 4 10
}
job_python() {
  local url=http://127.0.0.1:$P_PY/sse
  run python-2.3.0 seq "$PY" bench/python/echo_client.py "$url" echo "$PY_CALLS" 1 4 50
  run python-2.3.0 inflight8 "$PY" bench/python/echo_client.py "$url" echo "$PY_CALLS" 8 4 50
  run python-2.3.0 echo1MiB "$PY" bench/python/echo_client.py "$url" echo "$BIG_CALLS" 1 "$BIG_SIZE" 3
  run python-2.3.0 connect "$PY" bench/python/echo_client.py "$url" connect 20 1 4 3
}
job_inproc() { # mcp-sse in process (no peers to compare with)
  for ex in smol tokio; do
    run "mcp-sse/$ex" inproc-seq "$LOADGEN" --exec "$ex" --transport inproc --calls "$((CALLS * 4))"
    run "mcp-sse/$ex" inproc-inflight8 "$LOADGEN" --exec "$ex" --transport inproc --calls "$((CALLS * 4))" --in-flight 8
    run "mcp-sse/$ex" inproc-inflight64 "$LOADGEN" --exec "$ex" --transport inproc --calls "$((CALLS * 4))" --in-flight 64
    run "mcp-sse/$ex" inproc-echo1MiB "$LOADGEN" --exec "$ex" --transport inproc --calls "$BIG_CALLS" --warmup 3 --size "$BIG_SIZE"
    run "mcp-sse/$ex" inproc-connect "$LOADGEN" --exec "$ex" --transport inproc --mode connect --calls "$((CONNECTS * 10))" --warmup 50
  done
}
JOBS=(job_smol job_tokio job_tls job_axum job_tokio_ct job_rmcp_ct job_rmcp job_python job_inproc)
round() {
  local n=${#JOBS[@]} i
  for i in $(seq 0 $((n - 1))); do
    "${JOBS[$(((i + ROUND - 1) % n))]}"
  done
}

for ROUND in $(seq 1 "$REPEAT"); do
  round
done
for side in server both; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "idle sessions ($side, load $load): $("$IDLE" --side "$side" --sessions 10000)"
done

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault((r["label"], r["workload"]), []).append(r)
def med(label, wl, key):
    rs = by.get((label, wl))
    return statistics.median(x["r"][key] for x in rs) if rs else None
def load(label, wl):
    rs = by.get((label, wl))
    return statistics.median(x["load1"] for x in rs) if rs else None
print("\nTCP 127.0.0.1, medians of %d interleaved rounds (load = 1-min load average, 2 cores)" % max(len(v) for v in by.values()))
print("%-17s %-17s %10s %9s %9s %9s %6s" % ("impl", "workload", "calls/s", "p50 ms", "p99 ms", "cpu s", "load"))
labels = ["mcp-sse/smol", "mcp-sse/smol+tls", "mcp-sse/tokio", "mcp-sse/tokio+tls", "mcp-sse/tokio+axum", "mcp-sse/tokio-ct", "rmcp-0.10", "rmcp-0.10-ct", "python-2.3.0"]
wls = ["seq", "inflight8", "echo1MiB", "connect", "inproc-seq", "inproc-inflight8", "inproc-inflight64", "inproc-echo1MiB", "inproc-connect"]
for wl in wls:
    for lb in labels:
        if (lb, wl) in by:
            cpu = med(lb, wl, "cpu_s") if all("cpu_s" in x["r"] for x in by[(lb, wl)]) else None
            print("%-17s %-17s %10.1f %9.3f %9.3f %9s %6.2f" % (lb, wl, med(lb, wl, "calls_per_s"), med(lb, wl, "p50_ms"), med(lb, wl, "p99_ms"), "%.3f" % cpu if cpu is not None else "-", load(lb, wl)))
# tokio and smol: against rmcp's default (multi-thread, 2 workers); tokio-ct: like for like.
pairs = [(a, b) for a in ("mcp-sse/smol", "mcp-sse/tokio") for b in ("rmcp-0.10", "python-2.3.0")]
pairs.append(("mcp-sse/tokio-ct", "rmcp-0.10-ct"))
# The axum mount against our own listener, same tokio client (<1 = the mount is slower).
pairs.append(("mcp-sse/tokio+axum", "mcp-sse/tokio"))
# TLS against plain, same executor (<1 = what TLS costs).
pairs.append(("mcp-sse/smol+tls", "mcp-sse/smol"))
pairs.append(("mcp-sse/tokio+tls", "mcp-sse/tokio"))
def paired(label, peer, wl, key, invert):
    # The median over rounds of this round's ratio (both ran in the same round).
    mine = {x["round"]: x["r"][key] for x in by.get((label, wl), [])}
    theirs = {x["round"]: x["r"][key] for x in by.get((peer, wl), [])}
    rs = [(theirs[k] / mine[k]) if invert else (mine[k] / theirs[k]) for k in mine if k in theirs and mine[k] and theirs[k]]
    return (statistics.median(rs), min(rs), max(rs)) if rs else None
print("\nratios: median of per-round ratios [min-max] (calls/s for seq/inflight8; p50 time for echo1MiB/connect; >1 = mcp-sse faster)")
for lb, peer in pairs:
    cells = []
    for wl in ["seq", "inflight8", "echo1MiB", "connect"]:
        if wl in ("echo1MiB", "connect"):
            r = paired(lb, peer, wl, "p50_ms", True)
        else:
            r = paired(lb, peer, wl, "calls_per_s", False)
        cells.append("%s %.2fx [%.2f-%.2f]" % ((wl,) + r) if r else "%s n/a" % wl)
    print("%-17s vs %-13s %s" % (lb, peer, "  ".join(cells)))
PY
