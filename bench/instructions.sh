#!/usr/bin/env bash
# Instructions per sequential echo call over 127.0.0.1 TCP, server and client, counted by
# valgrind's callgrind: the difference between a run of N2 calls and one of N1 calls, divided by
# N2 - N1 (start-up, connect and warm-up cancel out). Deterministic to within ~1%, unlike calls/s
# on a shared machine, so it shows what a change does to the code path itself.
#
#   bench/instructions.sh                 # tokio current-thread, 500 and 2,500 calls
#   EXEC=smol N1=200 N2=1200 bench/instructions.sh
#
# Needs valgrind. Binds 127.0.0.1 (a port the server picks); every wait is bounded, and the
# server is stopped however the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
EXEC=${EXEC:-tokio-ct}
N1=${N1:-500}
N2=${N2:-2500}
OUT=target/bench/instructions
mkdir -p "$OUT"
cargo build --profile bench -p mcp-sse-tests --bin loadgen >&2
BIN=$PWD/target/release/loadgen
SP=
trap '[ -n "$SP" ] && kill -TERM "$SP" 2>/dev/null; true' EXIT

run() { # calls: one server and one client under callgrind
  local n=$1 url=
  valgrind --tool=callgrind --callgrind-out-file="$OUT/server.$n" \
    "$BIN" --serve 127.0.0.1:0 --exec "$EXEC" --max-secs 300 >"$OUT/server.$n.log" 2>&1 &
  SP=$!
  for _ in $(seq 1 150); do
    url=$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$OUT/server.$n.log")
    [ -n "$url" ] && break
    sleep 0.2
  done
  if [ -z "$url" ]; then
    echo "the server did not start:" >&2
    cat "$OUT/server.$n.log" >&2
    exit 1
  fi
  valgrind --tool=callgrind --callgrind-out-file="$OUT/client.$n" \
    "$BIN" --exec "$EXEC" --url "$url" --calls "$n" --warmup 50 >"$OUT/client.$n.log" 2>&1 ||
    { cat "$OUT/client.$n.log" >&2; exit 1; }
  # SIGTERM, not SIGINT: a background job of a non-interactive shell ignores SIGINT.
  kill -TERM "$SP"
  wait "$SP" 2>/dev/null || true
  SP=
}
total() { grep -E '^(summary|totals):' "$1" | head -1 | awk '{print $2}'; }

run "$N1"
run "$N2"
python3 - "$EXEC" "$N1" "$N2" \
  "$(total "$OUT/server.$N1")" "$(total "$OUT/server.$N2")" \
  "$(total "$OUT/client.$N1")" "$(total "$OUT/client.$N2")" <<'PY'
import sys
ex, n1, n2, s1, s2, c1, c2 = sys.argv[1], *map(int, sys.argv[2:])
d = n2 - n1
print('{"exec":"%s","server_instructions_per_call":%d,"client_instructions_per_call":%d}'
      % (ex, (s2 - s1) / d, (c2 - c1) / d))
PY
