// Package readahead is the performance/read-ahead layer of the client
// graph. It watches each open file's reads and, once they run
// sequentially, keeps page-count reads of page-size bytes in flight ahead
// of the reader, so that the round trips to the bricks (and, on a
// replicated volume, the reads of every replica, see cluster/replicate)
// overlap with the application instead of following it. Random reads pass
// straight through.
//
// Memory is bounded per open file: page-count pages ahead plus the pages
// of the read being answered. Pages live only until they are read.
//
// Consistency: any change this client makes to a file's data or size
// (write, truncate, setattr, fallocate, discard, zerofill, a truncating
// open) and any POSIX lock request drops the read-ahead pages of every FD
// of the file, before and after the change; a page read before it is
// never used after it. Changes by other clients are seen once the pages
// ahead have been read, as with GlusterFS's read-ahead.
package readahead

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "performance/read-ahead"

// Defaults: GlusterFS's page-count, and the largest read the FUSE edge
// sends as the page size.
const (
	DefaultPageCount = 4
	DefaultPageSize  = 1 << 20
	maxPageCount     = 16
)

type config struct {
	pageCount int
	pageSize  int
}

func parseConfig(opts map[string]string) (config, error) {
	c := config{pageCount: DefaultPageCount, pageSize: DefaultPageSize}
	if s, ok := opts["page-count"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageCount {
			return c, fmt.Errorf("%s: option page-count: %q is not a number from 1 to %d", Type, s, maxPageCount)
		}
		c.pageCount = n
	}
	if s, ok := opts["page-size"]; ok {
		n, err := volopt.ParseSize(s)
		if err != nil || n < 4096 || n > 16<<20 {
			return c, fmt.Errorf("%s: option page-size: %q is not a size from 4KB to 16MB", Type, s)
		}
		c.pageSize = int(n)
	}
	return c, nil
}

// RA is the read-ahead layer.
type RA struct {
	fop.Base
	cfg atomic.Pointer[config]

	mu    sync.Mutex
	files map[fop.GFID]*file // files open through this layer
}

var (
	_ fop.Layer          = (*RA)(nil)
	_ graph.Reconfigurer = (*RA)(nil)
)

// New builds the layer above its single child.
func New(a *graph.Args) (fop.Layer, error) {
	next, err := a.OnlyChild()
	if err != nil {
		return nil, err
	}
	r := &RA{Base: fop.Base{Next: next}, files: map[fop.GFID]*file{}}
	if err := r.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	return r, nil
}

// Reconfigure applies changed options to the pages read next.
func (r *RA) Reconfigure(opts map[string]string) error {
	c, err := parseConfig(opts)
	if err != nil {
		return err
	}
	r.cfg.Store(&c)
	return nil
}

// file is what the FDs of one file share: the generation that every
// change to its data advances, which makes older pages useless.
type file struct {
	gen  atomic.Uint64
	refs int // guarded by RA.mu
}

// ctxKey is this layer's key in an FD's ctx.
type ctxKey struct{}

// attach starts read-ahead state for an FD that can read.
func (r *RA) attach(fd *fop.FD, flags uint32) {
	if flags&syscall.O_ACCMODE == syscall.O_WRONLY || flags&syscall.O_DIRECT != 0 {
		return
	}
	r.mu.Lock()
	f := r.files[fd.GFID]
	if f == nil {
		f = &file{}
		r.files[fd.GFID] = f
	}
	f.refs++
	r.mu.Unlock()
	fd.SetCtx(ctxKey{}, newStream(f))
}

// invalidate makes the pages of g's FDs useless.
func (r *RA) invalidate(g fop.GFID) {
	r.mu.Lock()
	f := r.files[g]
	r.mu.Unlock()
	if f != nil {
		f.gen.Add(1)
	}
}

// around runs a change to g's data between two invalidations: the first
// for pages already read, the second for pages read while it ran.
func around[T any](r *RA, g fop.GFID, change func() (T, error)) (T, error) {
	r.invalidate(g)
	v, err := change()
	r.invalidate(g)
	return v, err
}

// Create starts read-ahead state for the new file's FD.
func (r *RA) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	obj, parent, err := r.Next.Create(ctx, loc, flags, mode, umask, fd, xdata)
	if err == nil {
		r.attach(fd, flags)
	}
	return obj, parent, err
}

// Open starts read-ahead state; a truncating open is a change to the data.
func (r *RA) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	open := func() (struct{}, error) { return struct{}{}, r.Next.Open(ctx, loc, flags, fd) }
	var err error
	if flags&syscall.O_TRUNC != 0 {
		_, err = around(r, loc.GFID, open)
	} else {
		_, err = open()
	}
	if err == nil {
		r.attach(fd, flags)
	}
	return err
}

// Release drops the FD's pages and, with the last FD, the file.
func (r *RA) Release(ctx context.Context, fd *fop.FD) error {
	if s := fdStream(fd); s != nil {
		fd.DelCtx(ctxKey{})
		r.mu.Lock()
		if s.f.refs--; s.f.refs == 0 && r.files[fd.GFID] == s.f {
			delete(r.files, fd.GFID)
		}
		r.mu.Unlock()
	}
	return r.Next.Release(ctx, fd)
}

// Read answers from the pages read ahead when the FD reads sequentially,
// and reads further ahead; other reads go straight below.
func (r *RA) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	s := fdStream(fd)
	if s == nil || len(buf) == 0 {
		return r.Next.Read(ctx, fd, buf, off)
	}
	return s.read(ctx, r.Next, fd, *r.cfg.Load(), buf, off)
}

// Write changes the data.
func (r *RA) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	var n int
	a, err := around(r, fd.GFID, func() (fop.Attr, error) {
		var (
			a   fop.Attr
			err error
		)
		n, a, err = r.Next.Write(ctx, fd, data, off)
		return a, err
	})
	return n, a, err
}

// Truncate changes the size.
func (r *RA) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	return around(r, loc.GFID, func() (fop.Attr, error) { return r.Next.Truncate(ctx, loc, size) })
}

// Ftruncate changes the size.
func (r *RA) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	return around(r, fd.GFID, func() (fop.Attr, error) { return r.Next.Ftruncate(ctx, fd, size) })
}

// Setattr may change the size.
func (r *RA) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	return around(r, loc.GFID, func() (fop.Attr, error) { return r.Next.Setattr(ctx, loc, set) })
}

// Fsetattr may change the size.
func (r *RA) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	return around(r, fd.GFID, func() (fop.Attr, error) { return r.Next.Fsetattr(ctx, fd, set) })
}

// Fallocate may change the size.
func (r *RA) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	return around(r, fd.GFID, func() (fop.Attr, error) { return r.Next.Fallocate(ctx, fd, mode, off, length) })
}

// Discard changes the data.
func (r *RA) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return around(r, fd.GFID, func() (fop.Attr, error) { return r.Next.Discard(ctx, fd, off, length) })
}

// Zerofill changes the data.
func (r *RA) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return around(r, fd.GFID, func() (fop.Attr, error) { return r.Next.Zerofill(ctx, fd, off, length) })
}

// Lk drops the pages: data read ahead before a lock was taken may predate
// what its previous holder wrote.
func (r *RA) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	return around(r, fd.GFID, func() (fop.Flock, error) { return r.Next.Lk(ctx, fd, cmd, lock) })
}
