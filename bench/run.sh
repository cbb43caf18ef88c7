#!/usr/bin/env bash
# The performance table (issue 12): release build, the real `portcullis` binary as its own
# process, a bare axum handler as another, Debian's `wrk` as the client, raw argon2id on the same
# cores. Not part of the test suite.
#
#   bash bench/run.sh                      # SQLite, then the 1M-user / 10M-session database
#   BENCH_USERS=0 bash bench/run.sh        # skip the seeded database
#   BENCH_SECONDS=5 BENCH_SESSIONS=5000000 bash bench/run.sh
#   BENCH_POSTGRES=1 bash bench/run.sh     # also the rates on PostgreSQL (started here as `nobody`)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"; $SUDO apt-get install -y wrk; }
cargo build --release -p server --bin portcullis --example bench
bench=target/release/examples/bench

echo "=== SQLite"
"$bench"

[ "${BENCH_POSTGRES:-0}" = "1" ] || exit 0
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/portcullis-bench-pg.XXXXXX)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$bin/initdb" -U postgres --auth=trust -E UTF8 -D "$dir/data" >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
trap 'as_pg "$bin/pg_ctl" -D "$dir/data" -w stop -m fast >/dev/null; rm -rf "$dir"' EXIT
as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres bench
echo "=== PostgreSQL"
BENCH_USERS=0 BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:$port/bench" "$bench"
