package quickread

import (
	"context"
	"path"
	"sync"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// lazyFD is the state of an fd whose open was answered here: it reads
// from e until e goes stale or another operation needs the fd opened
// below.
type lazyFD struct {
	e     *entry
	loc   fop.Loc
	flags uint32

	mu     sync.Mutex
	opened bool
	err    error // of the open below, once tried
}

// Open answers read-only opens of files whose content is cached and fresh
// here, for the caller whose lookup fetched it (the brick read it with
// that caller's rights). Opens that may write drop the content.
func (q *QR) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	if loc.Path != "" {
		q.hot.mark(path.Dir(loc.Path), q.now())
	}
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		q.invalidate(loc.GFID)
		err := q.Next.Open(ctx, loc, flags, fd)
		q.invalidate(loc.GFID)
		return err
	}
	if e := q.cache.get(loc.GFID); e != nil && q.fresh(e, q.cfg.Load()) {
		if c := fop.CallerFrom(ctx); c.UID == e.uid && c.GID == e.gid {
			fd.SetCtx(q, &lazyFD{e: e, loc: *loc, flags: flags})
			return nil
		}
	}
	return q.Next.Open(ctx, loc, flags, fd)
}

// lazy returns fd's state if its open was answered here.
func (q *QR) lazy(fd *fop.FD) *lazyFD {
	v, ok := fd.Ctx(q)
	if !ok {
		return nil
	}
	return v.(*lazyFD)
}

// opened makes sure fd is open below, opening it on first need.
func (q *QR) opened(ctx context.Context, fd *fop.FD) error {
	l := q.lazy(fd)
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.opened {
		l.err = q.Next.Open(ctx, &l.loc, l.flags, fd)
		l.opened = true
	}
	return l.err
}

// Read serves fd's reads from the cached content while it holds.
func (q *QR) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	if l := q.lazy(fd); l != nil && !l.e.stale.Load() {
		l.mu.Lock()
		local := !l.opened
		l.mu.Unlock()
		if local {
			if off >= int64(len(l.e.data)) {
				return 0, nil
			}
			return copy(buf, l.e.data[off:]), nil
		}
	}
	if err := q.opened(ctx, fd); err != nil {
		return 0, err
	}
	return q.Next.Read(ctx, fd, buf, off)
}

// Release forgets fd; one never opened below has nothing to release there.
func (q *QR) Release(ctx context.Context, fd *fop.FD) error {
	if l := q.lazy(fd); l != nil {
		fd.DelCtx(q)
		l.mu.Lock()
		opened := l.opened && l.err == nil
		l.mu.Unlock()
		if !opened {
			return nil
		}
	}
	return q.Next.Release(ctx, fd)
}

// Write drops the file's content (before and after: see epoch).
func (q *QR) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	if err := q.opened(ctx, fd); err != nil {
		return 0, fop.Attr{}, err
	}
	q.invalidate(fd.GFID)
	defer q.invalidate(fd.GFID)
	return q.Next.Write(ctx, fd, data, off)
}

// Truncate drops the file's content.
func (q *QR) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	q.invalidate(loc.GFID)
	defer q.invalidate(loc.GFID)
	return q.Next.Truncate(ctx, loc, size)
}

// Ftruncate drops the file's content.
func (q *QR) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	if err := q.opened(ctx, fd); err != nil {
		return fop.Attr{}, err
	}
	q.invalidate(fd.GFID)
	defer q.invalidate(fd.GFID)
	return q.Next.Ftruncate(ctx, fd, size)
}

// Setattr drops the file's content: permissions decide who may use it.
func (q *QR) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	q.invalidate(loc.GFID)
	defer q.invalidate(loc.GFID)
	return q.Next.Setattr(ctx, loc, set)
}

// Fsetattr drops the file's content.
func (q *QR) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	if err := q.opened(ctx, fd); err != nil {
		return fop.Attr{}, err
	}
	q.invalidate(fd.GFID)
	defer q.invalidate(fd.GFID)
	return q.Next.Fsetattr(ctx, fd, set)
}

// Fallocate drops the file's content.
func (q *QR) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	if err := q.opened(ctx, fd); err != nil {
		return fop.Attr{}, err
	}
	q.invalidate(fd.GFID)
	defer q.invalidate(fd.GFID)
	return q.Next.Fallocate(ctx, fd, mode, off, length)
}

// Discard drops the file's content.
func (q *QR) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	if err := q.opened(ctx, fd); err != nil {
		return fop.Attr{}, err
	}
	q.invalidate(fd.GFID)
	defer q.invalidate(fd.GFID)
	return q.Next.Discard(ctx, fd, off, length)
}

// Zerofill drops the file's content.
func (q *QR) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	if err := q.opened(ctx, fd); err != nil {
		return fop.Attr{}, err
	}
	q.invalidate(fd.GFID)
	defer q.invalidate(fd.GFID)
	return q.Next.Zerofill(ctx, fd, off, length)
}

// The other fd operations need the fd open below.

// Fstat implements fop.Layer.
func (q *QR) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	if err := q.opened(ctx, fd); err != nil {
		return fop.Attr{}, err
	}
	return q.Next.Fstat(ctx, fd)
}

// Flush implements fop.Layer.
func (q *QR) Flush(ctx context.Context, fd *fop.FD) error {
	if err := q.opened(ctx, fd); err != nil {
		return err
	}
	return q.Next.Flush(ctx, fd)
}

// Fsync implements fop.Layer.
func (q *QR) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	if err := q.opened(ctx, fd); err != nil {
		return fop.Attr{}, err
	}
	return q.Next.Fsync(ctx, fd, datasync)
}

// Fgetxattr implements fop.Layer.
func (q *QR) Fgetxattr(ctx context.Context, fd *fop.FD, name string) (fop.Dict, error) {
	if err := q.opened(ctx, fd); err != nil {
		return nil, err
	}
	return q.Next.Fgetxattr(ctx, fd, name)
}

// Fsetxattr implements fop.Layer.
func (q *QR) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	if err := q.opened(ctx, fd); err != nil {
		return err
	}
	return q.Next.Fsetxattr(ctx, fd, xattrs, flags)
}

// Fremovexattr implements fop.Layer.
func (q *QR) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	if err := q.opened(ctx, fd); err != nil {
		return err
	}
	return q.Next.Fremovexattr(ctx, fd, name)
}

// Fxattrop implements fop.Layer.
func (q *QR) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	if err := q.opened(ctx, fd); err != nil {
		return nil, err
	}
	return q.Next.Fxattrop(ctx, fd, op, xattrs)
}

// Lk implements fop.Layer.
func (q *QR) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	if err := q.opened(ctx, fd); err != nil {
		return fop.Flock{}, err
	}
	return q.Next.Lk(ctx, fd, cmd, lock)
}

// Finodelk implements fop.Layer.
func (q *QR) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	if err := q.opened(ctx, fd); err != nil {
		return err
	}
	return q.Next.Finodelk(ctx, domain, fd, cmd, lock)
}

// Fentrylk implements fop.Layer.
func (q *QR) Fentrylk(ctx context.Context, domain string, fd *fop.FD, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	if err := q.opened(ctx, fd); err != nil {
		return err
	}
	return q.Next.Fentrylk(ctx, domain, fd, name, cmd, typ)
}

// Seek implements fop.Layer.
func (q *QR) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	if err := q.opened(ctx, fd); err != nil {
		return 0, err
	}
	return q.Next.Seek(ctx, fd, off, whence)
}

// Rchecksum implements fop.Layer.
func (q *QR) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (uint32, []byte, error) {
	if err := q.opened(ctx, fd); err != nil {
		return 0, nil, err
	}
	return q.Next.Rchecksum(ctx, fd, off, length)
}
