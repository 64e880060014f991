package upcall

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Calls that read register interest in what they read before going down.
// Calls that change register it too (their replies are cached by the
// caller) and, once done, invalidate what they changed for the others.

const (
	attrChanged  = fop.UpcallAttr
	xattrChanged = fop.UpcallXattr | fop.UpcallAttr
	// An entry change also moves the directory's times.
	entryChanged = fop.UpcallEntry | fop.UpcallAttr
	gone         = fop.UpcallAttr | fop.UpcallGone
)

func client(ctx context.Context) string { return fop.CallerFrom(ctx).Client }

// rereads bounds how often a read is run again because what it learned
// of changed before interest in it was registered (see learned).
const rereads = 3

// stale tells client that what it learned of g may be stale: the last
// resort when rereads run out (a client that does not know g yet may let
// the reply it gets afterwards override it).
func (u *Upcall) stale(client string, gs ...fop.GFID) {
	for _, g := range gs {
		u.emit(&fop.Upcall{Client: client, GFID: g, Flags: fop.UpcallAttr | fop.UpcallXattr | fop.UpcallEntry})
	}
}

// Lookup registers interest in the directory and, once known, the object.
// A lookup by name learns the object only from its reply: if another
// client changed it in between, the lookup is run again, now with
// interest registered, so that the reply is not older than the last
// change nobody told this client of.
func (u *Upcall) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	c := client(ctx)
	for try := 0; ; try++ {
		seq := u.seen(c, loc.Parent, loc.GFID)
		a, d, err := u.Next.Lookup(ctx, loc, xreq)
		if err != nil || a.GFID == loc.GFID || !u.learned(c, seq, a.GFID) {
			return a, d, err
		}
		if try == rereads {
			u.stale(c, a.GFID)
			return a, d, err
		}
	}
}

func (u *Upcall) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	u.seen(client(ctx), loc.GFID)
	return u.Next.Stat(ctx, loc)
}

func (u *Upcall) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	u.seen(client(ctx), fd.GFID)
	return u.Next.Fstat(ctx, fd)
}

func (u *Upcall) Access(ctx context.Context, loc *fop.Loc, mask uint32) error {
	u.seen(client(ctx), loc.GFID)
	return u.Next.Access(ctx, loc, mask)
}

func (u *Upcall) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	u.seen(client(ctx), loc.GFID)
	return u.Next.Readlink(ctx, loc)
}

// Open with O_TRUNC changes the file.
func (u *Upcall) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	if flags&syscall.O_TRUNC == 0 {
		u.seen(client(ctx), loc.GFID)
		return u.Next.Open(ctx, loc, flags, fd)
	}
	_, err := u.attrCall(ctx, loc.GFID, attrChanged, func() (fop.Attr, error) { return fop.Attr{}, u.Next.Open(ctx, loc, flags, fd) })
	return err
}

func (u *Upcall) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	u.seen(client(ctx), loc.GFID)
	return u.Next.Opendir(ctx, loc, fd)
}

// Readdir registers interest in the directory and, for a listing with
// attributes (which the client's kernel caches), in every entry; such a
// listing is run again if an entry changed meanwhile, as Lookup.
func (u *Upcall) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	c := client(ctx)
	for try := 0; ; try++ {
		seq := u.seen(c, fd.GFID)
		es, err := u.Next.Readdir(ctx, fd, off, max, plus, xreq)
		if !plus || len(es) == 0 {
			return es, err
		}
		gs := make([]fop.GFID, 0, len(es))
		for _, e := range es {
			if e.Attr != nil && e.Name != "." && e.Name != ".." {
				gs = append(gs, e.Attr.GFID)
			}
		}
		if !u.learned(c, seq, gs...) {
			return es, err
		}
		if try == rereads {
			u.stale(c, gs...)
			return es, err
		}
	}
}

func (u *Upcall) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	u.seen(client(ctx), fd.GFID)
	return u.Next.Read(ctx, fd, buf, off)
}

func (u *Upcall) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	u.seen(client(ctx), loc.GFID)
	return u.Next.Getxattr(ctx, loc, name)
}

func (u *Upcall) Fgetxattr(ctx context.Context, fd *fop.FD, name string) (fop.Dict, error) {
	u.seen(client(ctx), fd.GFID)
	return u.Next.Fgetxattr(ctx, fd, name)
}

// attrCall runs a call that changes g's attributes or data.
func (u *Upcall) attrCall(ctx context.Context, g fop.GFID, flags fop.UpcallFlags, fn func() (fop.Attr, error)) (fop.Attr, error) {
	c := client(ctx)
	u.seen(c, g)
	a, err := fn()
	if err == nil {
		u.changed(c, change{gfid: g, flags: flags})
	}
	return a, err
}

func (u *Upcall) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	return u.attrCall(ctx, loc.GFID, attrChanged, func() (fop.Attr, error) { return u.Next.Setattr(ctx, loc, set) })
}

func (u *Upcall) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	return u.attrCall(ctx, fd.GFID, attrChanged, func() (fop.Attr, error) { return u.Next.Fsetattr(ctx, fd, set) })
}

func (u *Upcall) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	return u.attrCall(ctx, loc.GFID, attrChanged, func() (fop.Attr, error) { return u.Next.Truncate(ctx, loc, size) })
}

func (u *Upcall) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	return u.attrCall(ctx, fd.GFID, attrChanged, func() (fop.Attr, error) { return u.Next.Ftruncate(ctx, fd, size) })
}

func (u *Upcall) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	var n int
	a, err := u.attrCall(ctx, fd.GFID, attrChanged, func() (a fop.Attr, err error) {
		n, a, err = u.Next.Write(ctx, fd, data, off)
		return a, err
	})
	return n, a, err
}

func (u *Upcall) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	return u.attrCall(ctx, fd.GFID, attrChanged, func() (fop.Attr, error) { return u.Next.Fallocate(ctx, fd, mode, off, length) })
}

func (u *Upcall) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return u.attrCall(ctx, fd.GFID, attrChanged, func() (fop.Attr, error) { return u.Next.Discard(ctx, fd, off, length) })
}

func (u *Upcall) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return u.attrCall(ctx, fd.GFID, attrChanged, func() (fop.Attr, error) { return u.Next.Zerofill(ctx, fd, off, length) })
}

// xattrCall runs a call that changes g's xattrs.
func (u *Upcall) xattrCall(ctx context.Context, g fop.GFID, fn func() error) error {
	_, err := u.attrCall(ctx, g, xattrChanged, func() (fop.Attr, error) { return fop.Attr{}, fn() })
	return err
}

func (u *Upcall) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	return u.xattrCall(ctx, loc.GFID, func() error { return u.Next.Setxattr(ctx, loc, xattrs, flags) })
}

func (u *Upcall) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	return u.xattrCall(ctx, fd.GFID, func() error { return u.Next.Fsetxattr(ctx, fd, xattrs, flags) })
}

func (u *Upcall) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	return u.xattrCall(ctx, loc.GFID, func() error { return u.Next.Removexattr(ctx, loc, name) })
}

func (u *Upcall) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	return u.xattrCall(ctx, fd.GFID, func() error { return u.Next.Fremovexattr(ctx, fd, name) })
}

// create runs a call that adds the entry loc to its directory.
func (u *Upcall) create(ctx context.Context, loc *fop.Loc, fn func() (obj, parent fop.Attr, err error)) (fop.Attr, fop.Attr, error) {
	c := client(ctx)
	seq := u.seen(c, loc.Parent, loc.GFID)
	obj, parent, err := fn()
	if err == nil {
		// The object may have been there already (a create without
		// O_EXCL, O_TRUNC), and changed by another client since: a
		// create cannot be run again.
		if obj.GFID != loc.GFID && u.learned(c, seq, obj.GFID) {
			u.stale(c, obj.GFID)
		}
		u.changed(c, change{gfid: loc.Parent, flags: entryChanged, name: loc.Name}, change{gfid: obj.GFID, flags: attrChanged})
	}
	return obj, parent, err
}

func (u *Upcall) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return u.create(ctx, loc, func() (fop.Attr, fop.Attr, error) { return u.Next.Mknod(ctx, loc, mode, umask, rdev, xdata) })
}

func (u *Upcall) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return u.create(ctx, loc, func() (fop.Attr, fop.Attr, error) { return u.Next.Mkdir(ctx, loc, mode, umask, xdata) })
}

func (u *Upcall) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return u.create(ctx, loc, func() (fop.Attr, fop.Attr, error) { return u.Next.Symlink(ctx, loc, target, umask, xdata) })
}

func (u *Upcall) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return u.create(ctx, loc, func() (fop.Attr, fop.Attr, error) { return u.Next.Create(ctx, loc, flags, mode, umask, fd, xdata) })
}

// Link adds an entry and changes the object's link count.
func (u *Upcall) Link(ctx context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	c := client(ctx)
	u.seen(c, old.GFID, new.Parent)
	obj, parent, err := u.Next.Link(ctx, old, new)
	if err == nil {
		u.changed(c, change{gfid: new.Parent, flags: entryChanged, name: new.Name}, change{gfid: obj.GFID, flags: attrChanged})
	}
	return obj, parent, err
}

// remove runs a call that takes the entry loc out of its directory.
func (u *Upcall) remove(ctx context.Context, loc *fop.Loc, fn func() (fop.Attr, error)) (fop.Attr, error) {
	c := client(ctx)
	u.seen(c, loc.Parent)
	parent, err := fn()
	if err == nil {
		u.changed(c, change{gfid: loc.Parent, flags: entryChanged, name: loc.Name}, change{gfid: loc.GFID, flags: gone})
	}
	return parent, err
}

func (u *Upcall) Unlink(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return u.remove(ctx, loc, func() (fop.Attr, error) { return u.Next.Unlink(ctx, loc) })
}

func (u *Upcall) Rmdir(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return u.remove(ctx, loc, func() (fop.Attr, error) { return u.Next.Rmdir(ctx, loc) })
}

// Rename changes both directories, the object (its ctime, a directory's
// "..") and the entry it replaced, if any.
func (u *Upcall) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	c := client(ctx)
	u.seen(c, old.Parent, new.Parent, old.GFID)
	obj, op, np, err := u.Next.Rename(ctx, old, new, flags)
	if err == nil {
		u.changed(c,
			change{gfid: old.Parent, flags: entryChanged, name: old.Name},
			change{gfid: new.Parent, flags: entryChanged, name: new.Name},
			change{gfid: obj.GFID, flags: attrChanged},
			change{gfid: new.GFID, flags: gone})
	}
	return obj, op, np, err
}
