#!/usr/bin/env bash
# Scale-out on Redis through nginx (issue 17): calls/s, p50 and p99 of echo calls with 1, 2
# and 3 `mcp-sse serve --redis` instances behind nginx round-robin, and the added latency of a
# forwarded POST (nginx sends every GET to instance A and every POST to instance B, against
# both to A).
#
#   bench/scale_out.sh                       # CALLS=3000 per client, CLIENTS=4 in parallel
#   CALLS=1000 CLIENTS=2 bench/scale_out.sh  # quicker
#
# Needs redis-server and nginx (Debian's packages). Everything binds 127.0.0.1 on ports picked
# here; every loop is bounded and every process started here is stopped however it ends.
# Figures depend on the machine's load: this is a measurement, never a test.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CALLS=${CALLS:-3000}
CLIENTS=${CLIENTS:-4}
OUT=$ROOT/target/bench/scale_out
rm -rf "$OUT" && mkdir -p "$OUT"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v redis-server >/dev/null && [ -x "$NGINX" ] || {
  echo "needs redis-server and nginx: apt-get install -y redis-server nginx" >&2
  exit 1
}
echo "== build" >&2
cargo build --profile bench -p mcp-sse-tests --bin loadgen >&2
cargo build --profile bench -p mcp-sse --bin mcp-sse >&2
LOADGEN=$ROOT/target/release/loadgen
SERVE=$ROOT/target/release/mcp-sse

PIDS=()
stop_all() { # nginx masters stop their workers on SIGTERM; every PID here was started here
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
REDIS_PID=
trap 'stop_all; [ -n "$REDIS_PID" ] && kill -TERM "$REDIS_PID" 2>/dev/null; true' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port: bounded wait until it accepts
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1" >&2; exit 1
}

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$OUT" >"$OUT/redis.log" 2>&1 &
REDIS_PID=$!
wait_port "$RPORT"

ROUND=0
start_instances() { # n: sets PORTS (in this shell, so that stop_all sees the PIDS)
  local i port
  ROUND=$((ROUND + 1))
  PORTS=()
  for i in $(seq 1 "$1"); do
    port=$(free_port)
    "$SERVE" serve --bind "127.0.0.1:$port" --ping-interval 5 \
      --redis "redis://127.0.0.1:$RPORT" --instance "r$ROUND-$i" --redis-prefix "bench:" \
      >"$OUT/serve.$ROUND.$i.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port"
    PORTS+=("$port")
  done
}

nginx_conf() { # port sse_upstreams post_upstreams
  local d=$OUT/nginx.$1
  mkdir -p "$d"
  cat >"$d/nginx.conf" <<CONF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fcgi;
  uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
  upstream sse { $2 keepalive 64; }
  upstream post { $3 keepalive 64; }
  server {
    listen 127.0.0.1:$1;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_buffering off;
    proxy_read_timeout 1h;
    location /sse { proxy_pass http://sse; }
    location / { proxy_pass http://post; }
  }
}
CONF
  "$NGINX" -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' &
  PIDS+=($!)
  wait_port "$1"
}

servers() { local s=; for p in "$@"; do s+="server 127.0.0.1:$p; "; done; echo "$s"; }

load() { # label port in_flight clients
  local i lg=()
  for i in $(seq 1 "$4"); do
    "$LOADGEN" --exec tokio --url "http://127.0.0.1:$2/sse" --calls "$CALLS" --in-flight "$3" \
      --warmup 200 >"$OUT/$1.$i.json" &
    lg+=($!)
  done
  wait "${lg[@]}"
  python3 - "$1" "$OUT" "$4" <<'PY'
import json, sys, glob
label, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rs = [json.loads(open(f).read().strip().splitlines()[-1]) for f in sorted(glob.glob(f"{out}/{label}.*.json"))]
cps = sum(r["calls_per_s"] for r in rs)
p50 = sorted(r["p50_ms"] for r in rs)[len(rs)//2]
p99 = max(r["p99_ms"] for r in rs)
print(f"{label:34s} clients={n} calls/s={cps:9.0f}  p50={p50:7.3f} ms  p99(max)={p99:7.3f} ms")
PY
}

echo "== round-robin through nginx, $CLIENTS clients x $CALLS calls, 8 in flight each" >&2
for n in 1 2 3; do
  start_instances "$n"
  np=$(free_port)
  all=$(servers "${PORTS[@]}")
  nginx_conf "$np" "$all" "$all"
  load "rr-$n-instances" "$np" 8 "$CLIENTS"
  stop_all
done

echo "== one hop: sequential calls, 1 client (GET on A; POSTs on A = local, on B = forwarded)" >&2
start_instances 2
ports=("${PORTS[@]}")
np=$(free_port); nginx_conf "$np" "$(servers "${ports[0]}")" "$(servers "${ports[0]}")"
load "local-sequential" "$np" 1 1
np=$(free_port); nginx_conf "$np" "$(servers "${ports[0]}")" "$(servers "${ports[1]}")"
load "forwarded-sequential" "$np" 1 1
np=$(free_port); nginx_conf "$np" "$(servers "${ports[0]}")" "$(servers "${ports[0]}")"
load "local-8-in-flight" "$np" 8 1
np=$(free_port); nginx_conf "$np" "$(servers "${ports[0]}")" "$(servers "${ports[1]}")"
load "forwarded-8-in-flight" "$np" 8 1
stop_all
echo "== Redis round trip (redis-benchmark PING, 1 client)" >&2
redis-benchmark -p "$RPORT" -c 1 -n 20000 -t ping -q 2>/dev/null | tail -2 || true
kill -TERM "$REDIS_PID" 2>/dev/null || true
