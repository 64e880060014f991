package afr

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/index"
)

// counter counts the calls that reach one brick, by kind.
type counter struct {
	fop.Base
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) note(kind string) {
	c.mu.Lock()
	c.n[kind]++
	c.mu.Unlock()
}

func (c *counter) get(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[kind]
}

func (c *counter) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	c.note("lookup")
	return c.Next.Lookup(ctx, loc, xreq)
}

func (c *counter) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	c.note("create")
	return c.Next.Create(ctx, loc, flags, mode, umask, fd, xdata)
}

func (c *counter) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	c.note("write")
	return c.Next.Write(ctx, fd, data, off)
}

func (c *counter) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, x fop.Dict) (fop.Dict, error) {
	c.note("xattrop")
	return c.Next.Xattrop(ctx, loc, op, x)
}

func (c *counter) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	if lock.Type == syscall.F_UNLCK {
		c.note("inodelk-unlock")
	} else {
		c.note("inodelk")
	}
	return c.Next.Inodelk(ctx, domain, loc, cmd, lock)
}

func (c *counter) Entrylk(ctx context.Context, domain string, loc *fop.Loc, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	if cmd == fop.EntryUnlock {
		c.note("entrylk-unlock")
	} else {
		c.note("entrylk")
	}
	return c.Next.Entrylk(ctx, domain, loc, name, cmd, typ)
}

func (c *counter) Release(ctx context.Context, fd *fop.FD) error {
	c.note("release")
	return c.Next.Release(ctx, fd)
}

// XattropRelease stands for protocol/client's single request.
func (c *counter) XattropRelease(ctx context.Context, fd *fop.FD, op fop.XattropOp, x fop.Dict) error {
	c.note("xattrop-release")
	_, err := c.Next.Xattrop(ctx, &fop.Loc{GFID: fd.GFID}, op, x)
	if rerr := c.Next.Release(ctx, fd); err == nil {
		err = rerr
	}
	return err
}

// countedSet is newSet with a counter above each brick.
func countedSet(t *testing.T, opts map[string]string) (*AFR, []*counter, []string) {
	r, dirs := newSet(t, 2, opts)
	var cs []*counter
	for i, c := range r.children {
		cn := &counter{Base: fop.Base{Next: c}, n: map[string]int{}}
		r.children[i] = cn
		r.Notify(cn, fop.ChildUp)
		cs = append(cs, cn)
	}
	return r, cs, dirs
}

// smallFiles creates n files in the root, writing 4 KiB to each, as the
// small-file benchmark does, and closes them.
func smallFiles(t *testing.T, r *AFR, n int) {
	t.Helper()
	buf := make([]byte, 4096)
	for i := 0; i < n; i++ {
		g := fop.NewGFID()
		fd := fop.NewFD(g, syscall.O_RDWR)
		loc := &fop.Loc{Parent: fop.RootGFID, Name: fmt.Sprintf("f%03d", i), GFID: g}
		if _, _, err := r.Create(bg, loc, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o644, 0, fd, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Write(bg, fd, buf, 0); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(bg, fd); err != nil {
			t.Fatal(err)
		}
		r.Release(bg, fd)
	}
}

// With eager locking a create, its write and close cost each brick one
// create (which also takes the file's inodelk), one write and one
// release that also runs the post-op and drops the lock; the directory's entry lock and dirty mark are
// taken once for all the creates, in one xattrop. Without, each write's
// transaction still takes its lock with its pre-op and drops it with its
// post-op.
func TestSmallFileRoundTrips(t *testing.T) {
	const n = 20
	for _, tc := range []struct {
		delay string
		want  map[string]int // per brick, for n files
	}{
		{"0", map[string]int{"create": n, "write": n, "entrylk": n, "entrylk-unlock": n, "inodelk": 0, "inodelk-unlock": 0, "xattrop": 2 * n, "release": n, "xattrop-release": 0}},
		{"600", map[string]int{"create": n, "write": n, "entrylk": 0, "entrylk-unlock": 0, "inodelk": 0, "inodelk-unlock": 0, "xattrop": 1, "release": 0, "xattrop-release": n}},
	} {
		t.Run("post-op-delay="+tc.delay, func(t *testing.T) {
			r, cs, _ := countedSet(t, map[string]string{"post-op-delay-secs": tc.delay})
			smallFiles(t, r, n)
			for i, c := range cs {
				for kind, want := range tc.want {
					if got := c.get(kind); got != want {
						t.Errorf("brick %d: %d %s calls for %d files, want %d", i, got, kind, n, want)
					}
				}
				t.Logf("brick %d: %v", i, c.n)
			}
			if tc.delay == "0" {
				return
			}
			// Ending the directory's transaction clears its dirty mark.
			r.endEntryTxn(fop.RootGFID)
			for i, c := range cs {
				if got := c.get("xattrop"); got != 2 {
					t.Errorf("brick %d: %d xattrops after the directory's post-op, want 2", i, got)
				}
			}
			// ... and its lock: another owner can take it.
			ictx := internalCtx(bg, newOwner())
			for i, c := range cs {
				if err := c.Entrylk(ictx, r.dataDomain(), root(), "", fop.EntryLockNB, fop.EntryWrLck); err != nil {
					t.Errorf("brick %d: directory still locked after the post-op: %v", i, err)
				}
			}
		})
	}
}

// A client killed in the middle of small-file creates (its locks dropped
// by the bricks, no post-op) leaves the directory and the file it was
// writing marked dirty and in the bricks' indices; another client's heal
// then makes the replicas agree and clears the marks.
func TestKilledClientLeavesMarksForHeal(t *testing.T) {
	r, dirs := newSet(t, 2, map[string]string{"post-op-delay-secs": "600"})
	smallFiles(t, r, 3)
	g, fd := createFile(t, r, "cut")
	// The write reaches brick 0 only: the client dies before brick 1
	// gets it and before any post-op.
	one := []bool{true, false}
	r.each(one, func(i int, c fop.Layer) error {
		_, _, err := c.Write(bg, fd, []byte("only on brick 0"), 0)
		return err
	})
	for _, c := range r.children {
		c.(fop.ClientForgetter).ForgetClient("")
	}
	for i, d := range dirs {
		if c := pending(t, d, "cut", DirtyKey); c[dataTxn] != 1 {
			t.Fatalf("brick %d: dirty of the file = %v, want data 1", i, c)
		}
		if c := pending(t, d, ".", DirtyKey); c[entryTxn] != 1 {
			t.Fatalf("brick %d: dirty of the directory = %v, want entry 1", i, c)
		}
		listed, err := index.Pending(index.Base(d))
		if err != nil {
			t.Fatal(err)
		}
		if !contains(listed, g) || !contains(listed, fop.RootGFID) {
			t.Fatalf("brick %d: index lists %v, want the file %s and the root", i, listed, g)
		}
	}

	l, err := New(&graph.Args{Name: "test-replicate-0", Children: r.children, ChildNames: []string{"test-client-0", "test-client-1"}})
	if err != nil {
		t.Fatal(err)
	}
	other := l.(*AFR)
	for _, h := range []fop.GFID{fop.RootGFID, g} {
		if err := other.Heal(bg, h); err != nil {
			t.Fatalf("heal %s: %v", h, err)
		}
	}
	for i, d := range dirs {
		if got := string(brickFile(t, d, "cut")); got != "only on brick 0" {
			t.Errorf("brick %d holds %q after heal", i, got)
		}
		for _, name := range []string{"cut", "."} {
			if c := pending(t, d, name, DirtyKey); c != (counters{}) {
				t.Errorf("brick %d: dirty of %s = %v after heal", i, name, c)
			}
		}
		if ents, _ := os.ReadDir(filepath.Join(index.Base(d), index.DirtyDir)); len(ents) > 1 {
			t.Errorf("brick %d: dirty index still lists %d entries", i, len(ents)-1)
		}
	}
}

func contains(gs []fop.GFID, g fop.GFID) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

// Two clients creating in one directory at once: the one that does not
// hold the directory's eager transaction waits for it (at most
// post-op-delay) and both get all their files onto every replica.
func TestTwoClientsCreateInOneDirectory(t *testing.T) {
	a, dirs := newSet(t, 2, map[string]string{"post-op-delay-secs": "1"})
	l, err := New(&graph.Args{Name: "test-replicate-0", Children: a.children, ChildNames: []string{"test-client-0", "test-client-1"},
		Options: map[string]string{"post-op-delay-secs": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	b := l.(*AFR)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w, r := range []*AFR{a, a, b, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				g := fop.NewGFID()
				fd := fop.NewFD(g, syscall.O_RDWR)
				loc := &fop.Loc{Parent: fop.RootGFID, Name: fmt.Sprintf("w%d-%d", w, i), GFID: g}
				if _, _, err := r.Create(bg, loc, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o644, 0, fd, nil); err != nil {
					errs <- err
					return
				}
				if _, _, err := r.Write(bg, fd, []byte(loc.Name), 0); err != nil {
					errs <- err
				}
				r.Flush(bg, fd)
				r.Release(bg, fd)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	a.endEntryTxn(fop.RootGFID)
	b.endEntryTxn(fop.RootGFID)
	for i, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(ents) - 1; n != 40 { // and .glusterfs
			t.Errorf("brick %d holds %d files, want 40", i, n)
		}
		if c := pending(t, d, ".", DirtyKey); c != (counters{}) {
			t.Errorf("brick %d: directory dirty = %v after both transactions", i, c)
		}
		if got := string(brickFile(t, d, "w3-9")); got != "w3-9" {
			t.Errorf("brick %d: w3-9 holds %q", i, got)
		}
	}
}

// A metadata change takes its lock with its pre-op and drops it with its
// post-op: two xattrops per brick around the change, no inodelk.
func TestMetadataChangeRoundTrips(t *testing.T) {
	r, cs, dirs := countedSet(t, nil)
	g, fd := createFile(t, r, "m")
	r.Release(bg, fd)
	before := []int{cs[0].get("xattrop"), cs[1].get("xattrop")}
	if _, err := r.Setattr(bg, &fop.Loc{GFID: g}, &fop.SetAttr{Valid: fop.SetMode, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		if got := c.get("xattrop") - before[i]; got != 2 {
			t.Errorf("brick %d: %d xattrops for a setattr, want 2", i, got)
		}
		if got := c.get("inodelk") + c.get("inodelk-unlock"); got != 0 {
			t.Errorf("brick %d: %d inodelk calls for a setattr, want 0", i, got)
		}
		st, err := os.Stat(filepath.Join(dirs[i], "m"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("brick %d: mode %v (%v), want 0600", i, st.Mode(), err)
		}
		if c := pending(t, dirs[i], "m", DirtyKey); c != (counters{}) {
			t.Errorf("brick %d: dirty %v after the setattr", i, c)
		}
	}
	// The lock is gone: another owner gets it at once.
	ictx := internalCtx(bg, newOwner())
	for i, c := range cs {
		if err := c.Inodelk(ictx, r.metaDomain(), &fop.Loc{GFID: g}, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK}); err != nil {
			t.Errorf("brick %d: metadata lock still held: %v", i, err)
		}
	}
}

// A create whose new GFID someone else has already locked on one brick
// (they found the name on the other replica first) still creates the
// file everywhere, marked dirty; its transaction is not held, so the
// first write locks as usual, waiting for the other owner, and the lock
// the create took on the other brick is let go.
func TestFreshCreateOfALockedGFID(t *testing.T) {
	r, dirs := newSet(t, 2, map[string]string{"post-op-delay-secs": "600"})
	g := fop.NewGFID()
	other := internalCtx(bg, newOwner())
	target := &fop.Loc{GFID: g}
	if err := r.children[1].Inodelk(other, r.dataDomain(), target, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK}); err != nil {
		t.Fatal(err)
	}
	fd := fop.NewFD(g, syscall.O_RDWR)
	if _, _, err := r.Create(bg, &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: g}, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	if r.holding(g) {
		t.Fatal("the create holds the transaction of a file another owner locked")
	}
	for i, d := range dirs {
		if c := pending(t, d, "f", DirtyKey); c[dataTxn] != 1 {
			t.Errorf("brick %d: dirty %v after the create, want data 1", i, c)
		}
	}
	// Brick 0's lock from the create goes (in the background).
	for r.children[0].Inodelk(other, r.dataDomain(), target, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK}) != nil {
		runtime.Gosched()
	}
	r.children[0].Inodelk(other, r.dataDomain(), target, fop.SetLk, &fop.Flock{Type: syscall.F_UNLCK})
	wrote := make(chan error, 1)
	go func() { wrote <- write(t, r, fd, "data", 0) }()
	select {
	case err := <-wrote:
		t.Fatalf("write while another owner holds the lock returned %v", err)
	default:
	}
	r.children[1].Inodelk(other, r.dataDomain(), target, fop.SetLk, &fop.Flock{Type: syscall.F_UNLCK})
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	r.Flush(bg, fd)
	r.Release(bg, fd)
	for i, d := range dirs {
		if got := string(brickFile(t, d, "f")); got != "data" {
			t.Errorf("brick %d holds %q", i, got)
		}
	}
}

// Closing a file whose transaction this client holds leaves the post-op
// to the release, which carries it: until then the file stays dirty and
// locked; after it, it is clean, out of the dirty index and unlocked. A
// release that does not come leaves the post-op to post-op-delay. A
// replica that missed a write is accused by the release.
func TestReleaseCarriesThePostOp(t *testing.T) {
	r, cs, dirs := countedSet(t, map[string]string{"post-op-delay-secs": "600"})
	lockFree := func(i int, g fop.GFID) bool {
		ictx := internalCtx(bg, newOwner())
		target := &fop.Loc{GFID: g}
		if r.children[i].Inodelk(ictx, r.dataDomain(), target, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK}) != nil {
			return false
		}
		r.children[i].Inodelk(ictx, r.dataDomain(), target, fop.SetLk, &fop.Flock{Type: syscall.F_UNLCK})
		return true
	}
	g, fd := createFile(t, r, "f")
	if err := write(t, r, fd, "data", 0); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(bg, fd); err != nil {
		t.Fatal(err)
	}
	for i, d := range dirs {
		if c := pending(t, d, "f", DirtyKey); c[dataTxn] != 1 {
			t.Errorf("brick %d: dirty %v after the flush, want data 1", i, c)
		}
		if lockFree(i, g) {
			t.Errorf("brick %d: the file is unlocked before its release", i)
		}
	}
	r.Release(bg, fd)
	for i, d := range dirs {
		if c := pending(t, d, "f", DirtyKey); c != (counters{}) {
			t.Errorf("brick %d: dirty %v after the release", i, c)
		}
		if p, _ := index.Pending(index.Base(d)); contains(p, g) {
			t.Errorf("brick %d: index still lists the file", i)
		}
		if !lockFree(i, g) {
			t.Errorf("brick %d: the file is still locked after its release", i)
		}
		if got := cs[i].get("xattrop-release"); got != 1 {
			t.Errorf("brick %d: %d xattrop-releases, want 1", i, got)
		}
	}

	// No release: post-op-delay ends the transaction.
	if err := r.Reconfigure(map[string]string{"post-op-delay-secs": "1"}); err != nil {
		t.Fatal(err)
	}
	g, fd = createFile(t, r, "h")
	write(t, r, fd, "data", 0)
	r.Flush(bg, fd)
	for r.holding(g) {
		time.Sleep(10 * time.Millisecond)
	}
	for i, d := range dirs {
		if c := pending(t, d, "h", DirtyKey); c != (counters{}) {
			t.Errorf("brick %d: dirty %v after post-op-delay", i, c)
		}
	}
	r.Release(bg, fd)

	// A write that misses replica 1: the release accuses it.
	g, fd = createFile(t, r, "g")
	r.endHeld(g, false) // so that the write takes the transaction anew
	down(r, 1)
	if err := write(t, r, fd, "only 0", 0); err != nil {
		t.Fatal(err)
	}
	r.Flush(bg, fd)
	r.Release(bg, fd)
	if c := pending(t, dirs[0], "g", r.keys[1]); c[dataTxn] != 1 {
		t.Errorf("replica 0 accuses replica 1 of %v, want data 1", c)
	}
	if p, _ := index.Pending(index.Base(dirs[0])); !contains(p, g) {
		t.Errorf("index of replica 0 = %v, want %s in it", p, g)
	}
}
