#!/usr/bin/env bash
# Byte-for-byte comparison of two yardstick binaries' outputs, for changes
# that promise "no change of behaviour" (issue 14's refactors).
#
#   scripts/compare_outputs.sh OLD_BINARY NEW_BINARY [SEED_DIR]
#
# Runs every reporting command on the seed example (../shared) and on a
# demo project with pushed rows, and prints one line per command: `same` or
# `DIFFERS` with a diff. Exits 1 when any output differs.
set -uo pipefail
old=$(realpath "$1")
new=$(realpath "$2")
seed=${3:-$(cd "$(dirname "$0")/.." && pwd)/../shared/spec/examples/seed-kpis}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

compare() { # label dir args...
  local label=$1 dir=$2
  shift 2
  (cd "$dir" && "$old" "$@" >"$work/old" 2>&1; echo "rc=$?" >>"$work/old")
  (cd "$dir" && "$new" "$@" >"$work/new" 2>&1; echo "rc=$?" >>"$work/new")
  # `check` judges freshness at the clock's instant: mask it.
  sed -i -E 's/ at [0-9]{4}-[0-9-]+T[0-9:.]+Z/ at NOW/g; s/"age_hours": [0-9.]+/"age_hours": N/' "$work/old" "$work/new"
  if cmp -s "$work/old" "$work/new"; then
    echo "same     $label: $*"
  else
    echo "DIFFERS  $label: $*"
    diff "$work/old" "$work/new" | head -8
    status=1
  fi
}

# Every command's help, with the binary's own name masked.
for cmd in "" check eval explain forecast watch alerts sla payouts score slo partnership serve \
  push token "token create" init demo completions; do
  # shellcheck disable=SC2086
  "$old" $cmd --help 2>&1 | sed -E 's/^Usage: [^ ]+/Usage: yardstick/' >"$work/old"
  # shellcheck disable=SC2086
  "$new" $cmd --help 2>&1 | sed -E 's/^Usage: [^ ]+/Usage: yardstick/' >"$work/new"
  if cmp -s "$work/old" "$work/new"; then
    echo "same     help: $cmd --help"
  else
    echo "DIFFERS  help: $cmd --help"
    diff "$work/old" "$work/new" | head -8
    status=1
  fi
done

seed_at=2026-10-01T12:00:00Z
for cmd in eval sla payouts score slo; do
  for fmt in json text csv; do
    [ "$cmd" = score ] || [ "$cmd" = slo ] && [ "$fmt" = csv ] && continue
    compare seed "$seed" "$cmd" --as-of "$seed_at" --format "$fmt"
  done
done
compare seed "$seed" check --format json
compare seed "$seed" explain uptime 2026-07 --as-of "$seed_at"
compare seed "$seed" explain uptime 2026-07 --as-of "$seed_at" --format json

# The demo project, with the signups `demo` pushes into its store.
(cd "$work" && "$new" demo demo --seed 7 --end 2026-11-24 --no-serve >/dev/null 2>&1)
for cmd in eval sla payouts score slo; do
  compare demo "$work/demo" "$cmd" --as-of 2026-11-24 --format json
done
compare demo "$work/demo" eval --as-of 2026-11-24 --format csv
compare demo "$work/demo" eval --as-of 2026-11-24
compare demo "$work/demo" check
# The served API: the OpenAPI document and every read route, at the seed
# (operation tags masked: since the API was split by resource, each
# operation is tagged with its resource).
serve_get() { # binary port out
  local bin=$1 port=$2 out=$3 dir="$work/serve-$2"
  cp -r "$seed" "$dir"
  local tok
  tok=$(cd "$dir" && "$bin" token create --role admin --format json | sed -E 's/.*"token": *"([^"]+)".*/\1/' | tr -d '\n')
  (cd "$dir" && "$bin" serve --addr "127.0.0.1:$port" >/dev/null 2>&1) &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.2; done
  : >"$out"
  for path in /api/v1/openapi.json /api/v1/kpis /api/v1/kpis/revenue /api/v1/contracts \
    /api/v1/contracts/hosting/clauses /api/v1/scorecards /api/v1/scorecards/company \
    /api/v1/partnerships /api/v1/kpis/nope /api/v1/evaluations?from=yesterday \
    /api/v1/kpis/revenue/breakdown "/api/v1/kpis/revenue/breakdown?by=x&period=month" \
    /api/v1/kpis/revenue/forecast?horizon=0 /api/v1/nope; do
    echo "== $path" >>"$out"
    curl -s -H "Authorization: Bearer $tok" "http://127.0.0.1:$port$path" \
      | sed -E 's/"(evaluated_at|as_of)":"[^"]*"/"\1":"T"/g; s/"tags":\[[^]]*\]/"tags":[]/g' >>"$out"
    echo >>"$out"
  done
  kill $pid
}
serve_get "$old" 18431 "$work/api-old"
serve_get "$new" 18432 "$work/api-new"
if cmp -s "$work/api-old" "$work/api-new"; then
  echo "same     api: openapi.json and the read routes"
else
  echo "DIFFERS  api"
  diff "$work/api-old" "$work/api-new" | head -20
  status=1
fi
exit $status
