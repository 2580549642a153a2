#!/usr/bin/env bash
# Times `yardstick review` on the benchmark kit's project (../shared/bench):
#   scripts/bench_review.sh target/release/yardstick /tmp/bench20m/data [runs] [formats]
# DATA holds the kit's generated files (gen_data.py --rows 20000000). The
# kit's KPI set (../shared/bench/yardstick.toml) is reviewed for 2024-Q4 as
# of 2025-01-01 in each format (default: pdf xlsx html json); each run
# prints its wall time and peak memory (GNU time), then the median.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin=$(realpath "$1")
data=$(realpath "$2")
runs=${3:-3}
formats=${4:-"pdf xlsx html json"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$data" "$work/data"
cp "$here/../../shared/bench/yardstick.toml" "$work/yardstick.toml"
for f in $formats; do
  times=()
  for _ in $(seq 1 "$runs"); do
    t=$( { /usr/bin/time -f "%e %M" "$bin" review -C "$work" --period 2024-Q4 \
            --as-of 2025-01-01T00:00:00Z --format "$f" -o "$work/review.$f" >/dev/null; } 2>&1 | tail -1)
    echo "review $f: ${t% *} s, peak ${t#* } KB"
    times+=("${t% *}")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "review $f: median ${median} s over $runs runs"
done
