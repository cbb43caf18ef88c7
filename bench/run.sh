#!/usr/bin/env bash
# Runs the load benchmark in release mode on SQLite and on PostgreSQL, with one node and with
# two nodes on one database. BENCH_SECONDS (default 10) and BENCH_CONCURRENCY (default 32)
# tune it; BENCH_ONLY=sqlite or BENCH_ONLY=postgres runs one backend. Not part of the test
# suite. PostgreSQL: Debian's server programs, started here as `nobody` on a free loopback
# port in a temporary folder and removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p server --example bench
bench=target/release/examples/bench

if [ "${BENCH_ONLY:-}" != "postgres" ]; then
  for nodes in 1 2; do
    echo "=== SQLite, $nodes node(s)"
    BENCH_NODES=$nodes "$bench"
  done
fi
[ "${BENCH_ONLY:-}" = "sqlite" ] && exit 0

bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/portcullis-bench-pg.XXXXXX)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$bin/initdb" -U postgres --auth=trust -E UTF8 -D "$dir/data" >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
trap 'as_pg "$bin/pg_ctl" -D "$dir/data" -w stop -m fast >/dev/null; rm -rf "$dir"' EXIT
for nodes in 1 2; do
  db="bench_$nodes"
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
  echo "=== PostgreSQL, $nodes node(s)"
  BENCH_NODES=$nodes BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db" "$bench"
done
