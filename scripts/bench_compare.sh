#!/usr/bin/env bash
# Times two yardstick binaries on the benchmark kit's KPI set, in one run,
# alternating (this machine's speed drifts): the engine benchmark's command
# (`eval --format json --as-of 2025-01-01T00:00:00Z`, as scripts/bench.sh runs
# it), for a change that must not be slower. Also checks that both write the
# same bytes, and the new one's values against DuckDB's for this size.
#
#   scripts/bench_compare.sh OLD_BINARY NEW_BINARY DATA_DIR [RUNS]
#
# DATA_DIR holds the kit's generated files (python3 ../shared/bench/gen_data.py
# --rows 20000000 --out DATA_DIR). Build both with --release. Prints one line
# per run and the medians: wall seconds and peak RSS (MiB) from /usr/bin/time -v.
set -euo pipefail
old=$(realpath "$1")
new=$(realpath "$2")
data=$(cd "$3" && pwd)
runs=${4:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
bench="$here/../shared/bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project"
cp "$bench/yardstick.toml" "$work/project/"
ln -s "$data" "$work/project/data"

measure() { # name, binary
  local name=$1 bin=$2
  /usr/bin/time -v "$bin" eval "$work/project" --format json --as-of 2025-01-01T00:00:00Z \
    >"$work/$name.out" 2>"$work/$name.time"
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$work/$name.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$work/$name.time" | awk '{print int($NF/1024)}')
  echo "$name $wall $rss" | tee -a "$work/results"
}

cat "$data"/*.parquet >/dev/null
for _ in $(seq 1 "$runs"); do
  measure old "$old"
  measure new "$new"
done
echo "== medians over $runs runs: binary, wall s, peak RSS MiB"
for e in old new; do
  grep "^$e " "$work/results" | awk '{print $2, $3}' | sort -n | awk -v e="$e" '{w[NR]=$1; r[NR]=$2} END {m=int((NR+1)/2); printf "%-4s %8.2f %8d\n", e, w[m], r[m]}'
done
if cmp -s "$work/old.out" "$work/new.out"; then
  echo "outputs: byte-identical ($(md5sum <"$work/new.out" | cut -c1-12))"
else
  echo "outputs: DIFFER"
fi
size=$(python3 -c "import json; n=json.load(open('$data/meta.json'))['rows']; print({100000:'100k',1000000:'1m',20000000:'20m'}.get(n,''))")
if [ -n "$size" ] && [ -d "$bench/expected/$size" ]; then
  python3 "$here/scripts/compare_bench.py" "$work/new.out" "$bench/expected/$size" | tail -1
fi
