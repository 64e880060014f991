package afr

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/index"
)

func TestArbiterHoldsNoDataAndIsNeverReadOrASource(t *testing.T) {
	r, dirs := newSet(t, 3, map[string]string{"arbiter-count": "1"})
	g, fd := createFile(t, r, "f")
	write(t, r, fd, "payload", 0)
	r.Release(bg, fd)
	if st, err := os.Stat(filepath.Join(dirs[2], "f")); err != nil || st.Size() != 0 {
		t.Fatalf("arbiter's copy: %v, %v", st, err)
	}
	// Reads and stats never come from the arbiter, whichever replica
	// the GFID hashes to.
	down(r, 0)
	fd = open(t, r, g)
	buf := make([]byte, 16)
	if n, err := r.Read(bg, fd, buf, 0); err != nil || string(buf[:n]) != "payload" {
		t.Fatalf("read with replica 0 down: %q, %v", buf[:n], err)
	}
	if a, err := r.Fstat(bg, fd); err != nil || a.Size != 7 {
		t.Fatalf("fstat: size %d, %v", a.Size, err)
	}
	// Replica 0 misses a change; the data heal copies from replica 1,
	// not from the (empty) arbiter, though both accuse replica 0.
	write(t, r, fd, "PAYLOAD, longer", 0)
	r.Release(bg, fd)
	up(r, 0)
	if err := r.Heal(bg, g); err != nil {
		t.Fatal(err)
	}
	if got := string(brickFile(t, dirs[0], "f")); got != "PAYLOAD, longer" {
		t.Fatalf("replica 0 after heal: %q", got)
	}
	if st, err := r.Inspect(bg, g); err != nil || st.Pending {
		t.Fatalf("after heal: %+v, %v", st, err)
	}

	// With both data replicas down, the arbiter alone has quorum of
	// nothing to write: the write fails and accuses nobody.
	down(r, 0)
	down(r, 1)
	fd2 := fop.NewFD(g, syscall.O_RDWR)
	if err := r.Open(bg, &fop.Loc{GFID: g}, syscall.O_RDWR, fd2); err == nil {
		if _, _, err := r.Write(bg, fd2, []byte("x"), 0); err == nil {
			t.Fatal("a write reached only the arbiter")
		}
		r.Release(bg, fd2)
	}
}

// A heal among the replicas that are up must not forgive one that is
// down: its accusations stay until it is healed itself.
func TestHealKeepsAccusationsOfAReplicaThatIsDown(t *testing.T) {
	r, dirs := newSet(t, 3, map[string]string{"quorum-type": "none"})
	g, fd := createFile(t, r, "f")
	write(t, r, fd, "one", 0)
	r.Release(bg, fd)
	down(r, 0)
	down(r, 2)
	fd = open(t, r, g)
	write(t, r, fd, "two", 0)
	r.Release(bg, fd)
	up(r, 2) // replica 0 stays down
	if err := r.Heal(bg, g); err != nil {
		t.Fatal(err)
	}
	if got := string(brickFile(t, dirs[2], "f")); got != "two" {
		t.Fatalf("replica 2 after heal: %q", got)
	}
	if c := pending(t, dirs[1], "f", r.keys[0]); c[dataTxn] == 0 {
		t.Fatalf("replica 1 forgot that replica 0 misses the write: %v", c)
	}
	up(r, 0)
	if err := r.Heal(bg, g); err != nil {
		t.Fatal(err)
	}
	if got := string(brickFile(t, dirs[0], "f")); got != "two" {
		t.Fatalf("replica 0 after its heal: %q", got)
	}
}

// A heal by another process makes a replica good again; a read that
// finds no replica it knows as good reads the changelog again.
func TestReadRefreshesAfterAHealElsewhere(t *testing.T) {
	r, _ := newSet(t, 2, nil)
	down(r, 0)
	g, fd := createFile(t, r, "f")
	write(t, r, fd, "data", 0)
	r.Release(bg, fd)
	up(r, 0)
	other, err := New(&graph.Args{Name: "test-replicate-0", Children: r.children, ChildNames: []string{"test-client-0", "test-client-1"},
		Options: map[string]string{"post-op-delay-secs": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	o := other.(*AFR)
	if err := o.Heal(bg, fop.RootGFID); err != nil { // creates f on replica 0
		t.Fatal(err)
	}
	waitHealed(t, o)
	if err := o.Heal(bg, g); err != nil {
		t.Fatal(err)
	}
	down(r, 1)
	if a, err := r.Stat(bg, &fop.Loc{GFID: g}); err != nil || a.Size != 4 {
		t.Fatalf("stat after the heal elsewhere: %+v, %v", a, err)
	}
}

// A name on one replica only, with no changelog saying why (a client
// died in an optimistic create), is given to the others at its lookup.
func TestLookupHealsANameLeftOnOneReplica(t *testing.T) {
	r, dirs := newSet(t, 2, nil)
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR)
	if _, _, err := r.children[0].Create(bg, &fop.Loc{Parent: fop.RootGFID, Name: "half", GFID: g}, syscall.O_RDWR|syscall.O_CREAT, 0o600, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	r.children[0].Write(bg, fd, []byte("x"), 0)
	r.children[0].Release(bg, fd)
	if _, _, err := r.Lookup(bg, &fop.Loc{Parent: fop.RootGFID, Name: "half"}, nil); err != nil {
		t.Fatal(err)
	}
	waitHealed(t, r)
	waitHealed(t, r) // the name heal's own background heals
	if st, err := os.Stat(filepath.Join(dirs[1], "half")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("name on replica 1: %v, %v", st, err)
	}
}

// Entry operations with every replica up need no changelog, and one that
// fails on a replica accuses it.
func TestOptimisticEntryTransactions(t *testing.T) {
	r, dirs := newSet(t, 2, nil)
	createFile(t, r, "a")
	if c := pending(t, dirs[0], ".", r.keys[1]); c != (counters{}) {
		t.Fatalf("root changelog after a clean create: %v", c)
	}
	// A name that exists on replica 1 only makes the mkdir fail there.
	if _, _, err := r.children[1].Mkdir(bg, &fop.Loc{Parent: fop.RootGFID, Name: "b", GFID: fop.NewGFID()}, 0o755, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Mkdir(bg, &fop.Loc{Parent: fop.RootGFID, Name: "b"}, 0o755, 0, nil); err != nil {
		t.Fatal(err)
	}
	if c := pending(t, dirs[0], ".", r.keys[1]); c[entryTxn] != 1 {
		t.Fatalf("replica 0 does not accuse replica 1 after its create failed: %v", c)
	}
}

// An index entry whose counters are all zero (left behind) goes at the
// next heal of its object.
func TestHealDropsAStaleIndexEntry(t *testing.T) {
	r, dirs := newSet(t, 2, nil)
	g, fd := createFile(t, r, "f")
	r.Release(bg, fd)
	if _, err := r.children[0].Xattrop(bg, &fop.Loc{GFID: g}, fop.XattropAddArray32, fop.Dict{r.keys[1]: delta(dataTxn, 1)}); err != nil {
		t.Fatal(err)
	}
	// Cleared behind the index's back.
	if err := syscall.Setxattr(filepath.Join(dirs[0], "f"), r.keys[1], make([]byte, 12), 0); err != nil {
		t.Fatal(err)
	}
	if p, _ := index.Pending(index.Base(dirs[0])); len(p) != 1 {
		t.Fatalf("index before: %v", p)
	}
	if err := r.Heal(bg, g); err != nil {
		t.Fatal(err)
	}
	if p, _ := index.Pending(index.Base(dirs[0])); len(p) != 0 {
		t.Fatalf("index after the heal: %v", p)
	}
}

// A lookup that asks for the content (quick-read) gets none of a file in
// split-brain.
func TestLookupGivesNoContentOfASplitBrain(t *testing.T) {
	r, _ := newSet(t, 2, nil)
	makeSplitBrain(t, r)
	xreq := fop.Dict{fop.ContentKey: fop.ContentLimit(1 << 16)}
	_, x, err := r.Lookup(bg, &fop.Loc{Parent: fop.RootGFID, Name: "sb"}, xreq)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := x[fop.ContentKey]; ok {
		t.Fatalf("content of a split-brain file: %q", c)
	}
}

// Entry heal recreates hard links as links and renames as renames.
func TestEntryHealOfLinksAndRenames(t *testing.T) {
	r, dirs := newSet(t, 2, nil)
	old, fd := createFile(t, r, "old")
	r.Release(bg, fd)
	down(r, 1)
	x, fd := createFile(t, r, "x")
	write(t, r, fd, "linked", 0)
	r.Release(bg, fd)
	if _, _, err := r.Link(bg, &fop.Loc{GFID: x}, &fop.Loc{Parent: fop.RootGFID, Name: "y"}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := r.Rename(bg, &fop.Loc{Parent: fop.RootGFID, Name: "old", GFID: old}, &fop.Loc{Parent: fop.RootGFID, Name: "new"}, 0); err != nil {
		t.Fatal(err)
	}
	up(r, 1)
	if err := r.Heal(bg, fop.RootGFID); err != nil {
		t.Fatal(err)
	}
	if err := r.Heal(bg, x); err != nil {
		t.Fatal(err)
	}
	var sx, sy syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dirs[1], "x"), &sx); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(filepath.Join(dirs[1], "y"), &sy); err != nil {
		t.Fatal(err)
	}
	if sx.Ino != sy.Ino {
		t.Error("x and y are not one file on the healed replica")
	}
	if _, err := os.Stat(filepath.Join(dirs[1], "old")); err == nil {
		t.Error("old name still on the healed replica")
	}
	if _, err := os.Stat(filepath.Join(dirs[1], "new")); err != nil {
		t.Errorf("new name: %v", err)
	}
	if got := string(brickFile(t, dirs[1], "y")); got != "linked" {
		t.Errorf("y holds %q", got)
	}
}

// With one data replica up and the arbiter saying it missed data, a
// write is refused: the arbiter cannot be the only good copy.
func TestArbiterVetoesWritesToAStaleDataReplica(t *testing.T) {
	r, dirs := newSet(t, 3, map[string]string{"arbiter-count": "1"})
	g, fd := createFile(t, r, "f")
	write(t, r, fd, "one", 0)
	r.Release(bg, fd)
	down(r, 0)
	fd = open(t, r, g)
	write(t, r, fd, "two", 0) // replicas 1 and 2 accuse 0
	r.Release(bg, fd)
	up(r, 0)
	down(r, 1)
	fd = open(t, r, g)
	if err := write(t, r, fd, "three", 0); fop.Errno(err) != syscall.ENOTCONN {
		t.Fatalf("write to the stale data replica alone: %v, want ENOTCONN", err)
	}
	r.Release(bg, fd)
	if got := string(brickFile(t, dirs[0], "f")); got != "one" {
		t.Fatalf("the stale replica was written: %q", got)
	}
	up(r, 1)
	if err := r.Heal(bg, g); err != nil {
		t.Fatal(err)
	}
	if got := string(brickFile(t, dirs[0], "f")); got != "two" {
		t.Fatalf("after heal: %q", got)
	}
}
