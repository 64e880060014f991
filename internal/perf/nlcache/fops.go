package nlcache

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Lookup answers ENOENT for a name known absent, and learns from the
// answers of the others.
func (c *NLC) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	// A name too long is the bricks' to refuse (ENAMETOOLONG).
	if loc.Name == "" || loc.Parent.IsZero() || len(loc.Name) > maxName {
		return c.Next.Lookup(ctx, loc, xreq)
	}
	if c.isAbsent(loc.Parent, loc.Name) {
		return fop.Attr{}, nil, errAbsent(loc)
	}
	t := c.begin(loc.Parent)
	a, d, err := c.Next.Lookup(ctx, loc, xreq)
	switch {
	case err == nil:
		c.foundPresent(loc.Parent, loc.Name)
	case isENOENT(err):
		c.foundAbsent(t, loc.Name)
	}
	return a, d, err
}

// add runs a call that adds the entry loc.
func (c *NLC) add(loc *fop.Loc, fn func() (obj, parent fop.Attr, err error)) (fop.Attr, fop.Attr, error) {
	t := c.change(loc.Parent)
	obj, parent, err := fn()
	c.added(t, loc.Name, err)
	return obj, parent, err
}

func (c *NLC) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return c.add(loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Mknod(ctx, loc, mode, umask, rdev, xdata) })
}

// Mkdir also knows the new directory's content: nothing.
func (c *NLC) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	start := c.now()
	obj, parent, err := c.add(loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Mkdir(ctx, loc, mode, umask, xdata) })
	if err == nil {
		c.created(obj.GFID, start)
	}
	return obj, parent, err
}

func (c *NLC) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return c.add(loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Symlink(ctx, loc, target, umask, xdata) })
}

func (c *NLC) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return c.add(loc, func() (fop.Attr, fop.Attr, error) { return c.Next.Create(ctx, loc, flags, mode, umask, fd, xdata) })
}

func (c *NLC) Link(ctx context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	return c.add(new, func() (fop.Attr, fop.Attr, error) { return c.Next.Link(ctx, old, new) })
}

// remove runs a call that takes the entry loc away.
func (c *NLC) remove(loc *fop.Loc, fn func() (fop.Attr, error)) (fop.Attr, error) {
	t := c.change(loc.Parent)
	parent, err := fn()
	c.removed(t, loc.Name, err)
	return parent, err
}

func (c *NLC) Unlink(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return c.remove(loc, func() (fop.Attr, error) { return c.Next.Unlink(ctx, loc) })
}

func (c *NLC) Rmdir(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	parent, err := c.remove(loc, func() (fop.Attr, error) { return c.Next.Rmdir(ctx, loc) })
	if err == nil && !loc.GFID.IsZero() {
		c.drop(loc.GFID)
	}
	return parent, err
}

// Rename takes the old name away and adds the new one. An exchange keeps
// both names: it only forgets what is known of the directories.
func (c *NLC) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	var obj, op, np fop.Attr
	var err error
	if flags&unix.RENAME_EXCHANGE != 0 {
		obj, op, np, err = c.Next.Rename(ctx, old, new, flags)
		c.drop(old.Parent)
		c.drop(new.Parent)
		return obj, op, np, err
	}
	_, _, err = c.add(new, func() (fop.Attr, fop.Attr, error) {
		_, err := c.remove(old, func() (fop.Attr, error) {
			var err error
			obj, op, np, err = c.Next.Rename(ctx, old, new, flags)
			return op, err
		})
		return obj, np, err
	})
	return obj, op, np, err
}

// listing follows a directory read through an fd from its start, to learn
// the whole content.
type listing struct {
	t     token
	next  uint64 // the cookie the next read must start at
	names map[string]struct{}
	done  bool // ended or given up
}

func (c *NLC) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	t := c.begin(loc.GFID)
	err := c.Next.Opendir(ctx, loc, fd)
	if err == nil {
		fd.SetCtx(c, &listing{t: t, names: map[string]struct{}{}})
	}
	return err
}

// Readdir learns the directory's content when it is read from the start to
// the end in order.
func (c *NLC) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	es, err := c.Next.Readdir(ctx, fd, off, max, plus, xreq)
	v, ok := fd.Ctx(c)
	if !ok {
		return es, err
	}
	l := v.(*listing)
	if l.done {
		return es, err
	}
	if err != nil || off != l.next || len(l.names)+len(es) > maxListing {
		l.done, l.names = true, nil
		return es, err
	}
	if len(es) == 0 {
		l.done = true
		c.listed(l.t, l.names)
		return es, err
	}
	for _, e := range es {
		if e.Name != "." && e.Name != ".." {
			l.names[e.Name] = struct{}{}
		}
	}
	l.next = es[len(es)-1].Off
	return es, err
}
