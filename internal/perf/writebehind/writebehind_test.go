package writebehind

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// gate holds the writes and flushes that reach the layer below until it is
// opened, records their sizes and can fail them.
type gate struct {
	fop.Base
	mu      sync.Mutex
	open    chan struct{}
	sizes   []int
	flushes int
	fail    error
}

func (g *gate) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	<-g.open
	g.mu.Lock()
	g.sizes = append(g.sizes, len(data))
	fail := g.fail
	g.mu.Unlock()
	if fail != nil {
		return 0, fop.Attr{}, fail
	}
	return g.Base.Write(ctx, fd, data, off)
}

func (g *gate) Flush(ctx context.Context, fd *fop.FD) error {
	<-g.open
	g.mu.Lock()
	g.flushes++
	g.mu.Unlock()
	return g.Base.Flush(ctx, fd)
}

type fixture struct {
	t     *testing.T
	brick fop.Layer
	gate  *gate
	wb    fop.Layer
}

func newFixture(t *testing.T, opts map[string]string) *fixture {
	t.Helper()
	p, err := posix.New(&graph.Args{Name: "p", Options: map[string]string{"directory": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.(interface{ Close() error }).Close() })
	g := &gate{Base: fop.Base{Next: p}, open: make(chan struct{})}
	l, err := New(&graph.Args{Name: "wb", Options: opts, Children: []fop.Layer{g}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, brick: p, gate: g, wb: l}
}

// create makes an empty file through write-behind and returns its fd.
func (f *fixture) create(name string) *fop.FD {
	f.t.Helper()
	loc := &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: fop.NewGFID()}
	fd := fop.NewFD(loc.GFID, syscall.O_RDWR)
	if _, _, err := f.wb.Create(context.Background(), loc, syscall.O_RDWR, 0o644, 0, fd, nil); err != nil {
		f.t.Fatal(err)
	}
	return fd
}

func (f *fixture) write(fd *fop.FD, data string, off int64) fop.Attr {
	f.t.Helper()
	n, a, err := f.wb.Write(context.Background(), fd, []byte(data), off)
	if err != nil || n != len(data) {
		f.t.Fatalf("write: %d, %v", n, err)
	}
	return a
}

// brickSize is the file's size as the brick has it.
func (f *fixture) brickSize(g fop.GFID) uint64 {
	f.t.Helper()
	a, err := f.brick.Stat(context.Background(), &fop.Loc{GFID: g})
	if err != nil {
		f.t.Fatal(err)
	}
	return a.Size
}

// Writes are acknowledged while the layer below holds them, with the size
// they make, and reach the brick merged and in order.
func TestWritesBehindMergedInOrder(t *testing.T) {
	f := newFixture(t, nil)
	fd := f.create("f")
	var a fop.Attr
	for i := range 8 {
		a = f.write(fd, "abcd", int64(4*i))
	}
	if a.Size != 32 {
		t.Fatalf("acknowledged size %d, want 32", a.Size)
	}
	if got := f.brickSize(fd.GFID); got != 0 {
		t.Fatalf("brick has %d bytes before the gate opened", got)
	}
	close(f.gate.open)
	st, err := f.wb.Fstat(context.Background(), fd)
	if err != nil || st.Size != 32 {
		t.Fatalf("fstat: size %d, %v", st.Size, err)
	}
	// The worker takes the first write alone or all of them; what
	// queues behind the one in flight goes below as one write.
	if s := f.gate.sizes; !(len(s) == 1 && s[0] == 32 || len(s) == 2 && s[0]+s[1] == 32) {
		t.Fatalf("writes below: %v, want [32] or two adding to 32", s)
	}
	buf := make([]byte, 64)
	n, err := f.wb.Read(context.Background(), fd, buf, 0)
	if err != nil || !bytes.Equal(buf[:n], bytes.Repeat([]byte("abcd"), 8)) {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if err := f.wb.Release(context.Background(), fd); err != nil {
		t.Fatal(err)
	}
}

// A failed background write is reported by fsync, once.
func TestDeferredErrorOnFsync(t *testing.T) {
	f := newFixture(t, nil)
	fd := f.create("f")
	f.gate.fail = syscall.ENOSPC
	f.write(fd, "data", 0)
	close(f.gate.open)
	if _, err := f.wb.Fsync(context.Background(), fd, false); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("fsync: %v, want ENOSPC", err)
	}
	f.gate.mu.Lock()
	f.gate.fail = nil
	f.gate.mu.Unlock()
	if _, err := f.wb.Fsync(context.Background(), fd, false); err != nil {
		t.Fatalf("second fsync: %v", err)
	}
}

// A failed background write is reported by the next write.
func TestDeferredErrorOnWrite(t *testing.T) {
	f := newFixture(t, nil)
	fd := f.create("f")
	f.gate.fail = syscall.EDQUOT
	close(f.gate.open)
	f.write(fd, "data", 0)
	if _, err := f.wb.Fstat(context.Background(), fd); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.wb.Write(context.Background(), fd, []byte("more"), 4); !errors.Is(err, syscall.EDQUOT) {
		t.Fatalf("write: %v, want EDQUOT", err)
	}
}

// With flush-behind, flush returns while writes are held and the flush
// goes below after them; release waits until all reached the brick.
func TestFlushBehindAndRelease(t *testing.T) {
	f := newFixture(t, nil)
	fd := f.create("f")
	f.write(fd, "hello", 0)
	if err := f.wb.Flush(context.Background(), fd); err != nil {
		t.Fatal(err)
	}
	close(f.gate.open)
	if err := f.wb.Release(context.Background(), fd); err != nil {
		t.Fatal(err)
	}
	if f.gate.flushes != 1 {
		t.Fatalf("flushes below: %d, want 1", f.gate.flushes)
	}
	if got := f.brickSize(fd.GFID); got != 5 {
		t.Fatalf("brick size %d after release, want 5", got)
	}
}

// Without flush-behind, flush reports a failed write.
func TestFlushWaits(t *testing.T) {
	f := newFixture(t, map[string]string{"flush-behind": "off"})
	fd := f.create("f")
	f.gate.fail = syscall.EIO
	close(f.gate.open)
	f.write(fd, "hello", 0)
	if err := f.wb.Flush(context.Background(), fd); !errors.Is(err, syscall.EIO) {
		t.Fatalf("flush: %v, want EIO", err)
	}
}

// Files opened O_SYNC write through.
func TestSyncBypasses(t *testing.T) {
	f := newFixture(t, nil)
	close(f.gate.open)
	g := f.create("f").GFID
	fd := fop.NewFD(g, syscall.O_RDWR|syscall.O_SYNC)
	if err := f.wb.Open(context.Background(), &fop.Loc{GFID: g}, fd.Flags, fd); err != nil {
		t.Fatal(err)
	}
	f.gate.fail = syscall.EROFS
	if _, _, err := f.wb.Write(context.Background(), fd, []byte("x"), 0); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("O_SYNC write: %v, want EROFS at once", err)
	}
}

// A stat by GFID and a lookup by name see the size of queued writes.
func TestStatAndLookupSeeWrites(t *testing.T) {
	f := newFixture(t, nil)
	fd := f.create("f")
	f.write(fd, "0123456789", 0)
	done := make(chan fop.Attr)
	go func() {
		a, _, err := f.wb.Lookup(context.Background(), &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil)
		if err != nil {
			t.Error(err)
		}
		done <- a
	}()
	close(f.gate.open)
	if a := <-done; a.Size != 10 {
		t.Fatalf("lookup size %d, want 10", a.Size)
	}
	f.write(fd, "x", 10)
	a, err := f.wb.Stat(context.Background(), &fop.Loc{GFID: fd.GFID})
	if err != nil || a.Size != 11 {
		t.Fatalf("stat: size %d, %v", a.Size, err)
	}
}

func TestMerge(t *testing.T) {
	fd1, fd2 := fop.NewFD(fop.NewGFID(), 0), fop.NewFD(fop.NewGFID(), 0)
	q := []req{
		{fd: fd1, data: []byte("ab"), off: 0},
		{fd: fd1, data: []byte("cd"), off: 2},
		{fd: fd1, data: []byte("ef"), off: 10}, // not adjacent
		{fd: fd2, data: []byte("gh"), off: 12},
		{fd: fd2},
	}
	r, n := (&shared{}).merge(q)
	if n != 2 || string(r.data) != "abcd" || r.off != 0 {
		t.Fatalf("merge: %q at %d, took %d", r.data, r.off, n)
	}
	if _, n := (&shared{}).merge(q[2:]); n != 1 {
		t.Fatalf("merged across a gap: %d", n)
	}
	if r, n := (&shared{}).merge(q[4:]); n != 1 || r.data != nil {
		t.Fatal("flush merged")
	}
}

// A truncating open waits for queued writes, so that they cannot land
// after the truncation.
func TestTruncatingOpenWaits(t *testing.T) {
	f := newFixture(t, nil)
	fd := f.create("f")
	f.write(fd, "data", 0)
	done := make(chan error)
	go func() {
		fd2 := fop.NewFD(fd.GFID, syscall.O_RDWR|syscall.O_TRUNC)
		done <- f.wb.Open(context.Background(), &fop.Loc{GFID: fd.GFID}, fd2.Flags, fd2)
	}()
	close(f.gate.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.brickSize(fd.GFID); got != 0 {
		t.Fatalf("size %d after O_TRUNC open, want 0", got)
	}
}
