package lookupahead

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Lookup answers a lookup by name from a recent listing; a miss counts
// towards listing the directory.
func (l *LA) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	// Lookups asking for xattrs or content, and lookups by GFID, are the
	// bricks'.
	if loc.Name == "" || loc.Parent.IsZero() || len(xreq) > 0 {
		return l.Next.Lookup(ctx, loc, xreq)
	}
	if a, ok := l.cached(loc.Parent, loc.Name); ok {
		return a, nil, nil
	}
	a, d, err := l.Next.Lookup(ctx, loc, xreq)
	if err == nil && !isDir(&a) || fop.Errno(err) == syscall.ENOENT {
		l.missed(ctx, loc)
	}
	return a, d, err
}

// The calls below change objects or entries: once done (whether they
// succeeded or not), what is kept of them goes, and a listing in flight
// does not bring it back.

// obj runs a change to object g.
func obj[T any](l *LA, g fop.GFID, v T, err error) (T, error) {
	l.objChanged(g)
	return v, err
}

func (l *LA) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	a, err := l.Next.Setattr(ctx, loc, set)
	return obj(l, loc.GFID, a, err)
}

func (l *LA) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	a, err := l.Next.Fsetattr(ctx, fd, set)
	return obj(l, fd.GFID, a, err)
}

func (l *LA) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	a, err := l.Next.Truncate(ctx, loc, size)
	return obj(l, loc.GFID, a, err)
}

func (l *LA) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	a, err := l.Next.Ftruncate(ctx, fd, size)
	return obj(l, fd.GFID, a, err)
}

func (l *LA) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	n, a, err := l.Next.Write(ctx, fd, data, off)
	l.objChanged(fd.GFID)
	return n, a, err
}

func (l *LA) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	a, err := l.Next.Fallocate(ctx, fd, mode, off, length)
	return obj(l, fd.GFID, a, err)
}

func (l *LA) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	a, err := l.Next.Discard(ctx, fd, off, length)
	return obj(l, fd.GFID, a, err)
}

func (l *LA) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	a, err := l.Next.Zerofill(ctx, fd, off, length)
	return obj(l, fd.GFID, a, err)
}

// Fsync and Flush: writes queued below (write-behind) land by then.
func (l *LA) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	a, err := l.Next.Fsync(ctx, fd, datasync)
	return obj(l, fd.GFID, a, err)
}

func (l *LA) Flush(ctx context.Context, fd *fop.FD) error {
	_, err := obj(l, fd.GFID, struct{}{}, l.Next.Flush(ctx, fd))
	return err
}

// Open with O_TRUNC changes the file.
func (l *LA) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	err := l.Next.Open(ctx, loc, flags, fd)
	if flags&syscall.O_TRUNC != 0 {
		l.objChanged(loc.GFID)
	}
	return err
}

// Xattr changes move ctime.
func (l *LA) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	_, err := obj(l, loc.GFID, struct{}{}, l.Next.Setxattr(ctx, loc, xattrs, flags))
	return err
}

func (l *LA) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	_, err := obj(l, fd.GFID, struct{}{}, l.Next.Fsetxattr(ctx, fd, xattrs, flags))
	return err
}

func (l *LA) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	_, err := obj(l, loc.GFID, struct{}{}, l.Next.Removexattr(ctx, loc, name))
	return err
}

func (l *LA) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	_, err := obj(l, fd.GFID, struct{}{}, l.Next.Fremovexattr(ctx, fd, name))
	return err
}

func (l *LA) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	d, err := l.Next.Xattrop(ctx, loc, op, xattrs)
	return obj(l, loc.GFID, d, err)
}

func (l *LA) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	d, err := l.Next.Fxattrop(ctx, fd, op, xattrs)
	return obj(l, fd.GFID, d, err)
}

// added ends a call that made the entry loc.
func (l *LA) added(loc *fop.Loc) { l.nameChanged(loc.Parent, loc.Name) }

func (l *LA) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	defer l.added(loc)
	return l.Next.Mknod(ctx, loc, mode, umask, rdev, xdata)
}

func (l *LA) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	defer l.added(loc)
	return l.Next.Mkdir(ctx, loc, mode, umask, xdata)
}

func (l *LA) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	defer l.added(loc)
	return l.Next.Symlink(ctx, loc, target, umask, xdata)
}

func (l *LA) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	defer l.added(loc)
	return l.Next.Create(ctx, loc, flags, mode, umask, fd, xdata)
}

// Link adds a name and a link to the object.
func (l *LA) Link(ctx context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	defer l.added(new)
	defer l.objChanged(old.GFID)
	return l.Next.Link(ctx, old, new)
}

// removed ends a call that removed (or replaced) the entry loc: the
// object named loses a link; if it is not known here, any object kept
// with several links may be the one.
func (l *LA) removed(loc *fop.Loc) {
	g, ok := loc.GFID, !loc.GFID.IsZero()
	if k, known := l.objectOf(loc.Parent, loc.Name); known {
		g, ok = k, true
	}
	l.nameChanged(loc.Parent, loc.Name)
	if ok {
		l.objChanged(g)
	} else {
		l.unknownRemoved()
	}
}

func (l *LA) Unlink(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	defer l.removed(loc)
	return l.Next.Unlink(ctx, loc)
}

func (l *LA) Rmdir(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	defer l.removed(loc)
	if !loc.GFID.IsZero() {
		defer l.dropDir(loc.GFID)
	}
	return l.Next.Rmdir(ctx, loc)
}

// Rename moves the object (its ctime changes) and may replace the target.
func (l *LA) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	defer l.removed(new)
	defer l.removed(old)
	return l.Next.Rename(ctx, old, new, flags)
}
