#!/usr/bin/env bash
# run.sh [--quick] [--only local,glusterfs,ours] [flags]: runs the benchmark
# harness (bench/main.go) from the repository root; see docs/benchmarks.md.
# run.sh --cluster runs the replicate and distribute workloads (bench/
# replicate.go, bench/distribute.go), ours next to GlusterFS, and prints
# their tables for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --cluster ]; then
	BENCH_REPLICATE=1 BENCH_DISTRIBUTE=1 exec go test -count=1 -timeout 60m -v \
		-run 'TestReplicateFigures|TestDistributeFigures' ./bench
fi
exec go run ./bench "$@"
