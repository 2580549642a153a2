#!/usr/bin/env bash
# The benchmark KPI set on a Ballista cluster on this machine (a scheduler
# and two executors, `yardstick cluster`, loopback) next to the same
# evaluation in one process; the cluster's values compared with DuckDB's
# (../shared/bench/expected/<size>) and with the local run's.
#
#   scripts/bench_ballista.sh BIN DATA [runs]
#
# DATA is a folder written by ../shared/bench/gen_data.py. Prints each
# run's wall time and the medians.
set -euo pipefail
bin=$(realpath "$1"); data=$(realpath "$2"); runs=${3:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
kit="$here/../shared/bench"
work=$(mktemp -d /tmp/bench-ballista.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/p"
cp "$kit/yardstick.toml" "$work/p/"
ln -s "$data" "$work/p/data"
as_of=2025-01-01T00:00:00Z

"$bin" cluster scheduler --addr 127.0.0.1:50250 2> "$work/scheduler.log" & pids+=($!)
for i in 1 2; do
  mkdir -p "$work/executor-$i"
  "$bin" cluster executor --scheduler 127.0.0.1:50250 --addr "127.0.0.1:5025$((i * 2))" \
    --work-dir "$work/executor-$i" 2> "$work/executor-$i.log" & pids+=($!)
done
for port in 50250 50252 50254; do
  for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done

time_of() { # name, args...
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" eval "$work/p" --format json --as-of "$as_of" "$@" > "$work/$name.json"
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.2f}')"
}
for r in $(seq 1 "$runs"); do
  l=$(time_of local --engine local)
  c=$(time_of cluster --engine ballista://127.0.0.1:50250)
  echo "run $r: local ${l} s, cluster ${c} s"
  echo "local $l" >> "$work/times"; echo "cluster $c" >> "$work/times"
done
for e in local cluster; do
  grep "^$e " "$work/times" | awk '{print $2}' | sort -n | awk -v e="$e" '{w[NR]=$1} END {m=int((NR+1)/2); printf "median %-8s %6.2f s\n", e, w[m]}'
done
echo "stage files written by the executors: $(find "$work"/executor-* -type f | wc -l)"
size=$(python3 -c "import json; n=json.load(open('$data/meta.json'))['rows']; print({100000:'100k',1000000:'1m',20000000:'20m'}.get(n,''))")
if [ -n "$size" ]; then
  echo -n "cluster vs DuckDB: "; python3 "$here/scripts/compare_bench.py" "$work/cluster.json" "$kit/expected/$size" | tail -1
fi
python3 - "$work/cluster.json" "$work/local.json" <<'PY'
import json, math, sys
a = json.load(open(sys.argv[1]))["evaluations"]; b = json.load(open(sys.argv[2]))["evaluations"]
key = lambda r: (r["kpi"], r["period"], json.dumps(r.get("entity"), sort_keys=True))
x = {key(r): r["value"] for r in a}; y = {key(r): r["value"] for r in b}
same = sum(1 for k in y if k in x and (x[k] == y[k] or (x[k] is not None and y[k] is not None and math.isclose(x[k], y[k], rel_tol=1e-9, abs_tol=1e-12))))
print(f"cluster vs local: {same} of {len(y)} rows equal ({len(x)} from the cluster)")
PY
