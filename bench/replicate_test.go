package main

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// TestReplicateFigures runs the replica 2 workloads (replicate.go) on
// GlusterFS and on ours, set up through their glusterds, and prints a
// results table; until the suite runs them itself this is how to get the
// figures:
//
//	BENCH_REPLICATE=1 go test ./bench -run TestReplicateFigures -v -timeout 2h
//
// BENCH_FILES and BENCH_SEQ_MIB override the file count and the size of
// the sequential file (default: the suite's full sizes).
func TestReplicateFigures(t *testing.T) {
	if os.Getenv("BENCH_REPLICATE") == "" {
		t.Skip("set BENCH_REPLICATE=1 to run the replica 2 benchmark")
	}
	sz := fullSizes()
	if n, err := strconv.Atoi(os.Getenv("BENCH_SEQ_MIB")); err == nil && n > 0 {
		sz.seqMiB = n
	}
	res := figures(t, "/var/tmp", "bench-replicate-", &sz, (*suite).replicated)
	logFigures(t, fmt.Sprintf("replica 2 (%d MiB sequential, %d files, %d threads)", sz.seqMiB, sz.files, sz.threads), replicaMetrics(), res)
}
