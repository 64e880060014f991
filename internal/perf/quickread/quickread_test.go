package quickread

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

// counter counts the opens and reads that reach the layer below.
type counter struct {
	fop.Base
	opens, reads atomic.Int32
}

func (c *counter) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	c.opens.Add(1)
	return c.Base.Open(ctx, loc, flags, fd)
}

func (c *counter) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	c.reads.Add(1)
	return c.Base.Read(ctx, fd, buf, off)
}

type fixture struct {
	t     *testing.T
	brick fop.Layer // another client's view: straight to the brick
	below *counter
	qr    *QR
	clock time.Time
}

func newFixture(t *testing.T, opts map[string]string) *fixture {
	t.Helper()
	p, err := posix.New(&graph.Args{Name: "p", Options: map[string]string{"directory": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.(interface{ Close() error }).Close() })
	f := &fixture{t: t, brick: p, below: &counter{Base: fop.Base{Next: p}}, clock: time.Unix(1000, 0)}
	l, err := New(&graph.Args{Name: "qr", Options: opts, Children: []fop.Layer{f.below}})
	if err != nil {
		t.Fatal(err)
	}
	f.qr = l.(*QR)
	f.qr.now = func() time.Time { return f.clock }
	// Files are opened in the root: lookups there ask for content.
	f.qr.hot.mark("/", f.clock)
	return f
}

// create makes a file with data straight on the brick.
func (f *fixture) create(name string, data string) fop.GFID {
	f.t.Helper()
	ctx := context.Background()
	loc := &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: fop.NewGFID()}
	fd := fop.NewFD(loc.GFID, syscall.O_RDWR)
	if _, _, err := f.brick.Create(ctx, loc, syscall.O_RDWR, 0o644, 0, fd, nil); err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := f.brick.Write(ctx, fd, []byte(data), 0); err != nil {
		f.t.Fatal(err)
	}
	if err := f.brick.Release(ctx, fd); err != nil {
		f.t.Fatal(err)
	}
	return loc.GFID
}

// cat looks name up, opens, reads and releases it through quick-read.
func (f *fixture) cat(name string) string {
	f.t.Helper()
	ctx := context.Background()
	a, x, err := f.qr.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: name, Path: "/" + name}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, ok := x[fop.ContentKey]; ok {
		f.t.Fatal("content leaked to a caller that did not ask for it")
	}
	fd := fop.NewFD(a.GFID, syscall.O_RDONLY)
	if err := f.qr.Open(ctx, &fop.Loc{GFID: a.GFID, Path: "/" + name}, syscall.O_RDONLY, fd); err != nil {
		f.t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 3)
	for off := int64(0); ; {
		n, err := f.qr.Read(ctx, fd, buf, off)
		if err != nil {
			f.t.Fatal(err)
		}
		if n == 0 {
			break
		}
		out = append(out, buf[:n]...)
		off += int64(n)
	}
	if err := f.qr.Release(ctx, fd); err != nil {
		f.t.Fatal(err)
	}
	return string(out)
}

func TestSmallFileServedFromLookup(t *testing.T) {
	f := newFixture(t, nil)
	f.create("a", "hello world")
	if got := f.cat("a"); got != "hello world" {
		t.Fatalf("read %q", got)
	}
	if o, r := f.below.opens.Load(), f.below.reads.Load(); o != 0 || r != 0 {
		t.Fatalf("%d opens and %d reads reached the brick, want none", o, r)
	}
}

func TestContentOnlyWhereFilesAreRead(t *testing.T) {
	f := newFixture(t, nil)
	f.qr.hot = hotDirs{}
	f.create("a", "one")
	f.create("b", "two")
	// Lookups in a directory where nothing was opened (stat, ls -l) do
	// not make the brick read data; the first open makes it hot.
	if got := f.cat("a"); got != "one" {
		t.Fatalf("read %q", got)
	}
	if f.below.opens.Load() != 1 {
		t.Fatal("lookup in a cold directory fetched content")
	}
	if got := f.cat("b"); got != "two" {
		t.Fatalf("read %q", got)
	}
	if f.below.opens.Load() != 1 {
		t.Fatal("lookup in a hot directory did not fetch content")
	}
}

func TestLargeFileGoesBelow(t *testing.T) {
	f := newFixture(t, map[string]string{"max-file-size": "4"})
	f.create("a", "hello world")
	if got := f.cat("a"); got != "hello world" {
		t.Fatalf("read %q", got)
	}
	if f.below.opens.Load() != 1 {
		t.Fatal("open of a file above max-file-size was not sent below")
	}
}

func TestOwnWriteSeenByOpenFD(t *testing.T) {
	f := newFixture(t, nil)
	f.create("a", "old")
	ctx := context.Background()
	a, _, err := f.qr.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "a", Path: "/a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd := fop.NewFD(a.GFID, syscall.O_RDONLY)
	if err := f.qr.Open(ctx, &fop.Loc{GFID: a.GFID}, syscall.O_RDONLY, rd); err != nil {
		t.Fatal(err)
	}
	wr := fop.NewFD(a.GFID, syscall.O_WRONLY)
	if err := f.qr.Open(ctx, &fop.Loc{GFID: a.GFID}, syscall.O_WRONLY, wr); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.qr.Write(ctx, wr, []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	n, err := f.qr.Read(ctx, rd, buf, 0)
	if err != nil || string(buf[:n]) != "new" {
		t.Fatalf("read after own write: %q, %v", buf[:n], err)
	}
	for _, fd := range []*fop.FD{rd, wr} {
		if err := f.qr.Release(ctx, fd); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.cat("a"); got != "new" {
		t.Fatalf("cat after write: %q", got)
	}
}

func TestOtherClientsChange(t *testing.T) {
	f := newFixture(t, nil)
	g := f.create("a", "one")
	f.cat("a")
	// Another client rewrites the file with another size: the next
	// lookup sees it and drops the content.
	ctx := context.Background()
	if _, err := f.brick.Truncate(ctx, &fop.Loc{GFID: g}, 0); err != nil {
		t.Fatal(err)
	}
	fd := fop.NewFD(g, syscall.O_WRONLY)
	if err := f.brick.Open(ctx, &fop.Loc{GFID: g}, syscall.O_WRONLY, fd); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.brick.Write(ctx, fd, []byte("three"), 0); err != nil {
		t.Fatal(err)
	}
	f.brick.Release(ctx, fd)
	if got := f.cat("a"); got != "three" {
		t.Fatalf("after another client's change: %q", got)
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t, map[string]string{"cache-timeout": "1"})
	g := f.create("a", "data")
	f.cat("a")
	// Content older than cache-timeout is not used by open.
	f.clock = f.clock.Add(2 * time.Second)
	ctx := context.Background()
	fd := fop.NewFD(g, syscall.O_RDONLY)
	if err := f.qr.Open(ctx, &fop.Loc{GFID: g}, syscall.O_RDONLY, fd); err != nil {
		t.Fatal(err)
	}
	if f.below.opens.Load() != 1 {
		t.Fatal("open used content older than cache-timeout")
	}
	f.qr.Release(ctx, fd)
}

func TestOtherCallerOpensBelow(t *testing.T) {
	f := newFixture(t, nil)
	g := f.create("a", "data")
	f.cat("a")
	ctx := fop.WithCaller(context.Background(), &fop.Caller{UID: 1000, GID: 1000})
	fd := fop.NewFD(g, syscall.O_RDONLY)
	// The file is 0644: the other user may read it, but the brick decides.
	if err := f.qr.Open(ctx, &fop.Loc{GFID: g}, syscall.O_RDONLY, fd); err != nil {
		t.Fatal(err)
	}
	if f.below.opens.Load() != 1 {
		t.Fatal("another caller's open was answered from content fetched for root")
	}
	f.qr.Release(ctx, fd)
}

func TestCacheSizeBound(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.qr.Reconfigure(map[string]string{"cache-size": "8"}); err != nil {
		t.Fatal(err)
	}
	f.create("a", "12345")
	f.create("b", "67890")
	f.cat("a")
	f.cat("b")
	if f.qr.cache.bytes > 8 || len(f.qr.cache.m) != 1 {
		t.Fatalf("cache holds %d bytes in %d entries, limit 8", f.qr.cache.bytes, len(f.qr.cache.m))
	}
}
