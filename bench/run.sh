#!/usr/bin/env bash
# Runs the load benchmark in release mode. BENCH_SECONDS (default 10) and
# BENCH_CONCURRENCY (default 32) tune it. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -p server --example bench
