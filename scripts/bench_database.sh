#!/usr/bin/env bash
# The benchmark's order KPIs (k01–k05 of ../shared/bench/yardstick.toml)
# read from PostgreSQL with push-down, next to the same KPIs over the
# Parquet file, and the values compared.
#
#   scripts/bench_database.sh BIN DATA PG_URL [runs]
#
# DATA is a folder written by ../shared/bench/gen_data.py (its
# orders.parquet is loaded into the schema `bench` once); PG_URL a
# postgres:// URL (e.g. from scripts/start_postgres.sh). Prints the median
# wall time of each, the bytes the yardstick process read (from the
# database or the file), and whether every value agrees.
set -euo pipefail
bin=$(realpath "$1"); data=$(realpath "$2"); url=$3; runs=${4:-3}
work=$(mktemp -d /tmp/bench-db.XXXXXX)
trap 'rm -rf "$work"' EXIT

rows=$(python3 -c "import pyarrow.parquet as pq; print(pq.read_metadata('$data/orders.parquet').num_rows)")
loaded=-1
if [ "$(psql -qtAX "$url" -c "SELECT to_regclass('bench.orders') IS NOT NULL")" = t ]; then
  loaded=$(psql -qtAX "$url" -c "SELECT count(*) FROM bench.orders")
fi
if [ "$loaded" != "$rows" ]; then
  echo "== loading $rows orders into PostgreSQL (bench.orders)"
  python3 - "$data/orders.parquet" "$work/orders.csv" <<'EOF'
import sys, duckdb
duckdb.sql(f"COPY (SELECT * FROM read_parquet('{sys.argv[1]}')) TO '{sys.argv[2]}' (HEADER, FORMAT csv)")
EOF
  psql -q "$url" <<EOF
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.orders (order_id bigint, ordered_at timestamptz, customer_id bigint,
  is_first_order boolean, region text, partner text, product text, salesperson text,
  amount double precision, cost double precision);
\copy bench.orders FROM '$work/orders.csv' CSV HEADER
CREATE VIEW bench.orders_by_channel AS SELECT *, coalesce(partner, 'direct') AS channel FROM bench.orders;
ANALYZE bench.orders;
EOF
  rm -f "$work/orders.csv"
fi

kpis=$(cat <<'EOF'
[metric.order_count]
source = "orders"
measure = "count(*)"

[metric.margin]
source = "orders"
measure = "sum(amount - cost)"

[kpi.revenue]
objective = "Grow revenue"
owner = "ceo"
source = "orders"
measure = "sum(amount)"
every = "month"
target = ">= 0"

[kpi.new_clients]
objective = "Win new clients"
owner = "sales"
source = "orders"
measure = "count(DISTINCT customer_id)"
filter = "is_first_order"
every = "month"
target = ">= 15"

[kpi.average_order_value]
objective = "Keep order size up"
owner = "sales"
formula = "revenue / order_count"
every = "month"
target = ">= 100"

[kpi.gross_margin]
objective = "Protect profitability"
owner = "cfo"
ratio = { numerator = "margin", denominator = "revenue" }
every = "month"
target = ">= 40%"

[kpi.revenue_by_channel]
objective = "Grow every region and channel"
owner = "sales"
source = "orders_by_channel"
measure = "sum(amount)"
for_each = ["region", "channel"]
every = "month"
target = ">= 0"
EOF
)
mkdir -p "$work/pg" "$work/files/data"
ln -s "$data/orders.parquet" "$work/files/data/orders.parquet"
cat > "$work/pg/yardstick.toml" <<EOF
[project]
name = "KPI benchmark (PostgreSQL)"
timezone = "UTC"

[connection.pg]
url_env = "BENCH_PG_URL"

[source.orders]
connection = "pg"
table = "bench.orders"
time = "ordered_at"

[source.orders_by_channel]
connection = "pg"
table = "bench.orders_by_channel"
time = "ordered_at"

$kpis
EOF
cat > "$work/files/yardstick.toml" <<EOF
[project]
name = "KPI benchmark (Parquet)"
timezone = "UTC"

[source.orders]
path = "data/orders.parquet"
time = "ordered_at"

[source.orders_by_channel]
sql = "SELECT *, coalesce(partner, 'direct') AS channel FROM orders"
time = "ordered_at"

$kpis
EOF

BENCH_PG_URL=$url python3 - "$bin" "$work" "$runs" "$rows" <<'EOF'
import json, os, statistics, subprocess, sys, time
bin, work, runs, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def loopback():
    """Bytes received on the loopback interface so far (the database's
    answers travel there)."""
    for line in open("/proc/net/dev"):
        name, _, rest = line.partition(":")
        if name.strip() == "lo":
            return int(rest.split()[0])
    return 0

def run(project):
    """Wall time, bytes read (from files: /proc/PID/io rchar; from the
    database: loopback bytes during the run), peak RSS, the evaluation."""
    lo0 = loopback()
    out = open(f"{work}/{project}.json", "w")
    t0 = time.perf_counter()
    p = subprocess.Popen([bin, "eval", ".", "--format", "json", "--as-of", "2025-01-01T00:00:00Z"],
                         cwd=f"{work}/{project}", stdout=out, stderr=subprocess.PIPE)
    rchar, rss = 0, 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/io") as f:
                rchar = max(rchar, int(next(l for l in f if l.startswith("rchar")).split()[1]))
            with open(f"/proc/{p.pid}/status") as f:
                rss = max(rss, int(next(l for l in f if l.startswith("VmHWM")).split()[1]))
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    if project == "pg":
        rchar = loopback() - lo0
    if p.returncode != 0:
        sys.exit(f"{project}: eval failed: {p.stderr.read().decode()}")
    return wall, rchar, rss, json.load(open(f"{work}/{project}.json"))

res = {}
for project in ("pg", "files"):
    walls = []
    for _ in range(runs):
        wall, rchar, rss, ev = run(project)
        walls.append(wall)
    res[project] = (statistics.median(walls), rchar, rss, ev)

def values(ev):
    return {(e["kpi"], e["period"], json.dumps(e["entity"], sort_keys=True)): e["value"] for e in ev["evaluations"]}
a, b = values(res["pg"][3]), values(res["files"][3])
same = sum(1 for k in b if k in a and (a[k] == b[k] or (a[k] is not None and b[k] is not None and abs(a[k] - b[k]) <= 1e-9 * max(1.0, abs(b[k])))))
print(f"orders: {rows:,} rows; values agreeing (within 1e-9 relative): {same} of {len(b)}" + ("" if len(a) == len(b) else f" (PostgreSQL gave {len(a)})"))
for project, label in (("pg", "PostgreSQL, pushed down"), ("files", "Parquet, local")):
    wall, rchar, rss, _ = res[project]
    what = "over loopback" if project == "pg" else "from files"
    print(f"{label:24} median {wall:6.2f} s over {runs} runs; {rchar/1e6:8.2f} MB {what}; peak RSS {rss/1024:6.0f} MB")
if same != len(b) or len(a) != len(b):
    sys.exit(1)
EOF
