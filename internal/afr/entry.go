package afr

import (
	"bytes"
	"context"
	"sort"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// entryTxn runs a directory-entry change on every replica, locking the
// named entries and keeping the changelog on their parent directories.
func (r *AFR) entryTxn(ctx context.Context, locks []entryLock, op func(i int, c fop.Layer) error) (int, error) {
	sort.Slice(locks, func(a, b int) bool {
		if c := bytes.Compare(locks[a].dir.GFID[:], locks[b].dir.GFID[:]); c != 0 {
			return c < 0
		}
		return locks[a].name < locks[b].name
	})
	var targets []*fop.Loc
	for _, l := range locks {
		if len(targets) == 0 || targets[len(targets)-1].GFID != l.dir.GFID {
			targets = append(targets, &fop.Loc{GFID: l.dir.GFID})
		}
	}
	_, first, err := r.txn(ctx, entryTxn, lockSpec{entries: locks, domain: r.dataDomain()}, targets, op)
	return first, err
}

func parentLock(loc *fop.Loc) entryLock {
	return entryLock{dir: &fop.Loc{GFID: loc.Parent}, name: loc.Name}
}

// withGFID makes sure a new object gets one GFID on every replica.
func withGFID(loc *fop.Loc) *fop.Loc {
	if !loc.GFID.IsZero() {
		return loc
	}
	l := *loc
	l.GFID = fop.NewGFID()
	return &l
}

type pair struct{ obj, parent fop.Attr }

func (r *AFR) create2(ctx context.Context, loc *fop.Loc, fn func(i int, c fop.Layer) (fop.Attr, fop.Attr, error)) (fop.Attr, fop.Attr, []bool, error) {
	res := make([]pair, len(r.children))
	good := make([]bool, len(r.children))
	first, err := r.entryChange(ctx, loc, func(i int, c fop.Layer) error {
		o, p, err := fn(i, c)
		res[i] = pair{o, p}
		good[i] = err == nil
		return err
	})
	if err != nil {
		return fop.Attr{}, fop.Attr{}, nil, err
	}
	r.inode(res[first].obj.GFID).setReadable(good, res[first].obj.IsDir())
	return res[first].obj, res[first].parent, good, nil
}

// entryChange runs a change of the entry loc names: in its directory's
// eager entry transaction, or in a transaction of its own that locks
// only that name when eager locking is off.
func (r *AFR) entryChange(ctx context.Context, loc *fop.Loc, op func(i int, c fop.Layer) error) (int, error) {
	if r.o().eagerOn() {
		_, first, err := r.entryOp(ctx, loc.Parent, op)
		return first, err
	}
	return r.entryTxn(ctx, []entryLock{parentLock(loc)}, op)
}

// Create makes the file on every replica and opens it there. With eager
// locking the file is born with its data transaction open: created
// marked dirty and locked (both travel in the create), so that its first
// writes need no lock and pre-op of their own (see fresh).
func (r *AFR) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	loc = withGFID(loc)
	if !r.o().eagerOn() {
		obj, parent, good, err := r.create2(ctx, loc, func(_ int, c fop.Layer) (fop.Attr, fop.Attr, error) {
			return c.Create(ctx, loc, flags, mode, umask, fd, xdata)
		})
		if err == nil {
			fd.SetCtx(r, r.newFileFD(fd.GFID, good))
		}
		return obj, parent, err
	}
	f := r.newFresh(loc.GFID)
	xdata = withDirty(xdata)
	obj, parent, good, err := r.create2(ctx, loc, func(i int, c fop.Layer) (fop.Attr, fop.Attr, error) {
		return f.create(ctx, i, xdata, func(ctx context.Context, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
			return c.Create(ctx, loc, flags, mode, umask, fd, xdata)
		})
	})
	f.settle(good)
	if err != nil {
		return obj, parent, err
	}
	fd.SetCtx(r, r.newFileFD(fd.GFID, good))
	return obj, parent, nil
}

// Mknod makes a special file on every replica.
func (r *AFR) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	loc = withGFID(loc)
	obj, parent, _, err := r.create2(ctx, loc, func(_ int, c fop.Layer) (fop.Attr, fop.Attr, error) {
		return c.Mknod(ctx, loc, mode, umask, rdev, xdata)
	})
	return obj, parent, err
}

// Mkdir makes the directory on every replica.
func (r *AFR) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	loc = withGFID(loc)
	obj, parent, _, err := r.create2(ctx, loc, func(_ int, c fop.Layer) (fop.Attr, fop.Attr, error) {
		return c.Mkdir(ctx, loc, mode, umask, xdata)
	})
	return obj, parent, err
}

// Symlink makes the symlink on every replica.
func (r *AFR) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	loc = withGFID(loc)
	obj, parent, _, err := r.create2(ctx, loc, func(_ int, c fop.Layer) (fop.Attr, fop.Attr, error) {
		return c.Symlink(ctx, loc, target, umask, xdata)
	})
	return obj, parent, err
}

// Link adds the name on every replica.
func (r *AFR) Link(ctx context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	obj, parent, _, err := r.create2(ctx, new, func(_ int, c fop.Layer) (fop.Attr, fop.Attr, error) {
		return c.Link(ctx, old, new)
	})
	return obj, parent, err
}

func (r *AFR) remove(ctx context.Context, loc *fop.Loc, fn func(c fop.Layer) (fop.Attr, error)) (fop.Attr, error) {
	res := make([]fop.Attr, len(r.children))
	first, err := r.entryChange(ctx, loc, func(i int, c fop.Layer) error {
		var err error
		res[i], err = fn(c)
		return err
	})
	if err != nil {
		return fop.Attr{}, err
	}
	return res[first], nil
}

// Unlink removes the name on every replica.
func (r *AFR) Unlink(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return r.remove(ctx, loc, func(c fop.Layer) (fop.Attr, error) { return c.Unlink(ctx, loc) })
}

// Rmdir removes the directory on every replica, after this client's
// eager transaction on its entries, if any, has ended.
func (r *AFR) Rmdir(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	if !loc.GFID.IsZero() {
		r.endEntryTxn(loc.GFID)
	}
	return r.remove(ctx, loc, func(c fop.Layer) (fop.Attr, error) { return c.Rmdir(ctx, loc) })
}

type triple struct{ obj, op, np fop.Attr }

// Rename renames on every replica: within one directory in its eager
// entry transaction, else locking both names (after this client's eager
// transactions on both directories have ended, as they would hold the
// names' locks against it).
func (r *AFR) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	res := make([]triple, len(r.children))
	op := func(i int, c fop.Layer) error {
		o, op, np, err := c.Rename(ctx, old, new, flags)
		res[i] = triple{o, op, np}
		return err
	}
	var first int
	var err error
	if old.Parent == new.Parent {
		first, err = r.entryChange(ctx, old, op)
	} else {
		r.endEntryTxn(old.Parent)
		r.endEntryTxn(new.Parent)
		first, err = r.entryTxn(ctx, []entryLock{parentLock(old), parentLock(new)}, op)
	}
	if err != nil {
		return fop.Attr{}, fop.Attr{}, fop.Attr{}, err
	}
	return res[first].obj, res[first].op, res[first].np, nil
}

func (in *inode) setReadable(good []bool, dir bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.dir = dir
	in.readable = append([]bool(nil), good...)
	in.metaOK = append([]bool(nil), good...)
}
