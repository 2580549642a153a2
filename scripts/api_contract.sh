#!/usr/bin/env bash
# The API's contract: schemathesis (all checks, stateful phase included)
# against the OpenAPI document of a server serving the demo project, with an
# admin token, as an API integrator would run it.
#
#   scripts/api_contract.sh [path/to/yardstick] [extra schemathesis options]
#
# Needs `pip install schemathesis`. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../target/debug/yardstick}"
shift || true

work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" demo "$work/demo" --no-serve --seed 42 --format json >/dev/null
token="$("$bin" token create -C "$work/demo" --role admin --format json \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve "$work/demo" --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }

cd "$work"
schemathesis --config-file "$here/schemathesis.toml" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  -H "Authorization: Bearer $token" --checks all --phases coverage,fuzzing,stateful \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" --no-color "$@"
