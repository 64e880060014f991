package afr

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/locks"
)

// fresh is the data transaction of a file being created, opened by the
// create itself: every replica creates the file already marked dirty
// (trusted.afr.dirty in the create's xattrs) and holding the file's
// inodelk for a new owner (locks.LockKey in the create's xattrs: the
// brick locks the GFID this client chose before it creates). Nobody can
// hold a lock on a GFID that is not in the namespace yet, so the lock
// fails only when another client found the new name on a brick and
// locked it first; then the brick refuses with EAGAIN, the create goes
// again without the lock, the transaction is not held, and the dirty
// marks stay for the self-heal to clear (over-marking is safe, a lost
// mark is not). Either way a crash leaves the file marked and indexed.
type fresh struct {
	r      *AFR
	g      fop.GFID
	owner  uint64
	conns  []uint64
	locked []bool // inodelk taken with the create
	same   []bool // the object created has g (not a file that was there)
}

func (r *AFR) newFresh(g fop.GFID) *fresh {
	n := len(r.children)
	return &fresh{r: r, g: g, owner: newOwner(), conns: r.connCounts(), locked: make([]bool, n), same: make([]bool, n)}
}

func (f *fresh) ctx() context.Context {
	return internalCtx(context.Background(), f.owner)
}

func (f *fresh) spec() lockSpec {
	spec, _ := f.r.eagerSpec(dataTxn, f.g)
	return spec
}

// create runs mk, the create on replica i, with the file's lock taken by
// the brick in the same call (see fresh); xdata is the create's.
func (f *fresh) create(ctx context.Context, i int, xdata fop.Dict, mk func(ctx context.Context, xdata fop.Dict) (fop.Attr, fop.Attr, error)) (fop.Attr, fop.Attr, error) {
	c := *fop.CallerFrom(ctx)
	c.LkOwner = f.owner
	locking := make(fop.Dict, len(xdata)+1)
	for k, v := range xdata {
		locking[k] = v
	}
	locking[locks.LockKey] = f.spec().name()
	obj, parent, err := mk(fop.WithCaller(ctx, &c), locking)
	locked := err == nil
	if fop.Errno(err) == syscall.EAGAIN {
		obj, parent, err = mk(ctx, xdata)
	}
	f.same[i] = err == nil && obj.GFID == f.g
	f.locked[i] = locked && f.same[i]
	return obj, parent, err
}

// settle holds the transaction when every replica that created the file
// (good) is locked and marked, and lets go of the locks otherwise.
func (f *fresh) settle(good []bool) {
	r := f.r
	marked := make([]bool, len(good))
	all := good != nil
	for i := range good {
		marked[i] = good[i] && f.locked[i] && f.same[i]
		all = all && marked[i] == good[i]
	}
	if all && r.quorum(marked) && r.hasData(marked) {
		tx := &r.inode(f.g).tx
		tx.mu.Lock()
		if !tx.held {
			r.hold(tx, f.owner, marked, f.conns)
			r.armPostOp(dataTxn, f.g, tx)
			tx.mu.Unlock()
			return
		}
		tx.mu.Unlock()
	}
	go r.unlock(f.ctx(), f.spec(), f.locked)
}

// withDirty returns xdata with the file's data marked dirty.
func withDirty(xdata fop.Dict) fop.Dict {
	out := make(fop.Dict, len(xdata)+1)
	for k, v := range xdata {
		out[k] = v
	}
	out[DirtyKey] = delta(dataTxn, 1)
	return out
}
