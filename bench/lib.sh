# Shared by bench/compare.sh, bench/cross.sh and bench/load.sh: builds the peers, starts servers
# (bounded waits for their "listening" line) and stops them however the script ends.
# Source it after `cd` to the repository root; it sets ROOT, OUT, LOADGEN, IDLE, RMCP and PY.
ROOT=$PWD
OUT=$ROOT/target/bench
mkdir -p "$OUT"

bench_build() {
  echo "== build" >&2
  cargo build --profile bench -p mcp-sse-tests --bin loadgen --bin idle_sessions >&2
  (cd bench/rmcp-peer && CARGO_TARGET_DIR=$OUT/rmcp-target cargo build --release >&2)
  if [ ! -x "$OUT/venv/bin/python" ] || ! "$OUT/venv/bin/python" -c "import mcp, uvicorn" 2>/dev/null; then
    python3 -m venv "$OUT/venv"
    "$OUT/venv/bin/pip" install -q "mcp==2.3.0" uvicorn >&2
  fi
}
LOADGEN=$ROOT/target/release/loadgen
IDLE=$ROOT/target/release/idle_sessions
RMCP=$OUT/rmcp-target/release/rmcp-peer
PY=$OUT/venv/bin/python

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start NAME PORT CMD...: starts a server, waits (bounded) for its "listening" line; its pid is
# in LAST_PID.
start() {
  local name=$1 port=$2
  shift 2
  "$@" >"$OUT/$name.server.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  for _ in $(seq 1 300); do
    grep -q listening "$OUT/$name.server.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server $name did not start" >&2
  cat "$OUT/$name.server.log" >&2
  exit 1
}

# cpu_ticks PID: user+system clock ticks of a process so far (/proc/PID/stat fields 14+15).
cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
