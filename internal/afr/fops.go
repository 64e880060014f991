package afr

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

var _ fop.Layer = (*AFR)(nil)

// readFrom runs a read-only call on the replica chosen for g, and on the
// next readable one if that replica has gone. When no replica it knows
// as good is left, it reads the changelog again once (a heal elsewhere
// may have made another replica good) before giving up.
func readFrom[T any](ctx context.Context, r *AFR, g fop.GFID, meta bool, fn func(c fop.Layer) (T, error)) (T, error) {
	var zero T
	tried := make([]bool, len(r.children))
	refreshed := false
	for {
		i := r.readChild(g, meta)
		for i >= 0 && tried[i] {
			i = r.nextReadable(g, meta, tried)
		}
		if i < 0 && !refreshed {
			refreshed = true
			if r.refresh(ctx, g) {
				clear(tried)
				continue
			}
		}
		if i < 0 {
			if r.splitBrain(g, meta) {
				return zero, errSplitBrain
			}
			return zero, syscall.ENOTCONN
		}
		tried[i] = true
		v, err := fn(r.children[i])
		if fop.Errno(err) != syscall.ENOTCONN {
			return v, err
		}
	}
}

func (r *AFR) nextReadable(g fop.GFID, meta bool, tried []bool) int {
	up := r.upSet()
	in := r.inode(g)
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range r.children {
		if up[i] && !tried[i] && in.canRead(i, meta) && (meta || in.dir || !r.isArbiter(i)) {
			return i
		}
	}
	return -1
}

// splitBrain reports whether no replica of g may be trusted.
func (r *AFR) splitBrain(g fop.GFID, meta bool) bool {
	in := r.inode(g)
	in.mu.Lock()
	defer in.mu.Unlock()
	ok := in.readable
	if meta {
		ok = in.metaOK
	}
	return ok != nil && count(ok) == 0
}

type none struct{}

func errOnly(err error) (none, error) { return none{}, err }

// Stat reads from a replica whose data is good (its size is the truth).
func (r *AFR) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return readFrom(ctx, r, loc.GFID, false, func(c fop.Layer) (fop.Attr, error) { return c.Stat(ctx, loc) })
}

// Fstat reads through an open FD.
func (r *AFR) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	return readFrom(ctx, r, fd.GFID, false, func(c fop.Layer) (fop.Attr, error) { return c.Fstat(ctx, fd) })
}

// Access checks permissions on a replica with good metadata.
func (r *AFR) Access(ctx context.Context, loc *fop.Loc, mask uint32) error {
	_, err := readFrom(ctx, r, loc.GFID, true, func(c fop.Layer) (none, error) { return errOnly(c.Access(ctx, loc, mask)) })
	return err
}

// Readlink reads a symlink.
func (r *AFR) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	return readFrom(ctx, r, loc.GFID, false, func(c fop.Layer) (string, error) { return c.Readlink(ctx, loc) })
}

// Getxattr reads from a replica with good metadata.
func (r *AFR) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	return readFrom(ctx, r, loc.GFID, true, func(c fop.Layer) (fop.Dict, error) { return c.Getxattr(ctx, loc, name) })
}

// Fgetxattr reads through an open FD.
func (r *AFR) Fgetxattr(ctx context.Context, fd *fop.FD, name string) (fop.Dict, error) {
	return readFrom(ctx, r, fd.GFID, true, func(c fop.Layer) (fop.Dict, error) { return c.Fgetxattr(ctx, fd, name) })
}

// Seek answers from one good replica.
func (r *AFR) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	return readFrom(ctx, r, fd.GFID, false, func(c fop.Layer) (int64, error) { return c.Seek(ctx, fd, off, whence) })
}

type sum struct {
	weak   uint32
	strong []byte
}

// Rchecksum checksums on one good replica.
func (r *AFR) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (uint32, []byte, error) {
	s, err := readFrom(ctx, r, fd.GFID, false, func(c fop.Layer) (sum, error) {
		w, st, err := c.Rchecksum(ctx, fd, off, length)
		return sum{w, st}, err
	})
	return s.weak, s.strong, err
}

// Statfs answers from one replica that is up.
func (r *AFR) Statfs(ctx context.Context, loc *fop.Loc) (fop.Statfs, error) {
	up := r.upSet()
	var err error = syscall.ENOTCONN
	for i, c := range r.children {
		if !up[i] {
			continue
		}
		var st fop.Statfs
		if st, err = c.Statfs(ctx, loc); fop.Errno(err) != syscall.ENOTCONN {
			return st, err
		}
	}
	return fop.Statfs{}, err
}

// metaTxn runs a metadata change on every replica.
func metaTxn[T any](r *AFR, ctx context.Context, g fop.GFID, fn func(c fop.Layer) (T, error)) (T, error) {
	loc := &fop.Loc{GFID: g}
	res := make([]T, len(r.children))
	_, first, err := r.txn(ctx, metadataTxn, lockSpec{inode: loc, domain: r.metaDomain()}, []*fop.Loc{loc}, func(i int, c fop.Layer) error {
		var err error
		res[i], err = fn(c)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return res[first], nil
}

// Setattr changes metadata on every replica.
func (r *AFR) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	return metaTxn(r, ctx, loc.GFID, func(c fop.Layer) (fop.Attr, error) { return c.Setattr(ctx, loc, set) })
}

// Fsetattr changes metadata through an open FD.
func (r *AFR) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	return metaTxn(r, ctx, fd.GFID, func(c fop.Layer) (fop.Attr, error) { return c.Fsetattr(ctx, fd, set) })
}

// Setxattr sets xattrs on every replica.
func (r *AFR) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	_, err := metaTxn(r, ctx, loc.GFID, func(c fop.Layer) (none, error) { return errOnly(c.Setxattr(ctx, loc, xattrs, flags)) })
	return err
}

// Fsetxattr sets xattrs through an open FD.
func (r *AFR) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	_, err := metaTxn(r, ctx, fd.GFID, func(c fop.Layer) (none, error) { return errOnly(c.Fsetxattr(ctx, fd, xattrs, flags)) })
	return err
}

// Removexattr removes an xattr on every replica.
func (r *AFR) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	_, err := metaTxn(r, ctx, loc.GFID, func(c fop.Layer) (none, error) { return errOnly(c.Removexattr(ctx, loc, name)) })
	return err
}

// Fremovexattr removes an xattr through an open FD.
func (r *AFR) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	_, err := metaTxn(r, ctx, fd.GFID, func(c fop.Layer) (none, error) { return errOnly(c.Fremovexattr(ctx, fd, name)) })
	return err
}

// Truncate resizes the file on every replica.
func (r *AFR) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	res := make([]fop.Attr, len(r.children))
	target := &fop.Loc{GFID: loc.GFID}
	_, first, err := r.txn(ctx, dataTxn, lockSpec{inode: target, domain: r.dataDomain()}, []*fop.Loc{target}, func(i int, c fop.Layer) error {
		var err error
		res[i], err = c.Truncate(ctx, loc, size)
		return err
	})
	if err != nil {
		return fop.Attr{}, err
	}
	return res[first], nil
}

// onAllUp runs a call that is not part of the changelog (internal locks,
// counters of layers above) on every replica that is up.
func onAllUp[T any](r *AFR, fn func(c fop.Layer) (T, error)) (T, error) {
	res := make([]T, len(r.children))
	up := r.upSet()
	errs := r.each(up, func(i int, c fop.Layer) error {
		var err error
		res[i], err = fn(c)
		return err
	})
	for i := range r.children {
		if up[i] && errs[i] == nil {
			return res[i], nil
		}
	}
	var zero T
	return zero, pickErr(errs, up)
}

// Xattrop applies counters of the layers above on every replica.
func (r *AFR) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	return onAllUp(r, func(c fop.Layer) (fop.Dict, error) { return c.Xattrop(ctx, loc, op, xattrs) })
}

// Fxattrop applies counters through an open FD.
func (r *AFR) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	return onAllUp(r, func(c fop.Layer) (fop.Dict, error) { return c.Fxattrop(ctx, fd, op, xattrs) })
}

// inOrder runs a blocking lock call on each replica that is up, one after
// another in replica order (so two clients cannot deadlock), undoing the
// ones taken if a later replica refuses.
func (r *AFR) inOrder(lock func(c fop.Layer) error, undo func(c fop.Layer)) error {
	up := r.upSet()
	var taken []fop.Layer
	var err error = syscall.ENOTCONN
	for i, c := range r.children {
		if !up[i] {
			continue
		}
		if err = lock(c); err != nil && fop.Errno(err) != syscall.ENOTCONN {
			for _, t := range taken {
				undo(t)
			}
			return err
		}
		if err == nil {
			taken = append(taken, c)
		}
	}
	if len(taken) == 0 {
		return err
	}
	return nil
}

// Inodelk takes an internal lock of the layers above on every replica.
func (r *AFR) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	return r.inOrder(func(c fop.Layer) error { return c.Inodelk(ctx, domain, loc, cmd, lock) },
		func(c fop.Layer) {
			c.Inodelk(ctx, domain, loc, fop.SetLk, &fop.Flock{Type: syscall.F_UNLCK, Start: lock.Start, Len: lock.Len})
		})
}

// Finodelk takes an internal lock through an open FD.
func (r *AFR) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	return r.inOrder(func(c fop.Layer) error { return c.Finodelk(ctx, domain, fd, cmd, lock) },
		func(c fop.Layer) {
			c.Finodelk(ctx, domain, fd, fop.SetLk, &fop.Flock{Type: syscall.F_UNLCK, Start: lock.Start, Len: lock.Len})
		})
}

// Entrylk takes an internal entry lock on every replica.
func (r *AFR) Entrylk(ctx context.Context, domain string, loc *fop.Loc, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	return r.inOrder(func(c fop.Layer) error { return c.Entrylk(ctx, domain, loc, name, cmd, typ) },
		func(c fop.Layer) { c.Entrylk(ctx, domain, loc, name, fop.EntryUnlock, typ) })
}

// Fentrylk takes an internal entry lock through an open directory.
func (r *AFR) Fentrylk(ctx context.Context, domain string, fd *fop.FD, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	return r.inOrder(func(c fop.Layer) error { return c.Fentrylk(ctx, domain, fd, name, cmd, typ) },
		func(c fop.Layer) { c.Fentrylk(ctx, domain, fd, name, fop.EntryUnlock, typ) })
}

// Lk takes an application's byte-range lock on every replica, so that it
// holds while any replica survives. GETLK asks one.
func (r *AFR) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	if cmd == fop.GetLk {
		return readFrom(ctx, r, fd.GFID, false, func(c fop.Layer) (fop.Flock, error) { return c.Lk(ctx, fd, cmd, lock) })
	}
	var out fop.Flock
	err := r.inOrder(func(c fop.Layer) error {
		var err error
		out, err = c.Lk(ctx, fd, cmd, lock)
		return err
	}, func(c fop.Layer) {
		c.Lk(ctx, fd, fop.SetLk, &fop.Flock{Type: syscall.F_UNLCK, Start: lock.Start, Len: lock.Len, PID: lock.PID, Owner: lock.Owner, Client: lock.Client})
	})
	return out, err
}

// ForgetClient passes to every replica.
func (r *AFR) ForgetClient(client string) {
	for _, c := range r.children {
		if f, ok := c.(fop.ClientForgetter); ok {
			f.ForgetClient(client)
		}
	}
}
