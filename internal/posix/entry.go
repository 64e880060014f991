package posix

import (
	"context"
	"errors"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Entry operations: a name in a parent directory, the parent resolved by
// GFID through the directory fd cache.

// parentOf validates loc.Name and borrows loc.Parent's directory fd.
// .glusterfs at the brick root is not part of the volume.
func (p *Posix) parentOf(loc *fop.Loc) (*dirRef, error) {
	if err := validName(loc.Name); err != nil {
		return nil, err
	}
	if loc.Parent == fop.RootGFID && loc.Name == gfidDir {
		return nil, unix.EPERM
	}
	if loc.Parent.IsZero() {
		return nil, unix.EINVAL
	}
	return p.dir(loc.Parent)
}

// object resolves loc by GFID, or by parent and name if the GFID is not
// known.
func (p *Posix) object(loc *fop.Loc) (*object, error) {
	if loc.GFID.IsZero() && loc.Name != "" {
		pr, err := p.parentOf(loc)
		if err != nil {
			return nil, err
		}
		g, err := gfidAt(pr.fd, loc.Name, unix.AT_SYMLINK_NOFOLLOW)
		p.dirs.release(pr)
		if err == unix.ENODATA {
			err = unix.ENOENT
		}
		if err != nil {
			return nil, err
		}
		return p.resolve(g)
	}
	return p.resolve(loc.GFID)
}

// newGFID is the GFID a creating call gives its object: the one chosen
// above (so every replica agrees), else a fresh one.
func newGFID(loc *fop.Loc) fop.GFID {
	if !loc.GFID.IsZero() {
		return loc.GFID
	}
	return fop.NewGFID()
}

// isXattrKey tells xattr names in xdata from GlusterFS's other per-call
// keys.
func isXattrKey(k string) bool {
	for _, ns := range []string{"trusted.", "user.", "security.", "system."} {
		if strings.HasPrefix(k, ns) {
			return true
		}
	}
	return false
}

// adopt makes a just-created entry a volume object: its GFID, the xattrs
// the caller sent along, and its handle. Done as root (trusted.* and the
// .glusterfs tree are the brick's); on failure the entry is removed again
// so that no object without GFID is left behind. fd, if not -1, is an
// open fd of a non-directory entry.
func (p *Posix) adopt(pr *dirRef, parent fop.GFID, name string, g fop.GFID, isDir bool, fd int, xdata fop.Dict) error {
	err := p.stamp(pr, parent, name, g, isDir, fd, xdata)
	if err != nil {
		flags := 0
		if isDir {
			flags = unix.AT_REMOVEDIR
		}
		unix.Unlinkat(pr.fd, name, flags)
	}
	return err
}

func (p *Posix) stamp(pr *dirRef, parent fop.GFID, name string, g fop.GFID, isDir bool, fd int, xdata fop.Dict) error {
	err := stampXattrs(g, xdata, func(k string, v []byte, flags int) error {
		return setxattrat(pr.fd, name, unix.AT_SYMLINK_NOFOLLOW, k, v, flags)
	})
	if err != nil {
		return err
	}
	if isDir {
		return p.linkHandle(g, -1, dirHandleTarget(parent, name))
	}
	if fd < 0 {
		var err error
		fd, err = openBeneath(pr.fd, name, unix.O_PATH|unix.O_NOFOLLOW, true)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
	}
	return p.linkHandle(g, fd, "")
}

// entryGFID reads the GFID of pr/name; an object put on the brick behind
// our back gets one (gfid-req from xreq, else loc.GFID, else new).
func (p *Posix) entryGFID(pr *dirRef, loc *fop.Loc, isDir bool, xreq fop.Dict) (fop.GFID, error) {
	g, err := gfidAt(pr.fd, loc.Name, unix.AT_SYMLINK_NOFOLLOW)
	if err != unix.ENODATA {
		return g, err
	}
	g = newGFID(loc)
	if req := xreq["gfid-req"]; len(req) == len(g) {
		copy(g[:], req)
	}
	err = p.stamp(pr, loc.Parent, loc.Name, g, isDir, -1, nil)
	if err == unix.EEXIST { // stamped meanwhile
		return gfidAt(pr.fd, loc.Name, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return fop.GFID{}, err
	}
	p.log.Info("assigned gfid to unmanaged object", "parent", loc.Parent.String(), "name", loc.Name, "gfid", g.String())
	return g, nil
}

// Lookup resolves loc and returns the xattrs named in xreq.
func (p *Posix) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	if loc.Name == "" {
		o, err := p.resolve(loc.GFID)
		if err != nil {
			return fop.Attr{}, nil, fail("lookup", loc, err)
		}
		defer p.closeObject(o)
		a, err := statAt(o.g, o.fd, "")
		if err != nil {
			return fop.Attr{}, nil, fail("lookup", loc, err)
		}
		fd, path, flags := o.at()
		return a, requestedXattrs(fd, path, flags, xreq), nil
	}
	if loc.Parent == fop.RootGFID && loc.Name == gfidDir {
		return fop.Attr{}, nil, fail("lookup", loc, unix.ENOENT)
	}
	pr, err := p.parentOf(loc)
	if err != nil {
		return fop.Attr{}, nil, fail("lookup", loc, err)
	}
	defer p.dirs.release(pr)
	var st unix.Stat_t
	err = p.as(ctx, func() error { return unix.Fstatat(pr.fd, loc.Name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	if err == unix.ENOENT && parentStale(pr, xreq) {
		// Checked after the miss: the name was absent while the
		// parent still had the caller's value.
		err = unix.ESTALE
	}
	if err != nil {
		return fop.Attr{}, nil, fail("lookup", loc, err)
	}
	g, err := p.entryGFID(pr, loc, st.Mode&unix.S_IFMT == unix.S_IFDIR, xreq)
	if err != nil {
		return fop.Attr{}, nil, fail("lookup", loc, err)
	}
	x := requestedXattrs(pr.fd, loc.Name, unix.AT_SYMLINK_NOFOLLOW, xreq)
	return attrOf(g, &st), p.withContent(ctx, pr.fd, loc.Name, &st, xreq, x), nil
}

// requestedXattrs reads the xattrs named in xreq that exist.
func requestedXattrs(dirfd int, path string, flags int, xreq fop.Dict) fop.Dict {
	var out fop.Dict
	for k := range xreq {
		if !isXattrKey(k) {
			continue
		}
		v, err := getxattrAlloc(dirfd, path, flags, k)
		if err != nil {
			continue
		}
		if out == nil {
			out = fop.Dict{}
		}
		out[k] = v
	}
	return out
}

// created finishes an entry operation: the new object's attributes and
// its parent's.
func (p *Posix) created(op string, loc *fop.Loc, pr *dirRef, g fop.GFID) (obj, parent fop.Attr, err error) {
	if obj, err = statAt(g, pr.fd, loc.Name); err != nil {
		return obj, parent, fail(op, loc, err)
	}
	if parent, err = statAt(loc.Parent, pr.fd, ""); err != nil {
		return obj, parent, fail(op, loc, err)
	}
	return obj, parent, nil
}

// Mknod creates a fifo, socket or device node.
func (p *Posix) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	pr, err := p.parentOf(loc)
	if err != nil {
		return obj, parent, fail("mknod", loc, err)
	}
	defer p.dirs.release(pr)
	g := newGFID(loc)
	m := mode&unix.S_IFMT | mode&0o7777&^umask
	err = p.checkedCreate(pr, xdata, func() error {
		if err := p.as(ctx, func() error { return unix.Mknodat(pr.fd, loc.Name, m, int(rdev)) }); err != nil {
			return err
		}
		return p.adopt(pr, loc.Parent, loc.Name, g, false, -1, xdata)
	})
	if err != nil {
		return obj, parent, fail("mknod", loc, err)
	}
	return p.created("mknod", loc, pr, g)
}

// Mkdir creates a directory and its handle symlink.
func (p *Posix) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	pr, err := p.parentOf(loc)
	if err != nil {
		return obj, parent, fail("mkdir", loc, err)
	}
	defer p.dirs.release(pr)
	g := newGFID(loc)
	if err := p.as(ctx, func() error { return unix.Mkdirat(pr.fd, loc.Name, mode&0o7777&^umask) }); err != nil {
		return obj, parent, fail("mkdir", loc, err)
	}
	if err := p.adopt(pr, loc.Parent, loc.Name, g, true, -1, xdata); err != nil {
		return obj, parent, fail("mkdir", loc, err)
	}
	return p.created("mkdir", loc, pr, g)
}

// Symlink creates a symbolic link. The target is stored as given; it is
// never followed on the brick.
func (p *Posix) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	pr, err := p.parentOf(loc)
	if err != nil {
		return obj, parent, fail("symlink", loc, err)
	}
	defer p.dirs.release(pr)
	g := newGFID(loc)
	err = p.checkedCreate(pr, xdata, func() error {
		if err := p.as(ctx, func() error { return unix.Symlinkat(target, pr.fd, loc.Name) }); err != nil {
			return err
		}
		return p.adopt(pr, loc.Parent, loc.Name, g, false, -1, xdata)
	})
	if err != nil {
		return obj, parent, fail("symlink", loc, err)
	}
	return p.created("symlink", loc, pr, g)
}

// Create creates (or, without O_EXCL, opens) a regular file and opens fd
// on it.
func (p *Posix) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	pr, err := p.parentOf(loc)
	if err != nil {
		return obj, parent, fail("create", loc, err)
	}
	defer p.dirs.release(pr)
	g := newGFID(loc)
	of := openFlags(flags) | unix.O_NOFOLLOW
	perm := mode & 0o7777 &^ umask
	f := -1
	err = p.checkedCreate(pr, xdata, func() (err error) {
		f, err = p.createTmpfile(ctx, pr, loc.Name, g, of, perm, xdata)
		if err != errNoTmpfile {
			return err
		}
		err = p.as(ctx, func() (err error) {
			f, err = unix.Openat(pr.fd, loc.Name, of|unix.O_CREAT|unix.O_EXCL, perm)
			return err
		})
		if err == nil {
			if err = p.adopt(pr, loc.Parent, loc.Name, g, false, f, xdata); err != nil {
				unix.Close(f)
			}
		}
		return err
	})
	switch {
	case err == unix.EEXIST && flags&unix.O_EXCL == 0:
		if err := p.as(ctx, func() (err error) { f, err = unix.Openat(pr.fd, loc.Name, of, 0); return err }); err != nil {
			return obj, parent, fail("create", loc, err)
		}
		if g, err = p.entryGFID(pr, loc, false, xdata); err != nil {
			unix.Close(f)
			return obj, parent, fail("create", loc, err)
		}
	case err != nil:
		return obj, parent, fail("create", loc, err)
	}
	if obj, err = statAt(g, f, ""); err != nil {
		unix.Close(f)
		return obj, parent, fail("create", loc, err)
	}
	if parent, err = statAt(loc.Parent, pr.fd, ""); err != nil {
		unix.Close(f)
		return obj, parent, fail("create", loc, err)
	}
	p.bind(fd, g, &openFile{fd: f, g: g})
	return obj, parent, nil
}

// errNoTmpfile says createTmpfile did nothing: the caller creates the
// classic way.
var errNoTmpfile = errors.New("no O_TMPFILE")

// createTmpfile creates name in pr as a complete object in one step: an
// unnamed file (O_TMPFILE, as the caller, so the kernel checks the right
// to create in pr and sets owner, group and default ACL) gets its GFID and
// xattrs, then is linked under name, which fails with EEXIST if the name
// exists, and last gets its handle. A lookup can thus never see the name
// without its GFID and stamp a second one (as it could between open and
// setxattr). It returns errNoTmpfile if the file system lacks O_TMPFILE or
// refuses it, so that the classic create gives the usual errno.
func (p *Posix) createTmpfile(ctx context.Context, pr *dirRef, name string, g fop.GFID, flags int, perm uint32, xdata fop.Dict) (int, error) {
	acc := flags & unix.O_ACCMODE
	tflags := flags | unix.O_TMPFILE
	if acc == unix.O_RDONLY {
		tflags = tflags&^unix.O_ACCMODE | unix.O_RDWR // O_TMPFILE needs write access
	}
	var f int
	err := p.as(ctx, func() (err error) { f, err = unix.Openat(pr.fd, ".", tflags, perm); return err })
	if err != nil {
		return -1, errNoTmpfile
	}
	if err = stampFD(f, g, xdata); err == nil {
		err = unix.Linkat(f, "", pr.fd, name, unix.AT_EMPTY_PATH)
	}
	if err != nil {
		unix.Close(f)
		return -1, err
	}
	if err = p.linkHandle(g, f, ""); err != nil {
		unix.Close(f)
		unix.Unlinkat(pr.fd, name, 0)
		return -1, err
	}
	if acc != unix.O_RDONLY {
		return f, nil
	}
	// The creator may read what it created, whatever the mode: reopen as
	// root with the access asked for.
	rf, err := unix.Open(procPath(f), flags&^unix.O_NOFOLLOW, 0)
	unix.Close(f)
	if err != nil {
		unix.Unlinkat(pr.fd, name, 0)
		p.dropHandle(g, false)
		return -1, err
	}
	return rf, nil
}

// stampFD sets the GFID and the xattrs sent along on an open file.
func stampFD(f int, g fop.GFID, xdata fop.Dict) error {
	return stampXattrs(g, xdata, func(k string, v []byte, flags int) error { return unix.Fsetxattr(f, k, v, flags) })
}

// stampXattrs sets the GFID (which must be new) and the xattrs in xdata
// through set.
func stampXattrs(g fop.GFID, xdata fop.Dict, set func(k string, v []byte, flags int) error) error {
	if err := set(xattrGFID, g[:], unix.XATTR_CREATE); err != nil {
		return err
	}
	checked, _, _ := fop.PreopParent(xdata)
	for k, v := range xdata {
		if !isXattrKey(k) || k == xattrGFID || k == checked {
			continue
		}
		if err := set(k, v, 0); err != nil {
			return err
		}
	}
	return nil
}

// Link adds the name new for the object old.
func (p *Posix) Link(ctx context.Context, old, new *fop.Loc) (obj, parent fop.Attr, err error) {
	o, err := p.object(old)
	if err != nil {
		return obj, parent, fail("link", old, err)
	}
	defer p.closeObject(o)
	if o.dir != nil {
		return obj, parent, fail("link", old, unix.EPERM)
	}
	pr, err := p.parentOf(new)
	if err != nil {
		return obj, parent, fail("link", new, err)
	}
	defer p.dirs.release(pr)
	// Through /proc the kernel links the inode we hold, with the caller's
	// rights on it (protected_hardlinks), not through .glusterfs.
	err = p.as(ctx, func() error {
		return unix.Linkat(unix.AT_FDCWD, procPath(o.fd), pr.fd, new.Name, unix.AT_SYMLINK_FOLLOW)
	})
	if err != nil {
		return obj, parent, fail("link", new, err)
	}
	return p.created("link", new, pr, o.g)
}

// Unlink removes a name; the handle goes with the last name.
func (p *Posix) Unlink(ctx context.Context, loc *fop.Loc) (parent fop.Attr, err error) {
	return p.remove(ctx, "unlink", loc, false)
}

// Rmdir removes an empty directory and its handle.
func (p *Posix) Rmdir(ctx context.Context, loc *fop.Loc) (parent fop.Attr, err error) {
	return p.remove(ctx, "rmdir", loc, true)
}

func (p *Posix) remove(ctx context.Context, op string, loc *fop.Loc, isDir bool) (parent fop.Attr, err error) {
	pr, err := p.parentOf(loc)
	if err != nil {
		return parent, fail(op, loc, err)
	}
	defer p.dirs.release(pr)
	g, gerr := gfidAt(pr.fd, loc.Name, unix.AT_SYMLINK_NOFOLLOW)
	flags := 0
	if isDir {
		flags = unix.AT_REMOVEDIR
	}
	if err := p.as(ctx, func() error { return unix.Unlinkat(pr.fd, loc.Name, flags) }); err != nil {
		return parent, fail(op, loc, err)
	}
	if gerr == nil {
		if err := p.dropHandle(g, isDir); err != nil {
			p.log.Warn("drop handle", "op", op, "gfid", g.String(), "err", err)
		}
	}
	if parent, err = statAt(loc.Parent, pr.fd, ""); err != nil {
		return parent, fail(op, loc, err)
	}
	return parent, nil
}

// entryInfo is what rename needs to know of a name before it moves.
type entryInfo struct {
	exists bool
	g      fop.GFID
	gerr   error
	st     unix.Stat_t
}

func (e *entryInfo) isDir() bool { return e.st.Mode&unix.S_IFMT == unix.S_IFDIR }

func readEntry(pr *dirRef, name string) entryInfo {
	var e entryInfo
	if unix.Fstatat(pr.fd, name, &e.st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return e
	}
	e.exists = true
	e.g, e.gerr = gfidAt(pr.fd, name, unix.AT_SYMLINK_NOFOLLOW)
	return e
}

// Rename moves old to new (renameat2 flags) and keeps handles right: a
// moved directory's handle symlink is rewritten, a replaced object loses
// its handle.
func (p *Posix) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (obj, oldParent, newParent fop.Attr, err error) {
	opr, err := p.parentOf(old)
	if err != nil {
		return obj, oldParent, newParent, fail("rename", old, err)
	}
	defer p.dirs.release(opr)
	npr, err := p.parentOf(new)
	if err != nil {
		return obj, oldParent, newParent, fail("rename", new, err)
	}
	defer p.dirs.release(npr)
	src := readEntry(opr, old.Name)
	dst := readEntry(npr, new.Name)
	err = p.as(ctx, func() error { return unix.Renameat2(opr.fd, old.Name, npr.fd, new.Name, uint(flags)) })
	if err != nil {
		return obj, oldParent, newParent, fail("rename", old, err)
	}
	if src.exists && src.gerr == nil && src.isDir() {
		if err := p.setDirHandle(src.g, new.Parent, new.Name); err != nil {
			p.log.Warn("rewrite dir handle", "gfid", src.g.String(), "err", err)
		}
	}
	same := src.st.Ino == dst.st.Ino && src.st.Dev == dst.st.Dev
	if dst.exists && dst.gerr == nil && !same {
		var err error
		switch {
		case flags&unix.RENAME_EXCHANGE != 0 && dst.isDir():
			err = p.setDirHandle(dst.g, old.Parent, old.Name)
		case flags&unix.RENAME_EXCHANGE == 0:
			err = p.dropHandle(dst.g, dst.isDir())
		}
		if err != nil {
			p.log.Warn("handle of rename target", "gfid", dst.g.String(), "err", err)
		}
	}
	if obj, err = statAt(src.g, npr.fd, new.Name); err != nil {
		return obj, oldParent, newParent, fail("rename", new, err)
	}
	if oldParent, err = statAt(old.Parent, opr.fd, ""); err != nil {
		return obj, oldParent, newParent, fail("rename", old, err)
	}
	if newParent, err = statAt(new.Parent, npr.fd, ""); err != nil {
		return obj, oldParent, newParent, fail("rename", new, err)
	}
	return obj, oldParent, newParent, nil
}
