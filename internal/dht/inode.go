package dht

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// target is where an operation on one object goes: the child holding a
// file, or, for a directory, the first child that is up (reads) or every
// child (changes).
type target struct {
	dir   bool
	child int
}

func (d *DHT) locTarget(ctx context.Context, loc *fop.Loc) (target, error) {
	in := d.inode(loc.GFID)
	if !in.isDir() && in.cachedChild() < 0 {
		if _, _, err := d.Lookup(ctx, &fop.Loc{GFID: loc.GFID, Path: loc.Path}, nil); err != nil {
			return target{}, err
		}
	}
	if in.isDir() || loc.GFID == fop.RootGFID {
		return target{dir: true, child: d.firstUp()}, nil
	}
	c := in.cachedChild()
	if c < 0 {
		return target{}, syscall.ENOENT
	}
	if !d.isUp(c) {
		return target{}, syscall.ENOTCONN
	}
	return target{child: c}, nil
}

func (d *DHT) fdTarget(fd *fop.FD) (target, error) {
	v, ok := fd.Ctx(d)
	if !ok {
		return target{}, syscall.EBADF
	}
	switch s := v.(type) {
	case *fileFD:
		c := s.current()
		if !d.isUp(c) {
			return target{}, syscall.ENOTCONN
		}
		return target{child: c}, nil
	case *dirFD:
		return target{dir: true, child: s.first}, nil
	}
	return target{}, syscall.EBADF
}

// onAll applies a change to every up child of a directory and reports the
// first child's result; a child that is down is healed by lookup later.
func onAll[T any](d *DHT, t target, fn func(c fop.Layer) (T, error)) (T, error) {
	if !t.dir {
		return fn(d.children[t.child])
	}
	res := make([]T, len(d.children))
	errs := d.fanout(func(i int, c fop.Layer) error {
		if !d.isUp(i) {
			return errChildDown
		}
		var err error
		res[i], err = fn(c)
		return err
	})
	first := d.firstUp()
	if errs[first] != nil {
		return res[first], errs[first]
	}
	for i, err := range errs {
		if err != nil && fop.Errno(err) != syscall.ENOTCONN {
			return res[i], err
		}
	}
	return res[first], nil
}

func onOne[T any](d *DHT, t target, fn func(c fop.Layer) (T, error)) (T, error) {
	return fn(d.children[t.child])
}

type none struct{}

func viaLoc[T any](d *DHT, ctx context.Context, loc *fop.Loc, all bool, fn func(c fop.Layer) (T, error)) (T, error) {
	t, err := d.locTarget(ctx, loc)
	if err != nil {
		var zero T
		return zero, err
	}
	if all {
		return onAll(d, t, fn)
	}
	res, err := onOne(d, t, fn)
	if e := fop.Errno(err); !t.dir && (e == syscall.ENOENT || e == syscall.ESTALE) {
		// The file may have been migrated to another child since we
		// last saw it: find it anew and retry once.
		d.inode(loc.GFID).setCached(-1)
		if t2, err2 := d.locTarget(ctx, loc); err2 == nil && t2.child != t.child {
			return onOne(d, t2, fn)
		}
	}
	return res, err
}

func viaFD[T any](d *DHT, fd *fop.FD, all bool, fn func(c fop.Layer) (T, error)) (T, error) {
	t, err := d.fdTarget(fd)
	if err != nil {
		var zero T
		return zero, err
	}
	if all {
		return onAll(d, t, fn)
	}
	return onOne(d, t, fn)
}

func errOnly(err error) (none, error) { return none{}, err }

// Stat reads from the file's child or a directory's first up child.
func (d *DHT) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	a, err := viaLoc(d, ctx, loc, false, func(c fop.Layer) (fop.Attr, error) { return c.Stat(ctx, loc) })
	return hideMarkers(a), err
}

// Fstat reads through an open FD.
func (d *DHT) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	a, err := viaFD(d, fd, false, func(c fop.Layer) (fop.Attr, error) { return c.Fstat(ctx, fd) })
	return hideMarkers(a), err
}

// Setattr changes a file, or a directory on every child.
func (d *DHT) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	a, err := viaLoc(d, ctx, loc, true, func(c fop.Layer) (fop.Attr, error) {
		return c.Setattr(ctx, loc, d.keepMarkers(ctx, c, loc.GFID, set))
	})
	return hideMarkers(a), err
}

// Fsetattr changes through an open FD.
func (d *DHT) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	a, err := viaFD(d, fd, true, func(c fop.Layer) (fop.Attr, error) {
		return c.Fsetattr(ctx, fd, d.keepMarkers(ctx, c, fd.GFID, set))
	})
	return hideMarkers(a), err
}

// Truncate resizes a file; during its migration, on both children (an
// FD-less truncate opens the file for the replay).
func (d *DHT) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	a, err := viaLoc(d, ctx, loc, false, func(c fop.Layer) (fop.Attr, error) { return c.Truncate(ctx, loc, size) })
	if err != nil || !migrating(&a) {
		return hideMarkers(a), err
	}
	fd := fop.NewFD(a.GFID, syscall.O_RDWR)
	if err := d.Open(ctx, loc, syscall.O_RDWR, fd); err != nil {
		return fop.Attr{}, err
	}
	defer d.Release(context.WithoutCancel(ctx), fd)
	return d.Ftruncate(ctx, fd, size)
}

// Ftruncate resizes through an open FD.
func (d *DHT) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	return d.dataOp(ctx, fd, 0, 0, func(c fop.Layer) (fop.Attr, error) { return c.Ftruncate(ctx, fd, size) })
}

// Access checks permissions where the object lives.
func (d *DHT) Access(ctx context.Context, loc *fop.Loc, mask uint32) error {
	_, err := viaLoc(d, ctx, loc, false, func(c fop.Layer) (none, error) { return errOnly(c.Access(ctx, loc, mask)) })
	return err
}

// Readlink reads a symlink.
func (d *DHT) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	return viaLoc(d, ctx, loc, false, func(c fop.Layer) (string, error) { return c.Readlink(ctx, loc) })
}

// Open opens a file on the child holding it; a directory on every child.
// O_TRUNC becomes a truncate after the open, so that a file being
// migrated is truncated on both children (see migrate.go).
func (d *DHT) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	t, err := d.locTarget(ctx, loc)
	if err != nil {
		return err
	}
	if t.dir {
		return d.Opendir(ctx, loc, fd)
	}
	cflags := flags &^ syscall.O_TRUNC
	if err := d.children[t.child].Open(ctx, loc, cflags, fd); err != nil {
		if e := fop.Errno(err); e != syscall.ENOENT && e != syscall.ESTALE {
			return err
		}
		// Migrated since we last saw it: find it anew and retry once.
		d.inode(loc.GFID).setCached(-1)
		if t, err = d.locTarget(ctx, loc); err != nil {
			return err
		}
		if err := d.children[t.child].Open(ctx, loc, cflags, fd); err != nil {
			return err
		}
	}
	fd.SetCtx(d, newFileFD(t.child))
	if flags&syscall.O_TRUNC != 0 && flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		if _, err := d.Ftruncate(ctx, fd, 0); err != nil {
			d.Release(context.WithoutCancel(ctx), fd)
			return err
		}
	}
	return nil
}

// Read reads from the child holding the file.
func (d *DHT) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	return viaFD(d, fd, false, func(c fop.Layer) (int, error) { return c.Read(ctx, fd, buf, off) })
}

type writeRes struct {
	n int
	a fop.Attr
}

// Write writes to the child holding the file, and during its migration
// to the destination too (see migrate.go).
func (d *DHT) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	r, err := viaFD(d, fd, false, func(c fop.Layer) (writeRes, error) {
		n, a, err := c.Write(ctx, fd, data, off)
		return writeRes{n, a}, err
	})
	if err != nil || !redirected(&r.a) {
		return r.n, hideMarkers(r.a), err
	}
	if fd.Flags&syscall.O_APPEND != 0 {
		// The brick wrote at its end of file, whatever off said.
		off = int64(r.a.Size) - int64(r.n)
	}
	a, err := d.replay(ctx, fd, r.a, off, int64(r.n), func(c fop.Layer) (fop.Attr, error) {
		_, a, err := c.Write(ctx, fd, data[:r.n], off)
		return a, err
	})
	return r.n, a, err
}

// Flush flushes on the file's child.
func (d *DHT) Flush(ctx context.Context, fd *fop.FD) error {
	_, err := viaFD(d, fd, false, func(c fop.Layer) (none, error) { return errOnly(c.Flush(ctx, fd)) })
	return err
}

// Fsync syncs on the file's child.
func (d *DHT) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	return viaFD(d, fd, false, func(c fop.Layer) (fop.Attr, error) { return c.Fsync(ctx, fd, datasync) })
}

// Release closes the FD on the child (or children) it was opened on.
func (d *DHT) Release(ctx context.Context, fd *fop.FD) error {
	t, err := d.fdTarget(fd)
	if err != nil {
		return nil
	}
	if t.dir {
		return d.Releasedir(ctx, fd)
	}
	if v, ok := fd.Ctx(d); ok {
		if f, ok := v.(*fileFD); ok {
			f.releaseOthers(ctx, d, fd, t.child)
		}
	}
	fd.DelCtx(d)
	return d.children[t.child].Release(ctx, fd)
}

// Opendir opens the directory on every up child; listings of directory
// entries come from the first of them.
func (d *DHT) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	errs := d.fanout(func(i int, c fop.Layer) error {
		if !d.isUp(i) {
			return errChildDown
		}
		return c.Opendir(ctx, loc, fd)
	})
	first := -1
	for i, err := range errs {
		if err == nil {
			first = i
			break
		}
	}
	if first < 0 {
		return firstErr(errs)
	}
	opened := make([]bool, len(errs))
	for i, err := range errs {
		opened[i] = err == nil
	}
	fd.SetCtx(d, &dirFD{first: first, opened: opened})
	return nil
}

// Fsyncdir syncs the directory on every child.
func (d *DHT) Fsyncdir(ctx context.Context, fd *fop.FD, datasync bool) error {
	_, err := viaFD(d, fd, true, func(c fop.Layer) (none, error) { return errOnly(c.Fsyncdir(ctx, fd, datasync)) })
	return err
}

// Releasedir closes the directory on every child it was opened on.
func (d *DHT) Releasedir(ctx context.Context, fd *fop.FD) error {
	v, _ := fd.Ctx(d)
	st, _ := v.(*dirFD)
	d.fanout(func(i int, c fop.Layer) error {
		if st == nil || !st.opened[i] {
			return nil
		}
		return c.Releasedir(ctx, fd)
	})
	fd.DelCtx(d)
	return nil
}

// Statfs sums the children, in the first child's block size.
func (d *DHT) Statfs(ctx context.Context, loc *fop.Loc) (fop.Statfs, error) {
	res := make([]fop.Statfs, len(d.children))
	errs := d.fanout(func(i int, c fop.Layer) error {
		if !d.isUp(i) {
			return errChildDown
		}
		var err error
		res[i], err = c.Statfs(ctx, loc)
		return err
	})
	var sum fop.Statfs
	ok := false
	for i, st := range res {
		if errs[i] != nil {
			continue
		}
		if !ok {
			sum = fop.Statfs{Bsize: st.Bsize, Frsize: st.Frsize, Namemax: st.Namemax}
			ok = true
		}
		scale := func(v uint64) uint64 {
			if sum.Frsize == 0 || st.Frsize == sum.Frsize {
				return v
			}
			return v * st.Frsize / sum.Frsize
		}
		sum.Blocks += scale(st.Blocks)
		sum.Bfree += scale(st.Bfree)
		sum.Bavail += scale(st.Bavail)
		sum.Files += st.Files
		sum.Ffree += st.Ffree
		if st.Namemax < sum.Namemax {
			sum.Namemax = st.Namemax
		}
	}
	if !ok {
		return sum, firstErr(errs)
	}
	return sum, nil
}

// Getxattr reads from the object's child.
func (d *DHT) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	return viaLoc(d, ctx, loc, false, func(c fop.Layer) (fop.Dict, error) { return c.Getxattr(ctx, loc, name) })
}

// Fgetxattr reads through an open FD.
func (d *DHT) Fgetxattr(ctx context.Context, fd *fop.FD, name string) (fop.Dict, error) {
	return viaFD(d, fd, false, func(c fop.Layer) (fop.Dict, error) { return c.Fgetxattr(ctx, fd, name) })
}

// Setxattr sets on a file, or on a directory on every child.
func (d *DHT) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	_, err := viaLoc(d, ctx, loc, true, func(c fop.Layer) (none, error) { return errOnly(c.Setxattr(ctx, loc, xattrs, flags)) })
	return err
}

// Fsetxattr sets through an open FD.
func (d *DHT) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	_, err := viaFD(d, fd, true, func(c fop.Layer) (none, error) { return errOnly(c.Fsetxattr(ctx, fd, xattrs, flags)) })
	return err
}

// Removexattr removes from a file, or a directory on every child.
func (d *DHT) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	_, err := viaLoc(d, ctx, loc, true, func(c fop.Layer) (none, error) { return errOnly(c.Removexattr(ctx, loc, name)) })
	return err
}

// Fremovexattr removes through an open FD.
func (d *DHT) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	_, err := viaFD(d, fd, true, func(c fop.Layer) (none, error) { return errOnly(c.Fremovexattr(ctx, fd, name)) })
	return err
}

// Xattrop updates counters on the object's child (the first for a
// directory: cluster layers below keep their own per-brick counters).
func (d *DHT) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	return viaLoc(d, ctx, loc, false, func(c fop.Layer) (fop.Dict, error) { return c.Xattrop(ctx, loc, op, xattrs) })
}

// Fxattrop updates counters through an open FD.
func (d *DHT) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	return viaFD(d, fd, false, func(c fop.Layer) (fop.Dict, error) { return c.Fxattrop(ctx, fd, op, xattrs) })
}

// Lk takes application locks where the file lives.
func (d *DHT) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	return viaFD(d, fd, false, func(c fop.Layer) (fop.Flock, error) { return c.Lk(ctx, fd, cmd, lock) })
}

// Inodelk locks on the object's child.
func (d *DHT) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	_, err := viaLoc(d, ctx, loc, false, func(c fop.Layer) (none, error) { return errOnly(c.Inodelk(ctx, domain, loc, cmd, lock)) })
	return err
}

// Finodelk locks through an open FD.
func (d *DHT) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	_, err := viaFD(d, fd, false, func(c fop.Layer) (none, error) { return errOnly(c.Finodelk(ctx, domain, fd, cmd, lock)) })
	return err
}

// Entrylk locks a name on the directory's first child.
func (d *DHT) Entrylk(ctx context.Context, domain string, loc *fop.Loc, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	_, err := viaLoc(d, ctx, loc, false, func(c fop.Layer) (none, error) {
		return errOnly(c.Entrylk(ctx, domain, loc, name, cmd, typ))
	})
	return err
}

// Fentrylk locks a name through an open directory.
func (d *DHT) Fentrylk(ctx context.Context, domain string, fd *fop.FD, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	_, err := viaFD(d, fd, false, func(c fop.Layer) (none, error) {
		return errOnly(c.Fentrylk(ctx, domain, fd, name, cmd, typ))
	})
	return err
}

// Fallocate allocates on the file's child.
func (d *DHT) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	return d.dataOp(ctx, fd, off, length, func(c fop.Layer) (fop.Attr, error) { return c.Fallocate(ctx, fd, mode, off, length) })
}

// Discard punches a hole on the file's child.
func (d *DHT) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return d.dataOp(ctx, fd, off, length, func(c fop.Layer) (fop.Attr, error) { return c.Discard(ctx, fd, off, length) })
}

// Zerofill zeroes a range on the file's child.
func (d *DHT) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return d.dataOp(ctx, fd, off, length, func(c fop.Layer) (fop.Attr, error) { return c.Zerofill(ctx, fd, off, length) })
}

// Seek finds data or holes on the file's child.
func (d *DHT) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	return viaFD(d, fd, false, func(c fop.Layer) (int64, error) { return c.Seek(ctx, fd, off, whence) })
}

type sumRes struct {
	weak   uint32
	strong []byte
}

// Rchecksum checksums on the file's child.
func (d *DHT) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (uint32, []byte, error) {
	r, err := viaFD(d, fd, false, func(c fop.Layer) (sumRes, error) {
		w, s, err := c.Rchecksum(ctx, fd, off, length)
		return sumRes{w, s}, err
	})
	return r.weak, r.strong, err
}

// ForgetClient has no per-client state in DHT; it passes to every child.
func (d *DHT) ForgetClient(client string) {
	for _, c := range d.children {
		if f, ok := c.(fop.ClientForgetter); ok {
			f.ForgetClient(client)
		}
	}
}
