#!/usr/bin/env bash
# run.sh [--quick] [--only local,glusterfs,ours] [flags]: runs the benchmark
# harness (bench/main.go) from the repository root; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./bench "$@"
