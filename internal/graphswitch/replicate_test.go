package graphswitch

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/afr"
	"github.com/gluster-go/gluster-go/internal/bricktest"
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// upBrick is an in-process brick as a graph leaf: it reports itself up at
// start, as protocol/client does once connected, and is not closed with
// the graph (the next graph uses it too).
type upBrick struct {
	fop.Layer
	emit func(fop.Event)
}

func (b *upBrick) Start(context.Context) error { b.emit(fop.ChildUp); return nil }

// replicaGraph builds a started graph of cluster/replicate over the first
// n of bricks, as a client volfile names them.
func replicaGraph(t *testing.T, bricks []fop.Layer, names []string, n int) (*graph.Graph, *afr.AFR) {
	t.Helper()
	var vf strings.Builder
	for i := range n {
		fmt.Fprintf(&vf, "volume %s\n type test/brick\n option index %d\nend-volume\n", names[i], i)
	}
	fmt.Fprintf(&vf, "volume v-replicate-0\n type %s\n option post-op-delay-secs 0\n subvolumes %s\nend-volume\n", afr.Type, strings.Join(names[:n], " "))
	f, err := volfile.Parse(strings.NewReader(vf.String()))
	if err != nil {
		t.Fatal(err)
	}
	reg := graph.Registry{
		afr.Type: afr.New,
		"test/brick": func(a *graph.Args) (fop.Layer, error) {
			var i int
			fmt.Sscan(a.Options["index"], &i)
			return &upBrick{Layer: bricks[i], emit: a.Emit}, nil
		},
	}
	g, err := graph.Build(f, reg, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.WaitUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return g, g.Layer("v-replicate-0").(*afr.AFR)
}

// openOnReplicas serves a replicate graph over the first n bricks from a
// Switch and creates file f through it.
func openOnReplicas(t *testing.T, bricks []fop.Layer, names []string, n int) (*Switch, *fop.FD) {
	t.Helper()
	g, _ := replicaGraph(t, bricks, names, n)
	s := New(g, nil)
	t.Cleanup(func() { s.Close() })
	gf := fop.NewGFID()
	fd := fop.NewFD(gf, syscall.O_RDWR)
	if _, _, err := s.Create(context.Background(), &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: gf}, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	return s, fd
}

// TestWritesAfterAddBrickReachTheNewReplica is add-brick replica 3 under
// an open file: the new graph's replica is healed in full, then the
// application keeps writing through the FD it opened before the switch.
// Those writes must reach the new replica (or at least be accounted for
// the next heal): no replica may silently hold older bytes.
func TestWritesAfterAddBrickReachTheNewReplica(t *testing.T) {
	ctx := context.Background()
	bricks, names, dirs := bricktest.Bricks(t, 3, "v", nil)
	s, fd := openOnReplicas(t, bricks, names, 2)
	write := func(data string, off int64) {
		t.Helper()
		if _, _, err := s.Write(ctx, fd, []byte(data), off); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
		if err := s.Flush(ctx, fd); err != nil {
			t.Fatal(err)
		}
	}
	write("written on two replicas; ", 0)

	// add-brick replica 3: the client switches graphs, the new replica
	// is accused on the root and healed in full.
	g2, set := replicaGraph(t, bricks, names, 3)
	s.Swap(g2)
	heal := func() {
		t.Helper()
		if err := set.HealFull(ctx, fop.RootGFID, func(fop.GFID, error) {}); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.AccuseMissing(ctx, fop.RootGFID, []bool{false, false, true}); err != nil {
		t.Fatal(err)
	}
	heal()

	write("then through the same FD", 25)
	if err := s.Release(ctx, fd); err != nil {
		t.Fatal(err)
	}
	heal()
	want := "written on two replicas; then through the same FD"
	for i, d := range dirs {
		got, err := os.ReadFile(filepath.Join(d, "f"))
		if err != nil || !bytes.Equal(got, []byte(want)) {
			t.Errorf("replica %d holds %q, %v; want %q", i, got, err, want)
		}
	}
}

// TestLockedFDStays: an FD that took a POSIX lock stays on its graph (the
// lock lives on that graph's bricks), and keeps working there.
func TestLockedFDStays(t *testing.T) {
	ctx := context.Background()
	bricks, names, _ := bricktest.Bricks(t, 2, "v", nil)
	s, fd := openOnReplicas(t, bricks, names, 2)
	if _, err := s.Lk(ctx, fd, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK, Len: 10}); err != nil {
		t.Fatal(err)
	}
	prev := s.cur
	g2, _ := replicaGraph(t, bricks, names, 2)
	s.Swap(g2)
	if _, _, err := s.Write(ctx, fd, []byte("locked"), 0); err != nil {
		t.Fatal(err)
	}
	if v, _ := fd.Ctx(s); v.(*openFD).g != prev {
		t.Fatal("an FD holding a lock moved to the new graph")
	}
	if err := s.Release(ctx, fd); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev.users != 0 {
		t.Fatalf("previous graph has %d users after the release", prev.users)
	}
}
