package mdcache

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// The calls below change objects. Those that return the attributes after
// the change feed them to the cache; the others only drop what is kept.

// drop runs a change to g whose result attributes are not returned.
func (c *MDC) drop(g fop.GFID, fn func() error) error {
	t := c.change(g)
	err := fn()
	c.changed(t, nil, err)
	return err
}

// attr runs a change to g that returns g's attributes.
func (c *MDC) attr(g fop.GFID, fn func() (fop.Attr, error)) (fop.Attr, error) {
	t := c.change(g)
	a, err := fn()
	c.changed(t, &a, err)
	return a, err
}

// entry runs the creation of loc (its GFID chosen above) in loc.Parent.
func (c *MDC) entry(loc *fop.Loc, fn func() (obj, parent fop.Attr, err error)) (fop.Attr, fop.Attr, error) {
	tp := c.change(loc.Parent)
	to := c.change(loc.GFID)
	obj, parent, err := fn()
	c.changed(to, &obj, err)
	c.changed(tp, &parent, err)
	return obj, parent, err
}

// Setattr implements fop.Layer.
func (c *MDC) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	return c.attr(loc.GFID, func() (fop.Attr, error) { return c.Next.Setattr(ctx, loc, set) })
}

// Fsetattr implements fop.Layer.
func (c *MDC) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	return c.attr(fd.GFID, func() (fop.Attr, error) { return c.Next.Fsetattr(ctx, fd, set) })
}

// Truncate implements fop.Layer.
func (c *MDC) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	return c.attr(loc.GFID, func() (fop.Attr, error) { return c.Next.Truncate(ctx, loc, size) })
}

// Ftruncate implements fop.Layer.
func (c *MDC) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	return c.attr(fd.GFID, func() (fop.Attr, error) { return c.Next.Ftruncate(ctx, fd, size) })
}

// Write implements fop.Layer.
func (c *MDC) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	var n int
	a, err := c.attr(fd.GFID, func() (a fop.Attr, err error) {
		n, a, err = c.Next.Write(ctx, fd, data, off)
		return a, err
	})
	return n, a, err
}

// Read drops the file's attributes: it may move atime.
func (c *MDC) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	var n int
	err := c.drop(fd.GFID, func() (err error) {
		n, err = c.Next.Read(ctx, fd, buf, off)
		return err
	})
	return n, err
}

// Fsync implements fop.Layer.
func (c *MDC) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	return c.attr(fd.GFID, func() (fop.Attr, error) { return c.Next.Fsync(ctx, fd, datasync) })
}

// Fallocate implements fop.Layer.
func (c *MDC) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	return c.attr(fd.GFID, func() (fop.Attr, error) { return c.Next.Fallocate(ctx, fd, mode, off, length) })
}

// Discard implements fop.Layer.
func (c *MDC) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return c.attr(fd.GFID, func() (fop.Attr, error) { return c.Next.Discard(ctx, fd, off, length) })
}

// Zerofill implements fop.Layer.
func (c *MDC) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return c.attr(fd.GFID, func() (fop.Attr, error) { return c.Next.Zerofill(ctx, fd, off, length) })
}

// Open drops the file's attributes when it truncates.
func (c *MDC) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	if flags&syscall.O_TRUNC == 0 {
		return c.Next.Open(ctx, loc, flags, fd)
	}
	return c.drop(loc.GFID, func() error { return c.Next.Open(ctx, loc, flags, fd) })
}

// Mknod implements fop.Layer.
func (c *MDC) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return c.entry(loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Mknod(ctx, loc, mode, umask, rdev, xdata) })
}

// Mkdir implements fop.Layer.
func (c *MDC) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return c.entry(loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Mkdir(ctx, loc, mode, umask, xdata) })
}

// Symlink implements fop.Layer.
func (c *MDC) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return c.entry(loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Symlink(ctx, loc, target, umask, xdata) })
}

// Create implements fop.Layer.
func (c *MDC) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return c.entry(loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Create(ctx, loc, flags, mode, umask, fd, xdata) })
}

// Link implements fop.Layer: the object gains a link, new's directory an
// entry.
func (c *MDC) Link(ctx context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	loc := fop.Loc{Parent: new.Parent, GFID: old.GFID}
	return c.entry(&loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Link(ctx, old, new) })
}

// Unlink implements fop.Layer. The object named loses a link; unless
// loc names it, which one is unknown here: everything is dropped.
func (c *MDC) Unlink(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return c.remove(loc, func() (fop.Attr, error) { return c.Next.Unlink(ctx, loc) })
}

// Rmdir implements fop.Layer.
func (c *MDC) Rmdir(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return c.remove(loc, func() (fop.Attr, error) { return c.Next.Rmdir(ctx, loc) })
}

func (c *MDC) remove(loc *fop.Loc, fn func() (fop.Attr, error)) (fop.Attr, error) {
	t := c.change(loc.Parent)
	a, err := fn()
	// Dropped once done: a stat that ran meanwhile may have seen the
	// link count before the removal.
	if loc.GFID.IsZero() {
		c.dropAll(&t)
	} else {
		c.changed(c.change(loc.GFID), nil, nil)
	}
	c.changed(t, &a, err)
	return a, err
}

// Rename drops everything (the object's ctime moves, a replaced target is
// unknown here) but the directories' attributes it returns.
func (c *MDC) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	to, tn := c.change(old.Parent), c.change(new.Parent)
	obj, op, np, err := c.Next.Rename(ctx, old, new, flags)
	c.dropAll(&to, &tn)
	c.changed(to, &op, err)
	c.changed(tn, &np, err)
	return obj, op, np, err
}

// Setxattr implements fop.Layer (ctime moves).
func (c *MDC) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	return c.drop(loc.GFID, func() error { return c.Next.Setxattr(ctx, loc, xattrs, flags) })
}

// Fsetxattr implements fop.Layer.
func (c *MDC) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	return c.drop(fd.GFID, func() error { return c.Next.Fsetxattr(ctx, fd, xattrs, flags) })
}

// Removexattr implements fop.Layer.
func (c *MDC) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	return c.drop(loc.GFID, func() error { return c.Next.Removexattr(ctx, loc, name) })
}

// Fremovexattr implements fop.Layer.
func (c *MDC) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	return c.drop(fd.GFID, func() error { return c.Next.Fremovexattr(ctx, fd, name) })
}

// Xattrop implements fop.Layer.
func (c *MDC) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	var d fop.Dict
	err := c.drop(loc.GFID, func() (err error) {
		d, err = c.Next.Xattrop(ctx, loc, op, xattrs)
		return err
	})
	return d, err
}

// Fxattrop implements fop.Layer.
func (c *MDC) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	var d fop.Dict
	err := c.drop(fd.GFID, func() (err error) {
		d, err = c.Next.Fxattrop(ctx, fd, op, xattrs)
		return err
	})
	return d, err
}

// Readdir drops the directory's attributes: listing moves its atime.
func (c *MDC) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	var es []fop.DirEntry
	err := c.drop(fd.GFID, func() (err error) {
		es, err = c.Next.Readdir(ctx, fd, off, max, plus, xreq)
		return err
	})
	return es, err
}

// Readlink drops the link's attributes: reading it moves its atime.
func (c *MDC) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	var s string
	err := c.drop(loc.GFID, func() (err error) {
		s, err = c.Next.Readlink(ctx, loc)
		return err
	})
	return s, err
}
