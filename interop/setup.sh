#!/usr/bin/env bash
# Installs the real MCP SDKs used by the interop tests (cli/tests/interop_*.rs):
#   - Python: a venv at <target>/interop/venv with mcp==$MCP_PY_VERSION and uvicorn;
#   - Node:   @modelcontextprotocol/sdk@$MCP_TS_VERSION, the MCP Inspector (its CLI mode),
#             server-everything and mcp-remote, pinned, under <target>/interop/node.
# <target> is $CARGO_TARGET_DIR when set (a relative one is taken from the repository root),
# else the repository's target/.
# Idempotent (a marker file records the installed versions) and safe to run concurrently
# (everything happens under an exclusive flock on <target>/interop/setup.lock).
# On success prints two lines:  python=<path>  and  node=<folder holding node_modules>.
set -euo pipefail

MCP_PY_VERSION="2.3.0"
MCP_TS_VERSION="1.32.2"
# The clients and servers people run (cli/tests/interop_clients.rs).
INSPECTOR_VERSION="2.12.0"
EVERYTHING_VERSION="2026.8.31"
MCP_REMOTE_VERSION="0.15.1"

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target" == /* ]] || target="$root/$target"
dir="$target/interop"
venv="$dir/venv"
node_dir="$dir/node"
marker="$dir/installed"
want="python-mcp=$MCP_PY_VERSION uvicorn node-sdk=$MCP_TS_VERSION inspector=$INSPECTOR_VERSION everything=$EVERYTHING_VERSION mcp-remote=$MCP_REMOTE_VERSION"

die() { echo "interop/setup.sh: $*" >&2; exit 1; }

for tool in python3 node npm flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (needed for the interop tests; install it, e.g. apt-get install python3 python3-venv nodejs npm util-linux)"
done

mkdir -p "$dir"
exec 9>"$dir/setup.lock"
flock 9

if [[ -f "$marker" && "$(cat "$marker")" == "$want" && -x "$venv/bin/python" \
      && -f "$node_dir/node_modules/@modelcontextprotocol/sdk/package.json" \
      && -x "$node_dir/node_modules/.bin/mcp-inspector" ]]; then
  echo "python=$venv/bin/python"
  echo "node=$node_dir"
  exit 0
fi
rm -f "$marker"

if [[ ! -x "$venv/bin/python" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2 || die "python3 -m venv failed (is the venv module installed? e.g. apt-get install python3-venv)"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet "mcp==$MCP_PY_VERSION" uvicorn >&2 \
  || die "pip install mcp==$MCP_PY_VERSION uvicorn failed"
"$venv/bin/python" -c "import mcp, uvicorn; from mcp.client.sse import sse_client" \
  || die "the venv at $venv cannot import mcp/uvicorn after installing"

mkdir -p "$node_dir"
[[ -f "$node_dir/package.json" ]] || echo '{"name":"mcp-sse-interop","private":true}' > "$node_dir/package.json"
npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error \
  "@modelcontextprotocol/sdk@$MCP_TS_VERSION" \
  "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" \
  "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
  "mcp-remote@$MCP_REMOTE_VERSION" >&2 \
  || die "npm install of the Node peers failed"
[[ -f "$node_dir/node_modules/@modelcontextprotocol/sdk/package.json" ]] \
  || die "npm install finished but $node_dir/node_modules/@modelcontextprotocol/sdk is missing"

echo "$want" > "$marker"
echo "python=$venv/bin/python"
echo "node=$node_dir"
