package writebehind

import (
	"context"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// The operations below observe or change a file's data or size: they wait
// for its queued writes first, and those that return the file's
// attributes make them the ones later acknowledged writes start from.

// learn records the attributes a call below returned for g.
func (w *WB) learn(g fop.GFID, a fop.Attr, err error) (fop.Attr, error) {
	if err == nil {
		if in := w.lookupInode(g); in != nil {
			in.setAttr(a)
		}
	}
	return a, err
}

// Stat waits for queued writes.
func (w *WB) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	w.settleLoc(loc)
	a, err := w.Next.Stat(ctx, loc)
	return w.learn(loc.GFID, a, err)
}

// Fstat waits for queued writes.
func (w *WB) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	w.settleFD(fd)
	a, err := w.Next.Fstat(ctx, fd)
	return w.learn(fd.GFID, a, err)
}

// Setattr waits for queued writes (it may change the size or mtime).
func (w *WB) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	w.settleLoc(loc)
	a, err := w.Next.Setattr(ctx, loc, set)
	return w.learn(loc.GFID, a, err)
}

// Fsetattr waits for queued writes.
func (w *WB) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	w.settleFD(fd)
	a, err := w.Next.Fsetattr(ctx, fd, set)
	return w.learn(fd.GFID, a, err)
}

// Truncate waits for queued writes.
func (w *WB) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	w.settleLoc(loc)
	a, err := w.Next.Truncate(ctx, loc, size)
	return w.learn(loc.GFID, a, err)
}

// Ftruncate waits for queued writes.
func (w *WB) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	w.settleFD(fd)
	a, err := w.Next.Ftruncate(ctx, fd, size)
	return w.learn(fd.GFID, a, err)
}

// Fallocate waits for queued writes.
func (w *WB) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	w.settleFD(fd)
	a, err := w.Next.Fallocate(ctx, fd, mode, off, length)
	return w.learn(fd.GFID, a, err)
}

// Discard waits for queued writes.
func (w *WB) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	w.settleFD(fd)
	a, err := w.Next.Discard(ctx, fd, off, length)
	return w.learn(fd.GFID, a, err)
}

// Zerofill waits for queued writes.
func (w *WB) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	w.settleFD(fd)
	a, err := w.Next.Zerofill(ctx, fd, off, length)
	return w.learn(fd.GFID, a, err)
}

// Read waits for the file's queued writes, so that it sees them.
func (w *WB) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	w.settleFD(fd)
	return w.Next.Read(ctx, fd, buf, off)
}

// Seek waits for queued writes (data and holes move with them).
func (w *WB) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	w.settleFD(fd)
	return w.Next.Seek(ctx, fd, off, whence)
}

// Rchecksum waits for queued writes.
func (w *WB) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (uint32, []byte, error) {
	w.settleFD(fd)
	return w.Next.Rchecksum(ctx, fd, off, length)
}

// Lk waits for queued writes, so that data written under a lock reaches
// the bricks before another client can take it.
func (w *WB) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	w.settleFD(fd)
	return w.Next.Lk(ctx, fd, cmd, lock)
}

// settleFD waits for the queued writes of fd's file, also when fd
// itself was not opened through this layer (an anonymous fd).
func (w *WB) settleFD(fd *fop.FD) {
	if in := fdInode(fd); in != nil {
		in.drain()
		return
	}
	if in := w.lookupInode(fd.GFID); in != nil {
		in.drain()
	}
}
