#!/usr/bin/env bash
# Times `yardstick eval` on the benchmark kit's KPI set against DuckDB and Polars,
# in one run, alternating engines (this machine's speed drifts), 2 threads, warm cache.
#
#   scripts/bench.sh DATA_DIR [RUNS]
#
# DATA_DIR holds the kit's generated files (python3 ../shared/bench/gen_data.py
# --rows 20000000 --out DATA_DIR). Needs a release build (cargo build --release)
# and `pip install duckdb polars pyarrow numpy`. Prints one line per run and the
# medians: process wall seconds and peak RSS (MiB) from /usr/bin/time -v.
set -euo pipefail
data=$(cd "$1" && pwd)
runs=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
bench="$here/../shared/bench"
bin="$here/target/release/yardstick"
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A project folder: the kit's definitions beside the data.
mkdir -p "$work/project"
cp "$bench/yardstick.toml" "$work/project/"
ln -s "$data" "$work/project/data"

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -v "$@" > "$work/$name.out" 2> "$work/$name.time"
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$work/$name.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$work/$name.time" | awk '{print int($NF/1024)}')
  echo "$name $wall $rss" | tee -a "$work/results"
}

# Warm the page cache.
cat "$data"/*.parquet > /dev/null
for run in $(seq 1 "$runs"); do
  measure yardstick "$bin" eval "$work/project" --format json --as-of 2025-01-01T00:00:00Z
  measure duckdb python3 "$bench/run_duckdb.py" --data "$data" --threads 2
  measure polars python3 "$bench/peer_polars.py" --data "$data" --threads 2
done
echo "== medians over $runs runs: engine, wall s, peak RSS MiB"
for e in yardstick duckdb polars; do
  grep "^$e " "$work/results" | awk '{print $2, $3}' | sort -n | awk -v e="$e" '{w[NR]=$1; r[NR]=$2} END {m=int((NR+1)/2); printf "%-10s %8.2f %8d\n", e, w[m], r[m]}'
done
# Yardstick's values against DuckDB's for this size, when the kit has them.
size=$(python3 -c "import json,sys; n=json.load(open('$data/meta.json'))['rows']; print({100000:'100k',1000000:'1m',20000000:'20m'}.get(n,''))")
if [ -n "$size" ] && [ -d "$bench/expected/$size" ]; then
  python3 "$here/scripts/compare_bench.py" "$work/yardstick.out" "$bench/expected/$size" | tail -1
fi
