#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and prints its URL.
# Installs Debian's postgresql when no server binaries are present.
#
#   export YARDSTICK_TEST_POSTGRES=$(scripts/start_postgres.sh)
set -euo pipefail
# A free port unless PGPORT_TEST names one.
port=${PGPORT_TEST:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "== apt-get install postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
# Servers of earlier runs that are no longer running leave their data behind:
# remove those directories (each is a few hundred MB) before making another.
for old in /tmp/yardstick-pg.*; do
  [ -d "$old" ] || continue
  pid=$(head -1 "$old/postmaster.pid" 2>/dev/null || true)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then rm -rf "$old"; fi
done
data=$(mktemp -d /tmp/yardstick-pg.XXXXXX)
run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$data"; fi
run "$bindir/initdb -D $data -A trust -U postgres --no-sync" >/dev/null
run "$bindir/pg_ctl -D $data -l $data/log -w -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200\" start" >/dev/null
echo "postgres://postgres@127.0.0.1:$port/postgres"
