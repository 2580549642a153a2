#!/usr/bin/env bash
# The server's benchmark (issue 6): durable ingestion throughput of 10k-row
# batches over loopback HTTP, and GET /api/v1/evaluations latency under 64
# concurrent clients. Client (wrk) and server share this machine's cores.
#
#   cargo build --release -p yardstick-cli && scripts/bench_server.sh [SECONDS]
#
# Needs wrk (apt-get install wrk). The state store is SQLite (WAL,
# synchronous=FULL: every acknowledged batch is on disk) in a temp folder,
# or PostgreSQL with YARDSTICK_DB=postgres://…
set -euo pipefail
secs=${1:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/target/release/yardstick"
[ -x "$bin" ] || { echo "build first: cargo build --release -p yardstick-cli" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" demo "$work/p" --no-serve --format json >/dev/null
cat >> "$work/p/yardstick.toml" <<'TOML'

# ---- benchmark: a stored source fed over HTTP
[source.events]
store = true
time = "at"
columns = { at = "timestamp", amount = "double", region = "string" }

[kpi.event_amount]
objective = "Benchmark ingestion"
owner = "bench"
measure = "sum(amount)"
source = "events"
every = "day"
target = ">= 0"
TOML

python3 - "$work" <<'PY'
import json, sys, random
w = sys.argv[1]
random.seed(1)
rows = [{"at": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z", "amount": round(random.uniform(1, 500), 2),
         "region": random.choice(["eu", "us", "apac"])} for i in range(10_000)]
with open(f"{w}/batch.csv", "w") as f:
    f.write("at,amount,region\n")
    for r in rows:
        f.write(f"{r['at']},{r['amount']},{r['region']}\n")
with open(f"{w}/batch.json", "w") as f:
    json.dump(rows, f)
PY
token=$("$bin" token create --role editor -C "$work/p" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

RUST_LOG=warn "$bin" serve "$work/p" --addr 127.0.0.1:0 > "$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$base" ] || { cat "$work/serve.err" >&2; exit 1; }

for fmt in csv json; do
  ct=text/csv; [ $fmt = json ] && ct=application/json
  cat > "$work/post.lua" <<LUA
wrk.method = "POST"
local f = io.open("$work/batch.$fmt", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "$ct"
wrk.headers["Authorization"] = "Bearer $token"
LUA
  out=$(wrk -t2 -c4 -d"${secs}s" -s "$work/post.lua" "$base/api/v1/sources/events/rows")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out"; echo "pushes failed" >&2; exit 1; fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  python3 -c "print(f'ingest {\"$fmt\":>4}: {float(\"$rps\"):8.1f} batches/s = {float(\"$rps\") * 10000:>10,.0f} rows/s (10k-row batches, 4 connections, ${secs}s)')"
done

# Let the last pushes be evaluated before timing reads.
sleep 2
for q in "kpi=uptime" "kpi=revenue&from=2026-01&to=2026-06" ""; do
  out=$(wrk -t2 -c64 -d"${secs}s" --latency -H "Authorization: Bearer $token" "$base/api/v1/evaluations?$q")
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  printf 'GET /api/v1/evaluations?%-36s p50 %8s  p99 %8s  %8s req/s (64 connections)\n' "$q" "$p50" "$p99" "$rps"
done
