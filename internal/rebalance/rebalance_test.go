package rebalance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/bricktest"
	"github.com/gluster-go/gluster-go/internal/dht"
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

func newVolume(t *testing.T, n int, opts map[string]string) (*dht.DHT, []string) {
	t.Helper()
	children, names, dirs := bricktest.Bricks(t, n, "v", nil)
	l, err := dht.New(&graph.Args{Name: "v-dht", Children: children, ChildNames: names, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return l.(*dht.DHT), dirs
}

// fill makes dirs and files through d and returns path -> content.
func fill(t *testing.T, d *dht.DHT) map[string]string {
	t.Helper()
	ctx := context.Background()
	if _, _, err := d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	parents := map[string]fop.GFID{"": fop.RootGFID}
	for _, sub := range []string{"a", "b"} {
		a, _, err := d.Mkdir(ctx, &fop.Loc{Parent: fop.RootGFID, Name: sub, Path: "/" + sub, GFID: fop.NewGFID()}, 0o755, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		parents[sub] = a.GFID
	}
	for dir, g := range parents {
		for i := 0; i < 40; i++ {
			name := fmt.Sprintf("f%d", i)
			data := fmt.Sprintf("%s/%s %d", dir, name, i*i)
			fg := fop.NewGFID()
			fd := fop.NewFD(fg, syscall.O_RDWR)
			if _, _, err := d.Create(ctx, &fop.Loc{Parent: g, Name: name, GFID: fg}, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.Write(ctx, fd, []byte(data), 0); err != nil {
				t.Fatal(err)
			}
			d.Release(ctx, fd)
			files[filepath.Join("/", dir, name)] = data
		}
	}
	return files
}

// check verifies every file is on exactly one brick, where wantOn allows,
// with its content, and that no brick holds a linkto.
func check(t *testing.T, dirs []string, files map[string]string, wantOn func(brick int) bool) {
	t.Helper()
	for p, data := range files {
		var on []int
		for i, dir := range dirs {
			raw, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				continue
			}
			on = append(on, i)
			if string(raw) != data {
				t.Errorf("%s on brick %d: %q, want %q", p, i, raw, data)
			}
		}
		if len(on) != 1 || !wantOn(on[0]) {
			t.Errorf("%s is on bricks %v", p, on)
		}
	}
}

func TestRebalanceSpreadsOntoNewBrick(t *testing.T) {
	ctx := context.Background()
	// Brick 2 is "new": no part of any layout while the data is written.
	d, dirs := newVolume(t, 3, map[string]string{"decommissioned-bricks": "v-client-2"})
	files := fill(t, d)
	check(t, dirs, files, func(b int) bool { return b != 2 })
	if err := d.Reconfigure(map[string]string{}); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "rebalance.json")
	j := &Job{ID: "r1", DHT: d, Local: []int{0, 1, 2}, Commit: 42, StateFile: state}
	if err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	c := j.Counters()
	if c.Status != Completed || c.Files == 0 || c.Failures != 0 || c.Scanned < int64(len(files)) {
		t.Fatalf("counters %+v", c)
	}
	check(t, dirs, files, func(int) bool { return true })
	used := map[int]bool{}
	for p := range files {
		for i, dir := range dirs {
			if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
				used[i] = true
			}
		}
	}
	if !used[2] {
		t.Fatal("nothing moved to the new brick")
	}
	if got, ok := ReadCounters(state, "r1"); !ok || got.Files != c.Files {
		t.Fatalf("persisted counters %+v, %v", got, ok)
	}
	// A restarted job of the same run finds it finished.
	j2 := &Job{ID: "r1", DHT: d, StateFile: state}
	j2.Load()
	if !j2.Finished() {
		t.Fatal("restarted job does not see the finished run")
	}
	// A new run has nothing left to move.
	j3 := &Job{ID: "r2", DHT: d, Local: []int{0, 1, 2}, Commit: 43}
	if err := j3.Run(ctx); err != nil || j3.Counters().Files != 0 {
		t.Fatalf("second run: %+v, %v", j3.Counters(), err)
	}
}

func TestRemoveBrickEmptiesIt(t *testing.T) {
	ctx := context.Background()
	d, dirs := newVolume(t, 3, map[string]string{})
	files := fill(t, d)
	if err := d.Reconfigure(map[string]string{"decommissioned-bricks": "v-client-0"}); err != nil {
		t.Fatal(err)
	}
	j := &Job{ID: "rm", DHT: d, Local: []int{0}, Commit: 9}
	if err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, dirs, files, func(b int) bool { return b != 0 })
	if c := j.Counters(); c.Files == 0 || c.Failures != 0 {
		t.Fatalf("counters %+v", c)
	}
}

// gate holds Reads until want of them run at once (or a hang guard
// passes), then lets all through, and records the most seen in flight.
type gate struct {
	fop.Layer
	mu          sync.Mutex
	cond        *sync.Cond
	in, most    int
	want        int
	maxDuration time.Duration
}

func (g *gate) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	g.mu.Lock()
	g.in++
	g.most = max(g.most, g.in)
	g.cond.Broadcast()
	deadline := time.AfterFunc(g.maxDuration, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	start := time.Now()
	for g.most < g.want && time.Since(start) < g.maxDuration {
		g.cond.Wait()
	}
	deadline.Stop()
	g.mu.Unlock()
	n, err := g.Layer.Read(ctx, fd, buf, off)
	g.mu.Lock()
	g.in--
	g.mu.Unlock()
	return n, err
}

// TestRemoveBrickMigratesInParallel: Workers files are copied at once
// (cluster.rebal-throttle), and all arrive intact.
func TestRemoveBrickMigratesInParallel(t *testing.T) {
	ctx := context.Background()
	children, names, dirs := bricktest.Bricks(t, 3, "v", nil)
	g := &gate{Layer: children[0], want: 3, maxDuration: 5 * time.Second}
	g.cond = sync.NewCond(&g.mu)
	children[0] = g
	l, err := dht.New(&graph.Args{Name: "v-dht", Children: children, ChildNames: names, Options: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	d := l.(*dht.DHT)
	files := fill(t, d)
	if err := d.Reconfigure(map[string]string{"decommissioned-bricks": "v-client-0"}); err != nil {
		t.Fatal(err)
	}
	j := &Job{ID: "rm", DHT: d, Local: []int{0}, Commit: 9, Workers: g.want}
	if err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, dirs, files, func(b int) bool { return b != 0 })
	if c := j.Counters(); c.Files == 0 || c.Failures != 0 {
		t.Fatalf("counters %+v", c)
	}
	if g.most != g.want {
		t.Fatalf("at most %d files were copied at once, want %d", g.most, g.want)
	}
}

func TestThrottle(t *testing.T) {
	for _, c := range []struct {
		v           string
		cores, want int
	}{{"lazy", 8, 1}, {"normal", 2, 2}, {"normal", 8, 4}, {"aggressive", 2, 4}, {"aggressive", 16, 16}, {"", 2, 2}} {
		if got := Throttle(c.v, c.cores); got != c.want {
			t.Errorf("Throttle(%q, %d) = %d, want %d", c.v, c.cores, got, c.want)
		}
	}
}
