package main

import (
	"fmt"
	"os"
	"testing"
)

// TestDistributeFigures runs the distribute workloads (distribute.go) on
// GlusterFS and on ours, set up through their glusterds, and prints a
// results table; until the suite runs them itself this is how to get the
// figures:
//
//	BENCH_DISTRIBUTE=1 go test ./bench -run TestDistributeFigures -v -timeout 2h
//
// BENCH_FILES overrides the file count (default: the suite's full size).
func TestDistributeFigures(t *testing.T) {
	if os.Getenv("BENCH_DISTRIBUTE") == "" {
		t.Skip("set BENCH_DISTRIBUTE=1 to run the distribute benchmark")
	}
	sz := fullSizes()
	res := figures(t, "", "bench-distribute-", &sz, (*suite).distributed)
	logFigures(t, fmt.Sprintf("workload (%d files, %d threads)", sz.files, sz.threads), distributeMetrics(), res)
}
