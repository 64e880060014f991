package afr

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/arbiter"
	"github.com/gluster-go/gluster-go/internal/bricktest"
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/index"
	"github.com/gluster-go/gluster-go/internal/locks"
)

// newSet builds a replica set of n bricks (locks over posix in temp dirs).
func newSet(t *testing.T, n int, opts map[string]string) (*AFR, []string) {
	t.Helper()
	children, names, dirs := bricktest.Bricks(t, n, "test", func(i int, dir string, p fop.Layer) (fop.Layer, error) {
		store := p
		if opts["arbiter-count"] == "1" && i == n-1 {
			var err error
			if store, err = arbiter.New(&graph.Args{Children: []fop.Layer{p}}); err != nil {
				return nil, err
			}
		}
		return index.New(&graph.Args{Children: []fop.Layer{locks.NewLayer(store)}, Options: map[string]string{"index-base": index.Base(dir)}})
	})
	if opts == nil {
		opts = map[string]string{}
	}
	if _, ok := opts["post-op-delay-secs"]; !ok {
		opts["post-op-delay-secs"] = "0"
	}
	l, err := New(&graph.Args{Name: "test-replicate-0", Children: children, ChildNames: names, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	r := l.(*AFR)
	for _, c := range children {
		r.Notify(c, fop.ChildUp)
	}
	return r, dirs
}

var bg = context.Background()

func root() *fop.Loc { return &fop.Loc{GFID: fop.RootGFID, Path: "/"} }

func createFile(t *testing.T, r *AFR, name string) (fop.GFID, *fop.FD) {
	t.Helper()
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR)
	if _, _, err := r.Create(bg, &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: g}, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return g, fd
}

func write(t *testing.T, r *AFR, fd *fop.FD, data string, off int64) error {
	t.Helper()
	_, _, err := r.Write(bg, fd, []byte(data), off)
	return err
}

func open(t *testing.T, r *AFR, g fop.GFID) *fop.FD {
	t.Helper()
	fd := fop.NewFD(g, syscall.O_RDWR)
	if err := r.Open(bg, &fop.Loc{GFID: g}, syscall.O_RDWR, fd); err != nil {
		t.Fatalf("open: %v", err)
	}
	return fd
}

func down(r *AFR, i int) { r.Notify(r.children[i], fop.ChildDown) }
func up(r *AFR, i int)   { r.Notify(r.children[i], fop.ChildUp) }

func brickFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("brick %s: %v", dir, err)
	}
	return b
}

// waitHealed waits for background heals to finish.
func waitHealed(t *testing.T, r *AFR) {
	t.Helper()
	for i := 0; i < 500; i++ {
		busy := false
		r.healing.Range(func(_, _ any) bool { busy = true; return false })
		if !busy {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("heal did not finish")
}

func pending(t *testing.T, dir, name, key string) counters {
	t.Helper()
	buf := make([]byte, 12)
	n, err := syscall.Getxattr(filepath.Join(dir, name), key, buf)
	if err != nil {
		return counters{}
	}
	return decodeCounters(buf[:n])
}

func TestWritesReachEveryReplica(t *testing.T) {
	r, dirs := newSet(t, 2, nil)
	_, fd := createFile(t, r, "f")
	if err := write(t, r, fd, "hello world", 0); err != nil {
		t.Fatal(err)
	}
	r.Flush(bg, fd)
	r.Release(bg, fd)
	for _, d := range dirs {
		if got := string(brickFile(t, d, "f")); got != "hello world" {
			t.Fatalf("brick %s holds %q", d, got)
		}
		for _, k := range append([]string{DirtyKey}, r.keys...) {
			if c := pending(t, d, "f", k); c != (counters{}) {
				t.Fatalf("%s on %s = %v after a clean write", k, d, c)
			}
		}
	}
}

func TestDownReplicaIsAccusedAndHealed(t *testing.T) {
	r, dirs := newSet(t, 2, nil)
	g, fd := createFile(t, r, "f")
	write(t, r, fd, "0123456789", 0)
	// End the eager transaction, which would otherwise still count the
	// replica (a fake "down": its brick would answer).
	r.Flush(bg, fd)
	down(r, 1)
	if err := write(t, r, fd, "ABCDE", 3); err != nil {
		t.Fatalf("write with one replica down: %v", err)
	}
	write(t, r, fd, "-tail", 10)
	r.Flush(bg, fd)
	r.Release(bg, fd)
	if c := pending(t, dirs[0], "f", r.keys[1]); c[dataTxn] == 0 {
		t.Fatalf("replica 0 does not accuse replica 1: %v", c)
	}
	if p, _ := index.Pending(index.Base(dirs[0])); len(p) != 1 || p[0] != g {
		t.Fatalf("index of replica 0 = %v, want [%s]", p, g)
	}
	up(r, 1)
	if _, _, err := r.Lookup(bg, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil); err != nil {
		t.Fatal(err)
	}
	waitHealed(t, r)
	a, b := brickFile(t, dirs[0], "f"), brickFile(t, dirs[1], "f")
	if !bytes.Equal(a, b) || string(a) != "012ABCDE89-tail" {
		t.Fatalf("after heal: %q vs %q", a, b)
	}
	if c := pending(t, dirs[0], "f", r.keys[1]); c != (counters{}) {
		t.Fatalf("changelog not reset: %v", c)
	}
	for _, d := range dirs {
		if p, _ := index.Pending(index.Base(d)); len(p) != 0 {
			t.Fatalf("index of %s still lists %v after heal", d, p)
		}
	}
}

func TestEntriesCreatedWhileDownAreHealed(t *testing.T) {
	for _, delay := range []string{"0", "600"} {
		t.Run("post-op-delay="+delay, func(t *testing.T) { entriesCreatedWhileDownAreHealed(t, delay) })
	}
}

func entriesCreatedWhileDownAreHealed(t *testing.T, delay string) {
	r, dirs := newSet(t, 2, map[string]string{"post-op-delay-secs": delay})
	down(r, 1)
	_, fd := createFile(t, r, "new")
	write(t, r, fd, "made while replica 1 was down", 0)
	r.Release(bg, fd)
	if _, _, err := r.Mkdir(bg, &fop.Loc{Parent: fop.RootGFID, Name: "sub", GFID: fop.NewGFID()}, 0o755, 0, nil); err != nil {
		t.Fatal(err)
	}
	if c := pending(t, dirs[0], ".", r.keys[1]); c[entryTxn] == 0 {
		t.Fatalf("replica 0 does not accuse replica 1 of the entries it missed: %v", c)
	}
	up(r, 1)
	if _, _, err := r.Lookup(bg, root(), nil); err != nil {
		t.Fatal(err)
	}
	waitHealed(t, r)
	if _, _, err := r.Lookup(bg, &fop.Loc{Parent: fop.RootGFID, Name: "new"}, nil); err != nil {
		t.Fatal(err)
	}
	waitHealed(t, r)
	if got := string(brickFile(t, dirs[1], "new")); got != "made while replica 1 was down" {
		t.Fatalf("healed file holds %q", got)
	}
	if st, err := os.Stat(filepath.Join(dirs[1], "sub")); err != nil || !st.IsDir() {
		t.Fatalf("directory not healed: %v", err)
	}
}

func makeSplitBrain(t *testing.T, r *AFR) fop.GFID {
	t.Helper()
	g, fd := createFile(t, r, "sb")
	write(t, r, fd, "same", 0)
	r.Release(bg, fd)
	down(r, 1)
	fd = open(t, r, g)
	write(t, r, fd, "only on replica zero, longer", 0)
	r.Release(bg, fd)
	up(r, 1)
	down(r, 0)
	r.inodes.Delete(g)
	fd = open(t, r, g)
	write(t, r, fd, "only on one", 0)
	r.Release(bg, fd)
	up(r, 0)
	return g
}

func TestSplitBrainReadsFailWithEIO(t *testing.T) {
	r, _ := newSet(t, 2, nil)
	g := makeSplitBrain(t, r)
	if _, _, err := r.Lookup(bg, &fop.Loc{Parent: fop.RootGFID, Name: "sb"}, nil); err != nil {
		t.Fatal(err)
	}
	waitHealed(t, r)
	fd := open(t, r, g)
	defer r.Release(bg, fd)
	if _, err := r.Read(bg, fd, make([]byte, 64), 0); fop.Errno(err) != syscall.EIO {
		t.Fatalf("read of a split-brain file: %v, want EIO", err)
	}
}

func TestFavoriteChildResolvesSplitBrain(t *testing.T) {
	r, dirs := newSet(t, 2, map[string]string{"favorite-child-policy": "size"})
	makeSplitBrain(t, r)
	r.Lookup(bg, &fop.Loc{Parent: fop.RootGFID, Name: "sb"}, nil)
	waitHealed(t, r)
	for _, d := range dirs {
		if got := string(brickFile(t, d, "sb")); got != "only on replica zero, longer" {
			t.Fatalf("brick %s holds %q after favorite-child heal", d, got)
		}
	}
}

func TestQuorumRefusesWritesAndChangesNothing(t *testing.T) {
	r, dirs := newSet(t, 3, nil) // auto quorum for replica 3
	_, fd := createFile(t, r, "q")
	write(t, r, fd, "before", 0)
	r.Flush(bg, fd)
	down(r, 1)
	down(r, 2)
	if err := write(t, r, fd, "AFTER!", 0); fop.Errno(err) != syscall.ENOTCONN {
		t.Fatalf("write without quorum: %v, want ENOTCONN", err)
	}
	if got := string(brickFile(t, dirs[0], "q")); got != "before" {
		t.Fatalf("write without quorum changed the brick: %q", got)
	}
	if _, _, err := r.Mkdir(bg, &fop.Loc{Parent: fop.RootGFID, Name: "d", GFID: fop.NewGFID()}, 0o755, 0, nil); fop.Errno(err) != syscall.ENOTCONN {
		t.Fatalf("mkdir without quorum: %v, want ENOTCONN", err)
	}
	up(r, 1)
	if err := write(t, r, fd, "AFTER!", 0); err != nil {
		t.Fatalf("write with 2 of 3 up: %v", err)
	}
}

func TestEagerLockHoldsAcrossWrites(t *testing.T) {
	r, dirs := newSet(t, 2, map[string]string{"post-op-delay-secs": "1"})
	_, fd := createFile(t, r, "e")
	for i := 0; i < 100; i++ {
		if err := write(t, r, fd, "x", int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The transaction is still open: dirty is set until the flush.
	if c := pending(t, dirs[0], "e", DirtyKey); c[dataTxn] != 1 {
		t.Fatalf("dirty during an eager transaction = %v, want data 1", c)
	}
	r.Flush(bg, fd)
	if c := pending(t, dirs[0], "e", DirtyKey); c != (counters{}) {
		t.Fatalf("dirty after flush = %v", c)
	}
	r.Release(bg, fd)
}

// Two FDs of one client writing one file share the eager transaction
// (before, each waited out the other's post-op delay on every write).
func TestTwoFDsShareTheTransaction(t *testing.T) {
	r, dirs := newSet(t, 2, map[string]string{"post-op-delay-secs": "1"})
	g, fd1 := createFile(t, r, "shared")
	fd2 := open(t, r, g)
	for i := 0; i < 20; i++ {
		fd := fd1
		if i%2 == 1 {
			fd = fd2
		}
		if err := write(t, r, fd, string(rune('a'+i)), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	r.Flush(bg, fd1)
	r.Release(bg, fd1)
	r.Flush(bg, fd2)
	r.Release(bg, fd2)
	for _, d := range dirs {
		if got := string(brickFile(t, d, "shared")); got != "abcdefghijklmnopqrst" {
			t.Fatalf("brick %s holds %q", d, got)
		}
		if c := pending(t, d, "shared", DirtyKey); c != (counters{}) {
			t.Fatalf("dirty left on %s: %v", d, c)
		}
	}
}
