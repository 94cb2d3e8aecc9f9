#!/usr/bin/env bash
# Issue throughput with wrk (a C load generator, so the client takes little of the
# server's CPU): 16 keep-alive connections POSTing tickets round robin over the
# catalog for 10 s against `taboor run` on a fresh SQLite instance.
#   bash bench/issue_wrk.sh [connections] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-16}
seconds=${2:-10}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
folder=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$folder"' EXIT
export TABOOR_INSTANCE_PATH=$folder
export TABOOR_PRINTER=${TABOOR_PRINTER:-none}  # printing is measured by bench/printing.py
.venv/bin/taboor demo --json > "$folder/demo.json"
.venv/bin/taboor run --port "$port" > "$folder/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/v1/centers" >/dev/null && break; sleep 0.1; done
token=$(.venv/bin/python -c 'import json,sys; print(next(d["token"] for d in json.load(open(sys.argv[1]))["devices"] if d["kind"] == "kiosk"))' "$folder/demo.json")
services=$(curl -s "http://127.0.0.1:$port/api/v1/centers/DAM-MIDAN/services" |
    .venv/bin/python -c 'import json,sys; print(" ".join(s["code"] for s in json.load(sys.stdin)))')
cat > "$folder/issue.lua" <<LUA
local services, n = {}, 0
for s in string.gmatch("$services", "%S+") do table.insert(services, s) end
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/centers/DAM-MIDAN/tickets",
    {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"},
    '{"service": "' .. services[(n % #services) + 1] .. '"}')
end
LUA
echo "machine: $(nproc) cores; SQLite, synchronous=${TABOOR_SQLITE_SYNCHRONOUS:-FULL (the default)}"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$folder/issue.lua" "http://127.0.0.1:$port"
