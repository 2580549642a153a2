#!/usr/bin/env bash
# Times `yardstick why` on the benchmark kit's orders (../shared/bench):
#   scripts/bench_why.sh target/release/yardstick /tmp/bench20m/data [runs]
# DATA holds orders.parquet (gen_data.py --rows 20000000). A project beside
# it declares revenue_by_region_partner (sum of amount per month, split by
# region, partner, product and salesperson); each run is
#   yardstick why revenue_by_region_partner 2024-06 --vs previous \
#     --dimensions region,partner,product,salesperson --depth 3
# and prints its wall time and peak memory (GNU time).
set -euo pipefail
bin=$(realpath "$1")
data=$(realpath "$2")
runs=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$data" "$work/data"
cat > "$work/yardstick.toml" <<'TOML'
[project]
name = "why benchmark"
timezone = "UTC"

[source.orders]
path = "data/orders.parquet"
time = "ordered_at"
owner = "sales-ops"

[kpi.revenue_by_region_partner]
objective = "Grow revenue"
owner = "ceo"
source = "orders"
measure = "sum(amount)"
every = "month"
dimensions = ["region", "partner", "product", "salesperson"]
target = ">= 0"
TOML
args=(why revenue_by_region_partner 2024-06 --vs previous --dimensions region,partner,product,salesperson
      --depth 3 --as-of 2025-01-01T00:00:00Z -C "$work")
"$bin" "${args[@]}" --top 5
for i in $(seq "$runs"); do
  /usr/bin/time -f "run $i: %e s wall, %M KiB peak" "$bin" "${args[@]}" --format json > /dev/null
done
