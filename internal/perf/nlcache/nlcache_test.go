package nlcache

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// counter counts the lookups that reach the layer below.
type counter struct {
	fop.Base
	lookups atomic.Int32
}

func (c *counter) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	c.lookups.Add(1)
	return c.Base.Lookup(ctx, loc, xreq)
}

type fixture struct {
	brick fop.Layer // below nl-cache: another client, in effect
	below *counter
	nlc   *NLC
	clock time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	p, err := posix.New(&graph.Args{Name: "p", Options: map[string]string{"directory": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.(interface{ Close() error }).Close() })
	f := &fixture{brick: p, below: &counter{Base: fop.Base{Next: p}}, clock: time.Unix(1000, 0)}
	l, err := New(&graph.Args{Name: "nlc", Children: []fop.Layer{f.below}})
	if err != nil {
		t.Fatal(err)
	}
	f.nlc = l.(*NLC)
	f.nlc.now = func() time.Time { return f.clock }
	return f
}

var ctx = context.Background()

// lookup looks name up in dir through nl-cache and says whether it exists
// and whether the call went below.
func (f *fixture) lookup(t *testing.T, dir fop.GFID, name string) (exists, below bool) {
	t.Helper()
	n := f.below.lookups.Load()
	_, _, err := f.nlc.Lookup(ctx, &fop.Loc{Parent: dir, Name: name}, nil)
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("lookup %s: %v", name, err)
	}
	return err == nil, f.below.lookups.Load() != n
}

// create makes name in dir through l (nl-cache, or the brick directly as
// another client would).
func create(t *testing.T, l fop.Layer, dir fop.GFID, name string) {
	t.Helper()
	loc := &fop.Loc{Parent: dir, Name: name, GFID: fop.NewGFID()}
	fd := fop.NewFD(loc.GFID, syscall.O_RDWR)
	if _, _, err := l.Create(ctx, loc, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	l.Release(ctx, fd)
}

func mkdir(t *testing.T, l fop.Layer, name string) fop.GFID {
	t.Helper()
	loc := &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: fop.NewGFID()}
	if _, _, err := l.Mkdir(ctx, loc, 0o755, 0, nil); err != nil {
		t.Fatalf("mkdir %s: %v", name, err)
	}
	return loc.GFID
}

func TestNegativeEntry(t *testing.T) {
	f := newFixture(t)
	if ok, below := f.lookup(t, fop.RootGFID, "x"); ok || !below {
		t.Fatalf("first lookup: exists %v, went below %v", ok, below)
	}
	if ok, below := f.lookup(t, fop.RootGFID, "x"); ok || below {
		t.Fatalf("second lookup: exists %v, went below %v", ok, below)
	}
	f.clock = f.clock.Add(DefaultTimeout)
	if _, below := f.lookup(t, fop.RootGFID, "x"); !below {
		t.Fatal("a negative entry older than nl-cache-timeout was used")
	}
}

func TestCreateThroughThisClient(t *testing.T) {
	f := newFixture(t)
	f.lookup(t, fop.RootGFID, "x")
	create(t, f.nlc, fop.RootGFID, "x")
	if ok, _ := f.lookup(t, fop.RootGFID, "x"); !ok {
		t.Fatal("a name created through nl-cache is still absent")
	}
}

func TestNewDirectoryIsComplete(t *testing.T) {
	f := newFixture(t)
	d := mkdir(t, f.nlc, "d")
	if ok, below := f.lookup(t, d, "a"); ok || below {
		t.Fatalf("lookup in a new directory: exists %v, went below %v", ok, below)
	}
	create(t, f.nlc, d, "a")
	if ok, _ := f.lookup(t, d, "a"); !ok {
		t.Fatal("created name not found")
	}
	if ok, below := f.lookup(t, d, "b"); ok || below {
		t.Fatalf("lookup of another name: exists %v, went below %v", ok, below)
	}
	long := &fop.Loc{Parent: d, Name: strings.Repeat("n", 256)}
	if _, _, err := f.nlc.Lookup(ctx, long, nil); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Fatalf("lookup of a name too long: %v", err)
	}
	// Removed through this client: known absent.
	if _, err := f.nlc.Unlink(ctx, &fop.Loc{Parent: d, Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if ok, below := f.lookup(t, d, "a"); ok || below {
		t.Fatalf("lookup after unlink: exists %v, went below %v", ok, below)
	}
	// Another client's create is seen once its brick says so.
	create(t, f.brick, d, "c")
	f.nlc.NotifyUpcall(nil, &fop.Upcall{GFID: d, Flags: fop.UpcallEntry, Name: "c"})
	if ok, below := f.lookup(t, d, "c"); !ok || !below {
		t.Fatalf("after an upcall: exists %v, went below %v", ok, below)
	}
}

func TestListingMakesComplete(t *testing.T) {
	f := newFixture(t)
	create(t, f.brick, fop.RootGFID, "a")
	create(t, f.brick, fop.RootGFID, "b")
	fd := fop.NewFD(fop.RootGFID, syscall.O_RDONLY)
	if err := f.nlc.Opendir(ctx, &fop.Loc{GFID: fop.RootGFID}, fd); err != nil {
		t.Fatal(err)
	}
	var off uint64
	for {
		es, err := f.nlc.Readdir(ctx, fd, off, 1, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		off = es[len(es)-1].Off
	}
	f.nlc.Releasedir(ctx, fd)
	if ok, below := f.lookup(t, fop.RootGFID, "zzz"); ok || below {
		t.Fatalf("after a full listing: exists %v, went below %v", ok, below)
	}
	if ok, _ := f.lookup(t, fop.RootGFID, "b"); !ok {
		t.Fatal("listed name not found")
	}
	f.nlc.NotifyUpcall(nil, &fop.Upcall{Flags: fop.UpcallReset})
	if _, below := f.lookup(t, fop.RootGFID, "zzz"); !below {
		t.Fatal("a reset kept the listing")
	}
}

// An answer overtaken by an invalidation or a change is not kept.
func TestOvertakenAnswersAreNotKept(t *testing.T) {
	f := newFixture(t)
	g := fop.RootGFID
	tok := f.nlc.begin(g)
	f.nlc.NotifyUpcall(nil, &fop.Upcall{GFID: g, Flags: fop.UpcallEntry})
	f.nlc.foundAbsent(tok, "x")
	if f.nlc.isAbsent(g, "x") {
		t.Fatal("a lookup overtaken by an upcall was kept")
	}
	tok = f.nlc.begin(g)
	ch := f.nlc.change(g)
	f.nlc.foundAbsent(tok, "x")
	f.nlc.added(ch, "x", nil)
	if f.nlc.isAbsent(g, "x") {
		t.Fatal("a lookup overtaken by a create was kept")
	}
}

func TestBounded(t *testing.T) {
	f := newFixture(t)
	f.nlc.max = 10
	for i := range 50 {
		d := fop.NewGFID()
		tok := f.nlc.begin(d)
		f.nlc.foundAbsent(tok, "n")
		tok = f.nlc.begin(d)
		f.nlc.foundAbsent(tok, string(rune('a'+i%26)))
	}
	f.nlc.mu.Lock()
	defer f.nlc.mu.Unlock()
	n := 0
	for _, e := range f.nlc.dirs {
		n += len(e.Value.(*dir).absent)
	}
	if f.nlc.names > 10 || n != f.nlc.names {
		t.Fatalf("%d names kept (%d counted), bound 10", n, f.nlc.names)
	}
	f.nlc.maxDirs = 5
	f.nlc.mu.Unlock()
	for range 20 {
		f.nlc.begin(fop.NewGFID())
	}
	f.nlc.mu.Lock()
	if len(f.nlc.dirs) > 5 || f.nlc.lru.Len() != len(f.nlc.dirs) {
		t.Fatalf("%d directories kept (%d in the LRU list), bound 5", len(f.nlc.dirs), f.nlc.lru.Len())
	}
}
