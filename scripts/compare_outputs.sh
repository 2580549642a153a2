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
exit $status
