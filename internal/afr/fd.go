package afr

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// fileFD is AFR's state for an open file: where it is open, and the
// write transaction of its file.
type fileFD struct {
	opened []bool
	tx     *txnState
}

func (r *AFR) newFileFD(g fop.GFID, opened []bool) *fileFD {
	return &fileFD{opened: opened, tx: &r.inode(g).tx}
}

// dirFD is AFR's state for an open directory.
type dirFD struct {
	opened []bool
	read   int // the replica listings come from
}

func (r *AFR) fileState(fd *fop.FD) (*fileFD, error) {
	v, ok := fd.Ctx(r)
	if !ok {
		return nil, syscall.EBADF
	}
	st, ok := v.(*fileFD)
	if !ok {
		return nil, syscall.EISDIR
	}
	return st, nil
}

// Open opens the file on every replica that is up. O_TRUNC is a data
// change, so it runs as a truncate transaction first.
func (r *AFR) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	if flags&syscall.O_TRUNC != 0 && flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		if _, err := r.Truncate(ctx, loc, 0); err != nil {
			return err
		}
		flags &^= syscall.O_TRUNC
	}
	up := r.upSet()
	errs := r.each(up, func(i int, c fop.Layer) error { return c.Open(ctx, loc, flags, fd) })
	st := r.newFileFD(fd.GFID, make([]bool, len(up)))
	for i, err := range errs {
		st.opened[i] = up[i] && err == nil
	}
	if count(st.opened) == 0 {
		return pickErr(errs, up)
	}
	fd.SetCtx(r, st)
	return nil
}

// dataOp runs a data change through fd inside its file's eager
// transaction.
func (r *AFR) dataOp(ctx context.Context, fd *fop.FD, op func(i int, c fop.Layer) error) (int, error) {
	st, err := r.fileState(fd)
	if err != nil {
		return -1, err
	}
	tx := st.tx
	tx.rw.RLock()
	defer tx.rw.RUnlock()
	if err := r.begin(ctx, fd.GFID, tx, st.opened); err != nil {
		return -1, err
	}
	tx.mu.Lock()
	set := make([]bool, len(tx.marked))
	for i := range set {
		set[i] = tx.marked[i] && st.opened[i]
	}
	tx.mu.Unlock()
	errs := r.each(set, op)
	good := make([]bool, len(set))
	first := -1
	for i, err := range errs {
		good[i] = set[i] && err == nil
		if good[i] && first < 0 {
			first = i
		}
	}
	tx.mu.Lock()
	for i := range good {
		if tx.marked[i] && !good[i] {
			tx.good[i] = false
		}
	}
	if first >= 0 {
		r.missed(fd.GFID, good, tx.gen) // failed everywhere: nobody missed it
	}
	r.armPostOp(dataTxn, fd.GFID, tx)
	tx.mu.Unlock()
	if first < 0 {
		return -1, pickErr(errs, set)
	}
	if !r.quorum(good) {
		return -1, syscall.ENOTCONN
	}
	return first, nil
}

// Write writes to every replica the file is open on.
func (r *AFR) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	ns := make([]int, len(r.children))
	attrs := make([]fop.Attr, len(r.children))
	first, err := r.dataOp(ctx, fd, func(i int, c fop.Layer) error {
		var err error
		ns[i], attrs[i], err = c.Write(ctx, fd, data, off)
		return err
	})
	if err != nil {
		return 0, fop.Attr{}, err
	}
	return ns[first], attrs[first], nil
}

func fdAttrOp(r *AFR, ctx context.Context, fd *fop.FD, fn func(c fop.Layer) (fop.Attr, error)) (fop.Attr, error) {
	attrs := make([]fop.Attr, len(r.children))
	first, err := r.dataOp(ctx, fd, func(i int, c fop.Layer) error {
		var err error
		attrs[i], err = fn(c)
		return err
	})
	if err != nil {
		return fop.Attr{}, err
	}
	return attrs[first], nil
}

// Ftruncate resizes through an open FD on every replica.
func (r *AFR) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	return fdAttrOp(r, ctx, fd, func(c fop.Layer) (fop.Attr, error) { return c.Ftruncate(ctx, fd, size) })
}

// Fallocate allocates on every replica.
func (r *AFR) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	return fdAttrOp(r, ctx, fd, func(c fop.Layer) (fop.Attr, error) { return c.Fallocate(ctx, fd, mode, off, length) })
}

// Discard punches a hole on every replica.
func (r *AFR) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return fdAttrOp(r, ctx, fd, func(c fop.Layer) (fop.Attr, error) { return c.Discard(ctx, fd, off, length) })
}

// Zerofill zeroes a range on every replica.
func (r *AFR) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return fdAttrOp(r, ctx, fd, func(c fop.Layer) (fop.Attr, error) { return c.Zerofill(ctx, fd, off, length) })
}

func (r *AFR) openedSet(fd *fop.FD) []bool {
	up := r.upSet()
	if st, err := r.fileState(fd); err == nil {
		for i := range up {
			up[i] = up[i] && st.opened[i]
		}
	}
	return up
}

// Flush ends the FD's transaction (so the changelog is settled when the
// application closes) and flushes every replica, both at once: the
// writes are done, and the post-op does not depend on the flush. Where
// the FD's release can carry the post-op (endsAtRelease), the
// transaction stays held for it.
func (r *AFR) Flush(ctx context.Context, fd *fop.FD) error {
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		if st, err := r.fileState(fd); err == nil && !r.endsAtRelease(st.tx, fd, st.opened) {
			r.endTxn(dataTxn, fd.GFID, st.tx, -1, nil)
		}
	}()
	_, err := onSet(r, r.openedSet(fd), func(c fop.Layer) (none, error) { return errOnly(c.Flush(ctx, fd)) })
	<-ended
	return err
}

// Fsync returns once every replica that is up has the data on disk.
func (r *AFR) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	if st, err := r.fileState(fd); err == nil {
		r.endTxn(dataTxn, fd.GFID, st.tx, -1, nil)
	}
	return onSet(r, r.openedSet(fd), func(c fop.Layer) (fop.Attr, error) { return c.Fsync(ctx, fd, datasync) })
}

// Release ends the FD's transaction and closes it everywhere: in one
// request per replica where the brick can take both.
func (r *AFR) Release(ctx context.Context, fd *fop.FD) error {
	st, err := r.fileState(fd)
	if err != nil {
		return nil
	}
	released := r.endTxn(dataTxn, fd.GFID, st.tx, -1, r.closingFD(fd, st.opened))
	r.each(andNot(st.opened, released), func(i int, c fop.Layer) error { return c.Release(ctx, fd) })
	fd.DelCtx(r)
	return nil
}

// onSet runs fn on the replicas in set; it succeeds if all that answered
// did.
func onSet[T any](r *AFR, set []bool, fn func(c fop.Layer) (T, error)) (T, error) {
	res := make([]T, len(r.children))
	errs := r.each(set, func(i int, c fop.Layer) error {
		var err error
		res[i], err = fn(c)
		return err
	})
	first := -1
	for i, err := range errs {
		if !set[i] {
			continue
		}
		if err != nil && fop.Errno(err) != syscall.ENOTCONN {
			return res[i], err
		}
		if err == nil && first < 0 {
			first = i
		}
	}
	if first < 0 {
		var zero T
		return zero, pickErr(errs, set)
	}
	return res[first], nil
}

// Opendir opens the directory on every replica that is up; listings come
// from one good replica.
func (r *AFR) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	up := r.upSet()
	errs := r.each(up, func(i int, c fop.Layer) error { return c.Opendir(ctx, loc, fd) })
	st := &dirFD{opened: make([]bool, len(up)), read: -1}
	for i, err := range errs {
		st.opened[i] = up[i] && err == nil
	}
	if count(st.opened) == 0 {
		return pickErr(errs, up)
	}
	if i := r.readChild(loc.GFID, false); i >= 0 && st.opened[i] {
		st.read = i
	} else {
		for i, ok := range st.opened {
			if ok {
				st.read = i
				break
			}
		}
	}
	fd.SetCtx(r, st)
	return nil
}

func (r *AFR) dirState(fd *fop.FD) (*dirFD, error) {
	v, ok := fd.Ctx(r)
	if !ok {
		return nil, syscall.EBADF
	}
	st, ok := v.(*dirFD)
	if !ok {
		return nil, syscall.ENOTDIR
	}
	return st, nil
}

// Readdir lists from the FD's read replica. Cookies are that replica's,
// so a listing can move to another replica only from its start.
func (r *AFR) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	st, err := r.dirState(fd)
	if err != nil {
		return nil, err
	}
	for {
		ents, err := r.children[st.read].Readdir(ctx, fd, off, max, plus, r.changelogKeys(xreq))
		if fop.Errno(err) == syscall.ENOTCONN && off == 0 {
			next := -1
			up := r.upSet()
			for i := range st.opened {
				if i != st.read && st.opened[i] && up[i] {
					next = i
					break
				}
			}
			if next >= 0 {
				st.read = next
				continue
			}
		}
		for k := range ents {
			ents[k].Xattrs = r.stripChangelog(ents[k].Xattrs, xreq)
		}
		return ents, err
	}
}

// Fsyncdir syncs the directory on every replica.
func (r *AFR) Fsyncdir(ctx context.Context, fd *fop.FD, datasync bool) error {
	st, err := r.dirState(fd)
	if err != nil {
		return err
	}
	_, err = onSet(r, st.opened, func(c fop.Layer) (none, error) { return errOnly(c.Fsyncdir(ctx, fd, datasync)) })
	return err
}

// Releasedir closes the directory everywhere.
func (r *AFR) Releasedir(ctx context.Context, fd *fop.FD) error {
	st, err := r.dirState(fd)
	if err != nil {
		return nil
	}
	r.each(st.opened, func(i int, c fop.Layer) error { return c.Releasedir(ctx, fd) })
	fd.DelCtx(r)
	return nil
}
