#!/usr/bin/env bash
# Incremental re-evaluation (issue 19): the benchmark KPI set served over
# DATA (from ../shared/bench/gen_data.py), its orders read from a folder;
# one day of orders (2025-01-01, a copy of the data's last day shifted by a
# day) is appended as a new Parquet file, then a second (2025-01-02).
# Prints the wall time of the server's evaluations, as GET /api/v1/health
# reports them:
#   1. the first evaluation (every row read),
#   2. the next refresh with nothing new (every group kept),
#   3. the refresh after the first day (a month with no rows yet: merged),
#   4. the refresh after the second day (the same month: sums merged, the
#      month's distinct count recomputed over all rows),
#   5. a restarted server's first evaluation of the same files (full),
# and compares the values served after (4) with `yardstick eval` of the
# same files at the same instant, row for row.
#
#   scripts/bench_incremental.sh BIN DATA
#
# The server runs as if it were 2025-01-03 00:00 UTC, after the appended
# days (libfaketime: `apt-get install faketime`), so the
# appended day falls in the month in progress, as new data does. Refreshes
# come once a minute of the server's clock: a run takes about three
# minutes plus the evaluations.
set -euo pipefail
# libfaketime is preloaded into the server itself (the `faketime` command
# forks, and its child would outlive `kill`).
faketime_lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
[ -n "$faketime_lib" ] || { echo "needs libfaketime (apt-get install faketime)" >&2; exit 1; }
bin=$(realpath "$1"); data=$(realpath "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
kit="$here/../shared/bench"
work=$(mktemp -d /tmp/bench-incremental.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/p/data/orders"
sed 's|path = "data/orders.parquet"|path = "data/orders/*.parquet"|' "$kit/yardstick.toml" > "$work/p/yardstick.toml"
ln -s "$data/orders.parquet" "$work/p/data/orders/0000-history.parquet"
for f in tickets.parquet probes.parquet stations.csv incidents.csv maintenance.csv; do
  ln -s "$data/$f" "$work/p/data/$f"
done
python3 - "$data/orders.parquet" "$work" <<'PY'
import sys, datetime as dt
import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
last = pc.max(t["ordered_at"]).as_py()
start = dt.datetime(last.year, last.month, last.day, tzinfo=last.tzinfo)
day = t.filter(pc.greater_equal(t["ordered_at"], pa.scalar(start, t.schema.field("ordered_at").type)))
top = pc.max(t["order_id"]).as_py() if "order_id" in t.column_names else 0
for k in (1, 2):
    shift = pa.scalar(dt.timedelta(days=k), pa.duration("us"))
    cols = {n: day[n] for n in day.column_names}
    cols["ordered_at"] = pc.add(day["ordered_at"], shift).cast(t.schema.field("ordered_at").type)
    if "order_id" in cols:
        first = top + 1 + (k - 1) * day.num_rows
        cols["order_id"] = pa.array(range(first, first + day.num_rows), type=t.schema.field("order_id").type)
    pq.write_table(pa.table(cols, schema=t.schema), f"{sys.argv[2]}/day{k}.parquet")
    print(f"appended day {k}: {day.num_rows} orders on {(start + dt.timedelta(days=k)).date()}", file=sys.stderr)
PY
token=$("$bin" token create --role viewer -C "$work/p" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

start_server() {
  : > "$work/serve.out"
  LD_PRELOAD="$faketime_lib" FAKETIME="@2025-01-03 00:00:00" FAKETIME_DONT_FAKE_MONOTONIC=1 RUST_LOG=warn \
    "$bin" serve "$work/p" --addr 127.0.0.1:0 > "$work/serve.out" 2>>"$work/serve.err" &
  server=$!
  for _ in $(seq 1 6000); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  base=$(sed -n 's/^listening on //p' "$work/serve.out")
  [ -n "$base" ] || { cat "$work/serve.err" >&2; exit 1; }
}
health() { curl -sf -H "Authorization: Bearer $token" "$base/api/v1/health"; }
# Waits for an evaluation other than the one at $1; prints the health JSON.
next_evaluation() {
  for _ in $(seq 1 1800); do
    h=$(health) && [ "$(echo "$h" | python3 -c 'import json,sys; print(json.load(sys.stdin)["evaluated_at"])')" != "$1" ] && { echo "$h"; return; }
    sleep 0.2
  done
  echo "no new evaluation" >&2; exit 1
}
cat > "$work/report.py" <<'PY'
import json, sys
e = json.load(sys.stdin)["last_evaluation"]
print(f"{sys.argv[1]:<36} {e['seconds']:8.3f} s   kept {e['groups_kept']}, merged {e['groups_merged']}, "
      f"periods recomputed {e['periods_recomputed']}, read whole {e['groups_read_whole']}")
PY
report() { echo "$2" | python3 "$work/report.py" "$1"; }
at() { echo "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["evaluated_at"])'; }

start_server
first=$(next_evaluation none); report "1. first evaluation (all rows)" "$first"
kept=$(next_evaluation "$(at "$first")"); report "2. refresh, nothing new" "$kept"
cp "$work/day1.parquet" "$work/p/data/orders/0001-day.parquet"
merged=$(next_evaluation "$(at "$kept")"); report "3. refresh after day 1 (new month)" "$merged"
cp "$work/day2.parquet" "$work/p/data/orders/0002-day.parquet"
merged=$(next_evaluation "$(at "$merged")"); report "4. refresh after day 2 (same month)" "$merged"
curl -sf -H "Authorization: Bearer $token" "$base/api/v1/evaluations" > "$work/served.json"
as_of=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["as_of"])' "$work/served.json")
kill "$server"; wait "$server" 2>/dev/null || true; server=
start_server
full=$(next_evaluation none); report "5. restarted: first evaluation" "$full"
kill "$server"; wait "$server" 2>/dev/null || true; server=

"$bin" eval "$work/p" --format json --as-of "$as_of" > "$work/cli.json"
python3 - "$work/served.json" "$work/cli.json" <<'PY'
import json, math, sys
served = json.load(open(sys.argv[1]))["evaluations"]
cli = json.load(open(sys.argv[2]))["evaluations"]
key = lambda r: (r["kpi"], r["period"], json.dumps(r.get("entity"), sort_keys=True))
a = {key(r): r["value"] for r in served if r.get("complete")}
b = {key(r): r["value"] for r in cli if r.get("complete")}
same = sum(1 for k in b if k in a and (a[k] == b[k] or (a[k] is not None and b[k] is not None
           and math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-9))))
print(f"values of complete periods equal to `yardstick eval`: {same} of {len(b)} (served {len(a)})")
sys.exit(0 if same == len(b) == len(a) else 1)
PY
