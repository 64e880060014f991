package afr

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/index"
)

func TestInspectReportsPendingAndSplitBrain(t *testing.T) {
	r, _ := newSet(t, 2, nil)
	g, fd := createFile(t, r, "f")
	write(t, r, fd, "abc", 0)
	r.Release(bg, fd)
	if st, err := r.Inspect(bg, g); err != nil || st.Pending || len(st.SplitBrain) != 0 {
		t.Fatalf("clean file: %+v, %v", st, err)
	}
	down(r, 1)
	fd = open(t, r, g)
	write(t, r, fd, "abcd", 0)
	r.Release(bg, fd)
	up(r, 1)
	if st, err := r.Inspect(bg, g); err != nil || !st.Pending || len(st.SplitBrain) != 0 {
		t.Fatalf("file missed by replica 1: %+v, %v", st, err)
	}

	sb := makeSplitBrain(t, r)
	st, err := r.Inspect(bg, sb)
	if err != nil || !st.Pending || !slices.Equal(st.SplitBrain, []string{"data"}) {
		t.Fatalf("split-brain file: %+v, %v", st, err)
	}
	if _, err := r.Inspect(bg, fop.NewGFID()); fop.Errno(err) != syscall.ENOENT {
		t.Fatalf("unknown gfid: %v, want ENOENT", err)
	}
}

func TestResolvePolicies(t *testing.T) {
	for _, tc := range []struct {
		policy Policy
		source int
		want   string
	}{
		{BiggerFile, -1, "only on replica zero, longer"},
		{LatestMtime, -1, "only on one"},
		{SourceBrick, 1, "only on one"},
		{SourceBrick, 0, "only on replica zero, longer"},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			r, dirs := newSet(t, 2, nil)
			g := makeSplitBrain(t, r)
			if tc.policy == LatestMtime {
				// Make the mtimes differ for sure (the writes may share a
				// timestamp): replica 1's copy is the newer.
				touch(t, dirs[1], "sb", 2)
			}
			if _, err := r.Resolve(bg, g, tc.policy, tc.source); err != nil {
				t.Fatalf("resolve: %v", err)
			}
			for _, d := range dirs {
				if got := string(brickFile(t, d, "sb")); got != tc.want {
					t.Errorf("brick %s holds %q, want %q", d, got, tc.want)
				}
			}
			if st, err := r.Inspect(bg, g); err != nil || st.Pending {
				t.Errorf("after resolution: %+v, %v", st, err)
			}
			if _, err := r.Resolve(bg, g, tc.policy, tc.source); err != ErrNotSplitBrain {
				t.Errorf("second resolution: %v, want %v", err, ErrNotSplitBrain)
			}
		})
	}
}

func TestResolveNeedsEveryReplica(t *testing.T) {
	r, _ := newSet(t, 2, nil)
	g := makeSplitBrain(t, r)
	down(r, 1)
	if _, err := r.Resolve(bg, g, SourceBrick, 1); err != ErrBrickNotUp {
		t.Fatalf("source down: %v", err)
	}
	if _, err := r.Resolve(bg, g, BiggerFile, -1); err != ErrNotAllUp {
		t.Fatalf("replica down: %v", err)
	}
}

func TestOnChildUpRunsWhenAReplicaReturns(t *testing.T) {
	r, _ := newSet(t, 2, nil)
	got := make(chan int, 4)
	r.OnChildUp(func(i int) { got <- i })
	up(r, 1) // already up: no event
	down(r, 1)
	up(r, 1)
	if i := <-got; i != 1 {
		t.Fatalf("hook saw child %d, want 1", i)
	}
	if len(got) != 0 {
		t.Fatalf("hook ran %d more times", len(got))
	}
	if r.ChildIndex("test-client-1") != 1 || r.ChildIndex("nope") != -1 {
		t.Fatal("ChildIndex")
	}
}

// touch moves the mtime of a brick's copy secs into the future.
func touch(t *testing.T, dir, name string, secs int) {
	t.Helper()
	when := time.Now().Add(time.Duration(secs) * time.Second)
	if err := os.Chtimes(filepath.Join(dir, name), when, when); err != nil {
		t.Fatal(err)
	}
}

func TestHealFullCopiesWhatOnlyOneReplicaHas(t *testing.T) {
	r, dirs := newSet(t, 2, nil)
	// Objects made on replica 0 alone, behind AFR's back: no changelog
	// says replica 1 misses them, as with a brick added empty.
	c := r.children[0]
	d := &fop.Loc{Parent: fop.RootGFID, Name: "d", GFID: fop.NewGFID()}
	if _, _, err := c.Mkdir(bg, d, 0o755, 0, nil); err != nil {
		t.Fatal(err)
	}
	f := &fop.Loc{Parent: d.GFID, Name: "f", GFID: fop.NewGFID()}
	fd := fop.NewFD(f.GFID, syscall.O_RDWR)
	if _, _, err := c.Create(bg, f, syscall.O_RDWR|syscall.O_CREAT, 0o640, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Write(bg, fd, []byte("full heal"), 0); err != nil {
		t.Fatal(err)
	}
	c.Release(bg, fd)

	seen := map[fop.GFID]error{}
	if err := r.HealFull(bg, fop.RootGFID, func(g fop.GFID, err error) { seen[g] = err }); err != nil {
		t.Fatal(err)
	}
	waitHealed(t, r)
	for _, g := range []fop.GFID{fop.RootGFID, d.GFID, f.GFID} {
		if err, ok := seen[g]; !ok || err != nil {
			t.Errorf("object %s: visited %v, err %v", g, ok, err)
		}
	}
	if got := string(brickFile(t, dirs[1], "d/f")); got != "full heal" {
		t.Fatalf("replica 1 holds %q", got)
	}
}

func TestNoBackgroundHealsLeavesItToTheDaemon(t *testing.T) {
	r, dirs := newSet(t, 2, map[string]string{"background-self-heal-count": "0"})
	g, fd := createFile(t, r, "f")
	write(t, r, fd, "one", 0)
	r.Release(bg, fd)
	down(r, 1)
	fd = open(t, r, g)
	write(t, r, fd, "two", 0)
	r.Release(bg, fd)
	up(r, 1)
	if _, _, err := r.Lookup(bg, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil); err != nil {
		t.Fatal(err)
	}
	waitHealed(t, r)
	if got := string(brickFile(t, dirs[1], "f")); got != "one" {
		t.Fatalf("lookup healed with background-self-heal-count 0: %q", got)
	}
	if err := r.Heal(bg, g); err != nil {
		t.Fatal(err)
	}
	if got := string(brickFile(t, dirs[1], "f")); got != "two" {
		t.Fatalf("Heal: %q", got)
	}
}

func TestAccuseMissingHealsANewReplicaThroughTheIndex(t *testing.T) {
	r, dirs := newSet(t, 2, nil)
	c := r.children[0]
	d := &fop.Loc{Parent: fop.RootGFID, Name: "d", GFID: fop.NewGFID()}
	if _, _, err := c.Mkdir(bg, d, 0o750, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.AccuseMissing(bg, fop.RootGFID, []bool{false, true}); err != nil {
		t.Fatal(err)
	}
	if p, _ := index.Pending(index.Base(dirs[0])); len(p) != 1 || p[0] != fop.RootGFID {
		t.Fatalf("index of replica 0: %v", p)
	}
	if err := r.Heal(bg, fop.RootGFID); err != nil {
		t.Fatal(err)
	}
	waitHealed(t, r)
	if st, err := os.Stat(filepath.Join(dirs[1], "d")); err != nil || st.Mode().Perm() != 0o750 {
		t.Fatalf("d on the new replica: %v, %v", st, err)
	}
}

func TestReconfigureIsAllOrNothingAndResetsToDefaults(t *testing.T) {
	r, _ := newSet(t, 3, map[string]string{"quorum-type": "fixed", "quorum-count": "3"})
	if r.quorum([]bool{true, true, false}) {
		t.Fatal("fixed 3 accepted two replicas")
	}
	if err := r.Reconfigure(map[string]string{"quorum-type": "none", "quorum-count": "9"}); err == nil {
		t.Fatal("quorum-count 9 of 3 accepted")
	}
	if r.quorum([]bool{true, true, false}) {
		t.Fatal("a refused reconfigure changed the quorum")
	}
	// A volfile without the option: back to the default (auto for 3).
	if err := r.Reconfigure(map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if !r.quorum([]bool{true, true, false}) || r.quorum([]bool{false, false, true}) {
		t.Fatal("quorum is not back to auto")
	}
}

// A transaction that finds the lock held by another client falls back
// to waiting for it, and both changes land in order on every replica.
func TestContendedLockWaits(t *testing.T) {
	r, dirs := newSet(t, 2, map[string]string{"post-op-delay-secs": "60"})
	other, err := New(&graph.Args{Name: "test-replicate-0", Children: r.children, ChildNames: []string{"test-client-0", "test-client-1"},
		Options: map[string]string{"post-op-delay-secs": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	g, fd := createFile(t, r, "f")
	write(t, r, fd, "abc", 0) // holds the eager lock for a minute
	done := make(chan error, 1)
	go func() {
		_, err := other.Truncate(bg, &fop.Loc{GFID: g}, 1)
		done <- err
	}()
	r.Release(bg, fd) // ends the eager transaction: the truncate goes on
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("truncate still waits for the lock") // hang guard
	}
	for _, d := range dirs {
		if got := string(brickFile(t, d, "f")); got != "a" {
			t.Errorf("brick %s holds %q", d, got)
		}
	}
}
