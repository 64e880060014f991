package mdcache

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// counter counts the stats that reach the layer below.
type counter struct {
	fop.Base
	stats atomic.Int32
}

func (c *counter) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	c.stats.Add(1)
	return c.Base.Stat(ctx, loc)
}

type fixture struct {
	brick fop.Layer
	below *counter
	mdc   *MDC
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
	l, err := New(&graph.Args{Name: "mdc", Children: []fop.Layer{f.below}})
	if err != nil {
		t.Fatal(err)
	}
	f.mdc = l.(*MDC)
	f.mdc.now = func() time.Time { return f.clock }
	return f
}

func (f *fixture) stat(t *testing.T, g fop.GFID) fop.Attr {
	t.Helper()
	a, err := f.mdc.Stat(context.Background(), &fop.Loc{GFID: g})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) create(t *testing.T, name string) (*fop.FD, fop.GFID) {
	t.Helper()
	loc := &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: fop.NewGFID()}
	fd := fop.NewFD(loc.GFID, syscall.O_RDWR)
	if _, _, err := f.mdc.Create(context.Background(), loc, syscall.O_RDWR, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	return fd, loc.GFID
}

func TestCreateAnswersParentStat(t *testing.T) {
	f := newFixture(t)
	before := f.stat(t, fop.RootGFID)
	f.below.stats.Store(0)
	f.create(t, "a")
	a := f.stat(t, fop.RootGFID)
	if f.below.stats.Load() != 0 {
		t.Fatal("stat of the directory after a create went below")
	}
	if a.Mtime == before.Mtime && a.Ctime == before.Ctime && a.Size == before.Size {
		t.Fatalf("directory attributes after a create did not change: %+v", a)
	}
}

func TestWriteThenStat(t *testing.T) {
	f := newFixture(t)
	fd, g := f.create(t, "a")
	if _, _, err := f.mdc.Write(context.Background(), fd, []byte("12345"), 0); err != nil {
		t.Fatal(err)
	}
	if a := f.stat(t, g); a.Size != 5 {
		t.Fatalf("size after write: %d", a.Size)
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t)
	f.create(t, "a")
	f.clock = f.clock.Add(DefaultTimeout)
	f.below.stats.Store(0)
	f.stat(t, fop.RootGFID)
	if f.below.stats.Load() != 1 {
		t.Fatal("attributes older than md-cache-timeout were used")
	}
}

func TestXattrChangeDrops(t *testing.T) {
	f := newFixture(t)
	_, g := f.create(t, "a")
	f.stat(t, g)
	f.below.stats.Store(0)
	if err := f.mdc.Setxattr(context.Background(), &fop.Loc{GFID: g}, fop.Dict{"user.x": []byte("1")}, 0); err != nil {
		t.Fatal(err)
	}
	f.stat(t, g)
	if f.below.stats.Load() != 1 {
		t.Fatal("stat after setxattr (ctime moves) was answered from the cache")
	}
}

func TestUnlinkByNameDropsEverything(t *testing.T) {
	f := newFixture(t)
	fd, g := f.create(t, "a")
	ctx := context.Background()
	if _, _, err := f.mdc.Link(ctx, &fop.Loc{GFID: g}, &fop.Loc{Parent: fop.RootGFID, Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if a := f.stat(t, g); a.Nlink != 2 {
		t.Fatalf("nlink after link: %d", a.Nlink)
	}
	if _, err := f.mdc.Unlink(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if a := f.stat(t, g); a.Nlink != 1 {
		t.Fatalf("nlink after unlink: %d", a.Nlink)
	}
	// The directory's attributes came back with the unlink.
	f.below.stats.Store(0)
	f.stat(t, fop.RootGFID)
	if f.below.stats.Load() != 0 {
		t.Error("stat of the directory after an unlink went below")
	}
	f.mdc.Release(ctx, fd)
}

// An overlapping change makes the other's reply useless: neither is kept.
func TestOverlappingChangesKeepNothing(t *testing.T) {
	f := newFixture(t)
	g := fop.NewGFID()
	t1 := f.mdc.change(g)
	t2 := f.mdc.change(g)
	a := fop.Attr{GFID: g, Size: 1}
	f.mdc.changed(t2, &a, nil)
	f.mdc.changed(t1, &a, nil)
	if _, ok := f.mdc.cached(g); ok {
		t.Fatal("attributes of overlapping changes were kept")
	}
	// A read that started before a change is not kept either.
	r := f.mdc.look(g)
	f.mdc.changed(f.mdc.change(g), nil, nil)
	f.mdc.seen(r, &a, nil)
	if _, ok := f.mdc.cached(g); ok {
		t.Fatal("a stat overtaken by a change was kept")
	}
}
