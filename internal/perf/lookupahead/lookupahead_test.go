package lookupahead

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// below counts the lookups and readdirs that reach the layer below, and
// can hold readdirs until released.
type below struct {
	fop.Base
	lookups, readdirs atomic.Int32
	hold              chan chan struct{} // if set, each readdir waits for a release
}

func (b *below) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	b.lookups.Add(1)
	return b.Base.Lookup(ctx, loc, xreq)
}

func (b *below) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	b.readdirs.Add(1)
	es, err := b.Base.Readdir(ctx, fd, off, max, plus, xreq)
	if b.hold != nil {
		release := make(chan struct{})
		b.hold <- release
		<-release
	}
	return es, err
}

type fixture struct {
	brick fop.Layer // below lookup-ahead: another client, in effect
	below *below
	la    *LA
	clock time.Time
	dir   fop.GFID
}

var ctx = context.Background()

// newFixture makes a brick with directory "d" holding n files f0..f(n-1).
func newFixture(t *testing.T, n int) *fixture {
	t.Helper()
	p, err := posix.New(&graph.Args{Name: "p", Options: map[string]string{"directory": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.(interface{ Close() error }).Close() })
	f := &fixture{brick: p, below: &below{Base: fop.Base{Next: p}}, clock: time.Unix(1000, 0)}
	l, err := New(&graph.Args{Name: "la", Children: []fop.Layer{f.below}})
	if err != nil {
		t.Fatal(err)
	}
	f.la = l.(*LA)
	f.la.now = func() time.Time { return f.clock }
	f.dir = fop.NewGFID()
	if _, _, err := p.Mkdir(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "d", GFID: f.dir, Path: "/d"}, 0o755, 0, nil); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		f.create(t, p, fmt.Sprintf("f%d", i))
	}
	return f
}

// create makes name in the fixture's directory through l.
func (f *fixture) create(t *testing.T, l fop.Layer, name string) fop.GFID {
	t.Helper()
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_WRONLY)
	if _, _, err := l.Create(ctx, &fop.Loc{Parent: f.dir, Name: name, GFID: g, Path: "/d/" + name}, syscall.O_WRONLY, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, fd); err != nil {
		t.Fatal(err)
	}
	return g
}

// lookup looks name up through the layer: its attributes, error, and
// whether the call went below.
func (f *fixture) lookup(t *testing.T, name string) (fop.Attr, error, bool) {
	t.Helper()
	n := f.below.lookups.Load()
	a, _, err := f.la.Lookup(ctx, &fop.Loc{Parent: f.dir, Name: name, Path: "/d/" + name}, nil)
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("lookup %s: %v", name, err)
	}
	return a, err, f.below.lookups.Load() != n
}

// warm misses three names and waits for the listing they start.
func (f *fixture) warm(t *testing.T) {
	t.Helper()
	for i := range missTrigger {
		if _, _, went := f.lookup(t, fmt.Sprintf("f%d", i)); !went {
			t.Fatalf("lookup %d answered before any listing", i)
		}
	}
	f.la.fetches.Wait()
}

func TestListingAnswersLookups(t *testing.T) {
	f := newFixture(t, 1200) // three readdir chunks
	f.warm(t)
	if r := f.below.readdirs.Load(); r < 3 {
		t.Fatalf("%d readdirs, want the whole directory listed", r)
	}
	for i := range 1200 {
		name := fmt.Sprintf("f%d", i)
		a, err, went := f.lookup(t, name)
		if went || err != nil {
			t.Fatalf("lookup %s: went below %v, err %v", name, went, err)
		}
		want, _, err := f.brick.Lookup(ctx, &fop.Loc{Parent: f.dir, Name: name}, nil)
		if err != nil || a != want {
			t.Fatalf("lookup %s: %+v, brick says %+v (%v)", name, a, want, err)
		}
	}
	// Names not listed go below (no negative answers here); so do
	// lookups asking for xattrs, and they do not count as misses.
	if _, err, went := f.lookup(t, "nope"); !went || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("absent name: went below %v, err %v", went, err)
	}
	n := f.below.lookups.Load()
	if _, _, err := f.la.Lookup(ctx, &fop.Loc{Parent: f.dir, Name: "f5"}, fop.Dict{"user.x": nil}); err != nil || f.below.lookups.Load() != n+1 {
		t.Fatalf("lookup with xreq: err %v, not below", err)
	}
	// Entries expire after md-cache-timeout.
	f.clock = f.clock.Add(DefaultTimeout)
	if _, _, went := f.lookup(t, "f7"); !went {
		t.Fatal("lookup answered after the timeout")
	}
}

func TestTrigger(t *testing.T) {
	f := newFixture(t, 10)
	// Two misses, then a third after the window: no listing.
	f.lookup(t, "f0")
	f.lookup(t, "f1")
	f.clock = f.clock.Add(missWindow)
	f.lookup(t, "f2")
	f.la.fetches.Wait()
	if r := f.below.readdirs.Load(); r != 0 {
		t.Fatalf("%d readdirs after misses spread over two windows", r)
	}
	f.lookup(t, "f3")
	f.lookup(t, "f4")
	f.la.fetches.Wait()
	if _, _, went := f.lookup(t, "f9"); went {
		t.Fatal("third miss within the window did not list the directory")
	}
	// Directories are not answered here.
	if _, _, err := f.brick.Mkdir(ctx, &fop.Loc{Parent: f.dir, Name: "sub", GFID: fop.NewGFID()}, 0o755, 0, nil); err != nil {
		t.Fatal(err)
	}
	f.clock = f.clock.Add(DefaultTimeout)
	f.warm(t)
	if _, _, went := f.lookup(t, "sub"); !went {
		t.Fatal("directory answered from the listing")
	}
}

func TestBounds(t *testing.T) {
	f := newFixture(t, 100)
	f.la.maxDir = 50
	f.warm(t)
	if _, _, went := f.lookup(t, "f99"); !went {
		t.Fatal("directory over the bound was listed")
	}
	// Not listed again while idle.
	r := f.below.readdirs.Load()
	f.clock = f.clock.Add(DefaultTimeout)
	f.warm(t)
	if f.below.readdirs.Load() != r {
		t.Fatal("directory over the bound listed again at once")
	}

	f = newFixture(t, 100)
	f.la.maxEntries = 60
	f.warm(t)
	f.la.mu.Lock()
	total := f.la.total
	f.la.mu.Unlock()
	if total > 60 {
		t.Fatalf("%d entries kept, bound 60", total)
	}
}

func TestLowHitRateBacksOff(t *testing.T) {
	f := newFixture(t, 100)
	f.warm(t)
	// The listing serves nothing; misses of absent names come again.
	for range 3 {
		f.clock = f.clock.Add(DefaultTimeout)
		for i := range missTrigger {
			f.lookup(t, fmt.Sprintf("absent%d", i))
		}
		f.la.fetches.Wait()
	}
	if r := f.below.readdirs.Load(); r > 4 { // the first listing: 100 entries, then the end
		t.Fatalf("%d readdirs: listings that served nothing repeated", r)
	}
}

func TestChangesDrop(t *testing.T) {
	f := newFixture(t, 10)
	f.warm(t)
	a, _, _ := f.lookup(t, "f5")
	// This client's change of the object.
	if _, err := f.la.Setattr(ctx, &fop.Loc{GFID: a.GFID}, &fop.SetAttr{Valid: fop.SetMode, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if b, _, went := f.lookup(t, "f5"); !went || b.Mode&0o777 != 0o600 {
		t.Fatalf("lookup after setattr: below %v, mode %o", went, b.Mode)
	}
	// This client's removal: the name goes below (and is absent).
	if _, err := f.la.Unlink(ctx, &fop.Loc{Parent: f.dir, Name: "f6"}); err != nil {
		t.Fatal(err)
	}
	if _, err, went := f.lookup(t, "f6"); !went || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("lookup after unlink: below %v, err %v", went, err)
	}
	// Upcalls: an entry of the directory, an object, a reset.
	a7, _, _ := f.lookup(t, "f7")
	f.la.NotifyUpcall(nil, &fop.Upcall{GFID: f.dir, Flags: fop.UpcallEntry, Name: "f8"})
	f.la.NotifyUpcall(nil, &fop.Upcall{GFID: a7.GFID, Flags: fop.UpcallAttr})
	for _, name := range []string{"f7", "f8"} {
		if _, _, went := f.lookup(t, name); !went {
			t.Fatalf("%s answered after its upcall", name)
		}
	}
	if _, _, went := f.lookup(t, "f9"); went {
		t.Fatal("f9 dropped by others' upcalls")
	}
	f.la.NotifyUpcall(nil, &fop.Upcall{Flags: fop.UpcallReset})
	if _, _, went := f.lookup(t, "f9"); !went {
		t.Fatal("f9 answered after a reset")
	}
}

// TestChangeDuringListing: an object or name this client changes while a
// readdir that read it is in flight is not kept from that readdir.
func TestChangeDuringListing(t *testing.T) {
	f := newFixture(t, 10)
	f.below.hold = make(chan chan struct{})
	for i := range missTrigger {
		f.lookup(t, fmt.Sprintf("f%d", i))
	}
	release := <-f.below.hold // the first chunk has read the directory
	a, _, err := f.brick.Lookup(ctx, &fop.Loc{Parent: f.dir, Name: "f5"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.la.Truncate(ctx, &fop.Loc{GFID: a.GFID}, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := f.la.Unlink(ctx, &fop.Loc{Parent: f.dir, Name: "f6"}); err != nil {
		t.Fatal(err)
	}
	close(release)
	close(<-f.below.hold) // the end of the directory
	f.la.fetches.Wait()
	if b, _, went := f.lookup(t, "f5"); !went || b.Size != 100 {
		t.Fatalf("f5 after a truncate during the listing: below %v, size %d", went, b.Size)
	}
	if _, err, went := f.lookup(t, "f6"); !went || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("f6 after an unlink during the listing: below %v, err %v", went, err)
	}
	if _, _, went := f.lookup(t, "f7"); went {
		t.Fatal("f7 not kept from the listing")
	}
}

// TestHardLinkRemoved: removing a name whose object is not known here
// drops the entries of objects with several links (their link count).
func TestHardLinkRemoved(t *testing.T) {
	f := newFixture(t, 10)
	a, _, _ := f.brick.Lookup(ctx, &fop.Loc{Parent: f.dir, Name: "f4"}, nil)
	if _, _, err := f.brick.Link(ctx, &fop.Loc{GFID: a.GFID}, &fop.Loc{Parent: f.dir, Name: "link"}); err != nil {
		t.Fatal(err)
	}
	f.warm(t)
	if b, _, went := f.lookup(t, "f4"); went || b.Nlink != 2 {
		t.Fatalf("f4: below %v, nlink %d", went, b.Nlink)
	}
	f.la.mu.Lock()
	f.la.forgetLocked(f.la.dirs[f.dir].Value.(*dir), "link") // unknown here
	f.la.mu.Unlock()
	if _, err := f.la.Unlink(ctx, &fop.Loc{Parent: f.dir, Name: "link"}); err != nil {
		t.Fatal(err)
	}
	if b, _, went := f.lookup(t, "f4"); !went || b.Nlink != 1 {
		t.Fatalf("f4 after its other link went: below %v, nlink %d", went, b.Nlink)
	}
}
