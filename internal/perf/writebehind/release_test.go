package writebehind

import (
	"context"
	"io"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// recorder holds writes until open is closed and records the order in
// which writes and releases reach it.
type recorder struct {
	fop.Base
	open chan struct{}
	mu   sync.Mutex
	ops  []string
}

func (r *recorder) note(op string) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

func (r *recorder) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	<-r.open
	r.note("write")
	return r.Base.Write(ctx, fd, data, off)
}

func (r *recorder) Release(ctx context.Context, fd *fop.FD) error {
	r.note("release")
	return r.Base.Release(ctx, fd)
}

func newRecorded(t *testing.T) (*recorder, *WB) {
	t.Helper()
	p, err := posix.New(&graph.Args{Name: "p", Options: map[string]string{"directory": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.(io.Closer).Close() })
	r := &recorder{Base: fop.Base{Next: p}, open: make(chan struct{})}
	l, err := New(&graph.Args{Name: "wb", Children: []fop.Layer{r}})
	if err != nil {
		t.Fatal(err)
	}
	return r, l.(*WB)
}

// A detached release (FUSE's) returns while its file's write is still held
// below; the write's worker releases the fd after the write, the file
// stays known (lookups wait for the write) until then, and closing the
// layer waits for it all.
func TestDetachedReleaseBehindWrites(t *testing.T) {
	r, w := newRecorded(t)
	ctx := context.Background()
	loc := &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: fop.NewGFID()}
	fd := fop.NewFD(loc.GFID, syscall.O_WRONLY)
	if _, _, err := w.Create(ctx, loc, syscall.O_WRONLY, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Write(ctx, fd, []byte("abcd"), 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx, fd); err != nil {
		t.Fatal(err)
	}
	// The write is held below: a release that waited would never return.
	if err := w.Release(fop.WithDetached(ctx), fd); err != nil {
		t.Fatal(err)
	}
	if got := r.seen(); len(got) != 0 {
		t.Fatalf("below saw %v before the write was let through", got)
	}
	if w.lookupInode(loc.GFID) == nil {
		t.Fatal("file forgotten while its write is queued: lookups would not wait for it")
	}
	close(r.open)
	a, _, err := w.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil)
	if err != nil || a.Size != 4 {
		t.Fatalf("lookup after the release: size %d, %v; want 4", a.Size, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.seen(), []string{"write", "release"}; !slices.Equal(got, want) {
		t.Fatalf("below saw %v, want %v", got, want)
	}
	if w.lookupInode(loc.GFID) != nil {
		t.Fatal("file still attached after its last fd was released")
	}
}

// A detached release with nothing queued, and any release that is not
// detached, reach the layer below before they return.
func TestReleaseWithNothingQueued(t *testing.T) {
	r, w := newRecorded(t)
	close(r.open)
	ctx := context.Background()
	for i, rctx := range []context.Context{fop.WithDetached(ctx), ctx} {
		loc := &fop.Loc{Parent: fop.RootGFID, Name: string(rune('a' + i)), GFID: fop.NewGFID()}
		fd := fop.NewFD(loc.GFID, syscall.O_WRONLY)
		if _, _, err := w.Create(ctx, loc, syscall.O_WRONLY, 0o644, 0, fd, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.Write(ctx, fd, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// Let the write finish first: nothing is queued then.
			if _, err := w.Fstat(ctx, fd); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Release(rctx, fd); err != nil {
			t.Fatal(err)
		}
		if got := r.seen(); len(got) != 2*(i+1) || got[len(got)-1] != "release" {
			t.Fatalf("release %d: below saw %v, want the write then the release", i, got)
		}
	}
}
