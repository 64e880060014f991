// Package arbiter is the brick-side layer of an arbiter brick
// ("features/arbiter"), directly above storage/posix on the last brick of
// each set of a `replica 3 arbiter 1` volume. The arbiter keeps every
// name, attribute and xattr (so its changelog votes, and it counts for
// client quorum) but no file data: writes, truncates and allocations are
// acknowledged without touching the file, which stays empty. The
// replicate layer (internal/afr, option arbiter-count) never reads data
// from it nor takes it as a source of data heal.
package arbiter

import (
	"context"
	"errors"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// Type is the volfile type of this layer.
const Type = "features/arbiter"

// Arbiter drops file data.
type Arbiter struct {
	fop.Base
}

var _ fop.Layer = (*Arbiter)(nil)

// New builds the layer over its one child.
func New(a *graph.Args) (fop.Layer, error) {
	if len(a.Children) != 1 {
		return nil, errors.New("features/arbiter: needs exactly one subvolume")
	}
	return &Arbiter{Base: fop.Base{Next: a.Children[0]}}, nil
}

// grown is the file's attributes as a data brick would report them after
// a change reaching end, so that callers comparing replies see no
// difference (the replicate layer uses the data bricks' anyway).
func grown(a fop.Attr, end int64) fop.Attr {
	if end > 0 && uint64(end) > a.Size {
		a.Size = uint64(end)
	}
	return a
}

// Write acknowledges the data without storing it.
func (x *Arbiter) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	a, err := x.Next.Fstat(ctx, fd)
	if err != nil {
		return 0, fop.Attr{}, err
	}
	return len(data), grown(a, off+int64(len(data))), nil
}

// Truncate keeps the file empty.
func (x *Arbiter) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	a, err := x.Next.Stat(ctx, loc)
	if err == nil {
		a.Size = size
	}
	return a, err
}

// Ftruncate keeps the file empty.
func (x *Arbiter) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	a, err := x.Next.Fstat(ctx, fd)
	if err == nil {
		a.Size = size
	}
	return a, err
}

// Fallocate allocates nothing.
func (x *Arbiter) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	a, err := x.Next.Fstat(ctx, fd)
	if err == nil && mode&unix.FALLOC_FL_KEEP_SIZE == 0 {
		a = grown(a, off+length)
	}
	return a, err
}

// Discard has nothing to punch.
func (x *Arbiter) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return x.Next.Fstat(ctx, fd)
}

// Zerofill has nothing to zero.
func (x *Arbiter) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	a, err := x.Next.Fstat(ctx, fd)
	if err == nil {
		a = grown(a, off+length)
	}
	return a, err
}

// Read refuses: an arbiter has no data to give.
func (x *Arbiter) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	return 0, syscall.EIO
}
