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

// figures runs workload on GlusterFS and on ours, both set up through
// their glusterds, under a fresh directory in parent (a tmpfs /tmp would
// not hold large files: replicate passes /var/tmp), and returns each
// system's figures. BENCH_FILES overrides the file count in sz. The caller has
// checked its BENCH_* switch; figures skips without root.
func figures(t *testing.T, parent, prefix string, sz *sizes, workload func(*suite, context.Context, system, string) (map[string]float64, error)) map[string]map[string]float64 {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	t.Chdir("..") // the repository root, which run() and builds expect
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	work, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	if n, err := strconv.Atoi(os.Getenv("BENCH_FILES")); err == nil && n > 0 {
		sz.files = n
	}
	bin := filepath.Join(work, "bin")
	if _, err := run(ctx, 5*time.Minute, "go", "build", "-o", bin+"/", "./bench/smallfile"); err != nil {
		t.Fatal(err)
	}
	ours := filepath.Join(bin, "ours")
	if err := buildOurs(ctx, ours, log); err != nil {
		t.Fatal(err)
	}
	s := &suite{sz: *sz, smallfile: filepath.Join(bin, "smallfile"), raw: filepath.Join(work, "raw"), log: log,
		inodes: newInodeClock(work)}
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
		vals, err := workload(s, ctx, sys, raw)
		serr := sys.stop(ctx)
		s.inodes.noteFreed()
		if serr != nil {
			t.Errorf("%s: stop: %v", sys.name(), serr)
		}
		if err != nil {
			t.Errorf("%s: %v", sys.name(), err)
		}
		res[sys.name()] = vals
	}
	return res
}

// logFigures logs a results table: what (the first column's heading),
// then per metric GlusterFS's figure, ours and their ratio.
func logFigures(t *testing.T, what string, metrics []metric, res map[string]map[string]float64) {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | unit | GlusterFS %s | gluster-go | ratio |\n|---|---|---:|---:|---:|\n",
		what, glusterFSVersion(context.Background()))
	for _, m := range metrics {
		g, o := res["glusterfs"][m.key], res["ours"][m.key]
		ratio := "–"
		if g > 0 && o > 0 {
			ratio = fmt.Sprintf("%.2f×", o/g)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", strings.TrimSpace(m.label), m.unit, num(g), num(o), ratio)
	}
	t.Log("\n" + b.String())
}
