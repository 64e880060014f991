package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	t.Chdir("..") // the repository root, which run() and builds expect
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	work, err := os.MkdirTemp("/var/tmp", "bench-replicate-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	sz := fullSizes()
	if n, err := strconv.Atoi(os.Getenv("BENCH_FILES")); err == nil && n > 0 {
		sz.files = n
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_SEQ_MIB")); err == nil && n > 0 {
		sz.seqMiB = n
	}
	bin := filepath.Join(work, "bin")
	if _, err := run(ctx, 5*time.Minute, "go", "build", "-o", bin+"/", "./bench/smallfile"); err != nil {
		t.Fatal(err)
	}
	ours := filepath.Join(bin, "ours")
	if err := buildOurs(ctx, ours, log); err != nil {
		t.Fatal(err)
	}
	s := &suite{sz: sz, smallfile: filepath.Join(bin, "smallfile"), raw: filepath.Join(work, "raw"), log: log}
	res := map[string]map[string]float64{}
	for _, sys := range []system{
		newGlusterFS(filepath.Join(work, "glusterfs"), loopbackHostname(), log),
		newOursManaged(filepath.Join(work, "ours"), ours, log),
	} {
		raw := filepath.Join(s.raw, sys.name())
		if err := os.MkdirAll(raw, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := sys.start(ctx); err != nil {
			sys.stop(ctx)
			t.Fatalf("%s: start: %v", sys.name(), err)
		}
		vals, err := s.replicated(ctx, sys, raw)
		if serr := sys.stop(ctx); serr != nil {
			t.Errorf("%s: stop: %v", sys.name(), serr)
		}
		if err != nil {
			t.Errorf("%s: %v", sys.name(), err)
		}
		res[sys.name()] = vals
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| replica 2 (%d MiB sequential, %d files, %d threads) | unit | GlusterFS %s | gluster-go | ratio |\n|---|---|---:|---:|---:|\n",
		sz.seqMiB, sz.files, sz.threads, glusterFSVersion(ctx))
	for _, m := range replicaMetrics() {
		g, o := res["glusterfs"][m.key], res["ours"][m.key]
		ratio := "–"
		if g > 0 && o > 0 {
			ratio = fmt.Sprintf("%.2f×", o/g)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", strings.TrimSpace(m.label), m.unit, num(g), num(o), ratio)
	}
	t.Log("\n" + b.String())
}
