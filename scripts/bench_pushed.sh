#!/usr/bin/env bash
# The server's memory as pushed rows grow (issue 19): ROWS rows pushed over
# loopback HTTP into a stored source in batches of 500k, the server
# compacting them into Parquet as they come; prints the server's resident
# memory (VmRSS) every 5M rows and its peak (VmHWM) at the end, once the
# evaluation counts every row (all rows fall in January–November 2026).
#
#   scripts/bench_pushed.sh BIN [ROWS]        (default 50,000,000)
#
# The state store is SQLite in a temp folder (about 25 bytes a row on disk).
set -euo pipefail
bin=$(realpath "$1"); total=${2:-50000000}; batch=500000
work=$(mktemp -d /tmp/bench-pushed.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/p"
cat > "$work/p/yardstick.toml" <<'TOML'
[project]
name = "Pushed rows"
timezone = "UTC"

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

[kpi.event_count]
objective = "Count every pushed row"
owner = "bench"
measure = "count(*)"
source = "events"
every = "year"
target = ">= 0"
TOML
python3 - "$work/batch.csv" "$batch" <<'PY'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    f.write("at,amount,region\n")
    for i in range(int(sys.argv[2])):
        f.write(f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}Z,"
                f"{random.uniform(1, 500):.2f},{random.choice(['eu', 'us', 'apac'])}\n")
PY
token=$("$bin" token create --role editor -C "$work/p" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
RUST_LOG=warn "$bin" serve "$work/p" --addr 127.0.0.1:0 > "$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$base" ] || { cat "$work/serve.err" >&2; exit 1; }

python3 - "$base" "$token" "$work/batch.csv" "$batch" "$total" "$server" <<'PY'
import json, sys, time, urllib.request
base, token, path, batch, total, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
body = open(path, "rb").read()

def mem(field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0

def count():
    req = urllib.request.Request(f"{base}/api/v1/evaluations?kpi=event_count",
                                 headers={"Authorization": f"Bearer {token}"})
    rows = json.load(urllib.request.urlopen(req))["evaluations"]
    return sum(r["value"] or 0 for r in rows)

t0 = time.time()
pushed = 0
while pushed < total:
    req = urllib.request.Request(f"{base}/api/v1/sources/events/rows", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv",
                                          "Idempotency-Key": f"b{pushed}"})
    urllib.request.urlopen(req, timeout=600).read()
    pushed += batch
    if pushed % 5_000_000 == 0:
        print(f"{pushed:>12,} rows pushed  {time.time() - t0:7.1f} s  server RSS {mem('VmRSS'):7.0f} MB", flush=True)
while count() < pushed:
    time.sleep(1)
print(f"evaluation counts {int(count()):,} rows after {time.time() - t0:.0f} s; "
      f"server RSS now {mem('VmRSS'):.0f} MB, peak (VmHWM) {mem('VmHWM'):.0f} MB")
PY
du -sh "$work/p/.yardstick/compacted" "$work/p/.yardstick/state.db" 2>/dev/null || true
