package afr

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/locks"
)

// entryLock names one directory entry a transaction locks.
type entryLock struct {
	dir  *fop.Loc
	name string
}

// lockSpec says what a transaction locks on every replica: an inode (in
// the data or metadata domain) or directory entries.
type lockSpec struct {
	inode   *fop.Loc
	domain  string
	entries []entryLock
}

// name is spec's lock as the bricks' features/locks names it in an
// xattrop (locks.LockKey, locks.ReleaseKey), or nil for locks of named
// entries, which it cannot name.
func (s lockSpec) name() []byte {
	switch {
	case s.inode != nil:
		return locks.ReleaseInode(s.domain)
	case len(s.entries) == 1 && s.entries[0].name == "":
		return locks.ReleaseEntries(s.domain)
	}
	return nil
}

// ownerBase makes internal lock owners unique across client processes;
// the counter makes them unique within this one.
var ownerSeq atomic.Uint64

func newOwner() uint64 {
	if ownerSeq.Load() == 0 {
		var b [8]byte
		rand.Read(b[:])
		ownerSeq.CompareAndSwap(0, binary.BigEndian.Uint64(b[:])|1<<63)
	}
	return ownerSeq.Add(1)
}

// internalCtx runs lock and changelog calls as root with their own lock
// owner: transactions of one client must exclude each other, which they
// would not under the application's owner.
func internalCtx(ctx context.Context, owner uint64) context.Context {
	c := *fop.CallerFrom(ctx)
	c.UID, c.GID, c.Groups = 0, 0, nil
	c.LkOwner = owner
	return fop.WithCaller(ctx, &c)
}

func (r *AFR) dataDomain() string { return r.name }
func (r *AFR) metaDomain() string { return r.name + ":metadata" }

// lock takes the locks of spec on every replica in set and returns the
// replicas it locked. It first tries them all at once without waiting,
// as GlusterFS's AFR does: one round trip when nobody else holds them.
// If someone does, it lets go and takes them one replica after another,
// waiting, in a fixed order so that two clients cannot deadlock.
func (r *AFR) lock(ctx context.Context, spec lockSpec, set []bool) []bool {
	locked := make([]bool, len(set))
	if count(set) > 1 {
		errs := r.each(set, func(i int, c fop.Layer) error { return lockOne(ctx, c, spec, false) })
		contended := false
		for i := range set {
			locked[i] = set[i] && errs[i] == nil
			contended = contended || (set[i] && fop.Errno(errs[i]) == syscall.EAGAIN)
		}
		if !contended {
			return locked
		}
		r.unlock(ctx, spec, locked)
		clear(locked)
	}
	for i, c := range r.children {
		if !set[i] {
			continue
		}
		if err := lockOne(ctx, c, spec, true); err != nil {
			r.log.Debug("lock failed", "child", i, "err", err)
			continue
		}
		locked[i] = true
	}
	return locked
}

// lockOne takes spec's locks on one replica, waiting for them or not.
func lockOne(ctx context.Context, c fop.Layer, spec lockSpec, wait bool) error {
	if spec.inode != nil {
		cmd := fop.SetLk
		if wait {
			cmd = fop.SetLkW
		}
		return c.Inodelk(ctx, spec.domain, spec.inode, cmd, &fop.Flock{Type: syscall.F_WRLCK})
	}
	cmd := fop.EntryLockNB
	if wait {
		cmd = fop.EntryLock
	}
	for k, e := range spec.entries {
		if err := c.Entrylk(ctx, spec.domain, e.dir, e.name, cmd, fop.EntryWrLck); err != nil {
			for _, done := range spec.entries[:k] {
				c.Entrylk(ctx, spec.domain, done.dir, done.name, fop.EntryUnlock, fop.EntryWrLck)
			}
			return err
		}
	}
	return nil
}

func (r *AFR) unlock(ctx context.Context, spec lockSpec, set []bool) {
	r.each(set, func(i int, c fop.Layer) error {
		if spec.inode != nil {
			return c.Inodelk(ctx, spec.domain, spec.inode, fop.SetLk, &fop.Flock{Type: syscall.F_UNLCK})
		}
		for _, e := range spec.entries {
			c.Entrylk(ctx, spec.domain, e.dir, e.name, fop.EntryUnlock, fop.EntryWrLck)
		}
		return nil
	})
}

// each runs fn on the replicas in set, in parallel, the last one on the
// calling goroutine (which would only wait otherwise): one goroutine
// less to start and wake per call.
func (r *AFR) each(set []bool, fn func(i int, c fop.Layer) error) []error {
	errs := make([]error, len(r.children))
	last := -1
	for i := range r.children {
		if set[i] {
			last = i
		} else {
			errs[i] = syscall.ENOTCONN
		}
	}
	var wg sync.WaitGroup
	for i, c := range r.children {
		if set[i] && i != last {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = fn(i, c)
			}()
		}
	}
	if last >= 0 {
		errs[last] = fn(last, r.children[last])
	}
	wg.Wait()
	return errs
}

// preOp marks every target dirty on the replicas in set and returns the
// replicas where that worked. A data change in an arbiter set also reads
// the changelog (see arbiterVeto), and is refused (none marked) when
// the arbiter vetoes it.
func (r *AFR) preOp(ctx context.Context, t txnType, targets []*fop.Loc, set []bool) []bool {
	ok, _ := r.preOpLocking(ctx, t, targets, set, nil)
	return ok
}

// preOpLocking is preOp where each brick first takes, without waiting,
// the lock that lock (locks.LockKey's value; nil for none) names, and
// refuses the pre-op with EAGAIN when someone else holds it: lock and
// pre-op in one round trip. It also returns each replica's error (nil
// where the lock is held).
func (r *AFR) preOpLocking(ctx context.Context, t txnType, targets []*fop.Loc, set []bool, lock []byte) ([]bool, []error) {
	x := fop.Dict{DirtyKey: delta(t, 1)}
	vetoable := t == dataTxn && r.arbiter >= 0
	if vetoable {
		for _, key := range r.keys {
			x[key] = delta(t, 0) // all keys, so the reply holds them all
		}
	}
	if lock != nil {
		x[locks.LockKey] = lock
	}
	replies := make([]fop.Dict, len(set))
	errs := r.each(set, func(i int, c fop.Layer) error {
		for _, loc := range targets {
			out, err := c.Xattrop(ctx, loc, fop.XattropAddArray32, x)
			if err != nil {
				return err
			}
			replies[i] = out
		}
		return nil
	})
	ok := make([]bool, len(set))
	for i := range set {
		ok[i] = set[i] && errs[i] == nil
	}
	if vetoable && r.arbiterVeto(replies, ok) {
		r.postOp(ctx, t, targets, ok, nil)
		return make([]bool, len(set)), errs
	}
	return ok, errs
}

// postOp clears the dirty marks of the replicas in marked and, on each
// replica that succeeded (good), records the operation as pending for
// every replica that did not (good false): those are the sinks of the
// next heal. With good nil nothing changed and nobody is accused.
func (r *AFR) postOp(ctx context.Context, t txnType, targets []*fop.Loc, marked, good []bool) {
	r.changelog(ctx, t, targets, marked, good, -1, nil)
}

// changelog is postOp with the dirty mark's change given: -1 after a
// pre-op, 0 when there was none (an optimistic transaction). With
// release (locks.ReleaseKey's value) each brick also drops the lock it
// names once the update is done: post-op and unlock in one round trip.
func (r *AFR) changelog(ctx context.Context, t txnType, targets []*fop.Loc, marked, good []bool, dirty int32, release []byte) {
	r.each(marked, func(i int, c fop.Layer) error {
		r.update(ctx, t, i, c, targets, r.changelogUpdate(t, i, good, dirty, release))
		return nil
	})
}

// changelogUpdate is the xattrop of changelog on replica i.
func (r *AFR) changelogUpdate(t txnType, i int, good []bool, dirty int32, release []byte) fop.Dict {
	x := fop.Dict{DirtyKey: delta(t, dirty)}
	if release != nil {
		x[locks.ReleaseKey] = release
	}
	// An update that accuses carries every key, zero or not, so that
	// the brick's index sees the object's whole set of accusations in
	// the reply; one that does not changes only the dirty mark (and the
	// dirty index), and saves the brick reading and writing the others.
	if good != nil && good[i] && count(good) < len(good) {
		for j := range r.children {
			x[r.keys[j]] = delta(t, 0)
			if !good[j] {
				x[r.keys[j]] = delta(t, 1)
			}
		}
	}
	return x
}

// update applies a changelog update to targets on replica i.
func (r *AFR) update(ctx context.Context, t txnType, i int, c fop.Layer, targets []*fop.Loc, x fop.Dict) {
	for _, loc := range targets {
		if _, err := c.Xattrop(ctx, loc, fop.XattropAddArray32, x); err != nil {
			r.log.Warn("post-op failed", "child", i, "type", t.String(), "err", err)
		}
	}
}

// txn runs op on every replica that is up inside a transaction of type t
// whose changelog lives on targets (the object for data and metadata, the
// parent directories for entry operations). It returns each replica's
// error and the index of one that succeeded, or the error to report.
//
// An entry transaction with every replica locked is optimistic, as with
// GlusterFS's cluster.optimistic-change-log (on by default): no pre-op,
// and a post-op only to accuse replicas where the operation failed. A
// client that dies half-way leaves names on some replicas only, which a
// lookup finds and heals (see healName).
func (r *AFR) txn(ctx context.Context, t txnType, spec lockSpec, targets []*fop.Loc, op func(i int, c fop.Layer) error) ([]error, int, error) {
	up := r.upSet()
	if !r.quorum(up) {
		return nil, -1, syscall.ENOTCONN
	}
	ictx := internalCtx(ctx, newOwner())
	var locked, marked []bool
	optimistic := false
	if spec.name() != nil {
		locked, marked = r.lockAndMark(ictx, t, spec, targets, up)
	} else {
		locked = r.lock(ictx, spec, up)
		optimistic = t == entryTxn && count(locked) == len(r.children)
		marked = locked
		if !optimistic {
			marked = r.preOp(ictx, t, targets, locked)
		}
	}
	// end runs the post-op (accusing the replicas not in good) and
	// unlocks.
	end := func(good []bool) {
		if !optimistic {
			r.postOpUnlock(ictx, t, spec, targets, locked, marked, good)
		} else {
			r.unlock(ictx, spec, locked)
		}
	}
	if !r.quorum(marked) || (t == dataTxn && !r.hasData(marked)) {
		end(nil)
		return nil, -1, syscall.ENOTCONN
	}
	errs := r.each(marked, op)
	good := make([]bool, len(errs))
	first := -1
	for i, err := range errs {
		if marked[i] && err == nil {
			good[i] = true
			if first < 0 {
				first = i
			}
		}
	}
	if first < 0 || (t == dataTxn && !r.hasData(good)) {
		// Nothing changed anywhere (or only the arbiter's bookkeeping):
		// report the error, accuse nobody.
		end(nil)
		return errs, -1, pickErr(errs, marked)
	}
	if optimistic && count(good) < count(marked) {
		r.changelog(ictx, t, targets, good, good, 0, nil)
	}
	end(good)
	if !r.quorum(good) {
		return errs, -1, syscall.ENOTCONN
	}
	return errs, first, nil
}

// lockAndMark takes spec's lock and marks targets dirty on the replicas
// in set, both in one xattrop per brick where the bricks can name the
// lock (spec.name); if someone holds it on a brick, it lets go
// everywhere and locks in order, waiting (see lock), then marks. It
// returns the replicas locked and those also marked.
func (r *AFR) lockAndMark(ctx context.Context, t txnType, spec lockSpec, targets []*fop.Loc, set []bool) (locked, marked []bool) {
	if name := spec.name(); name != nil {
		var errs []error
		marked, errs = r.preOpLocking(ctx, t, targets, set, name)
		locked = make([]bool, len(set))
		contended := false
		for i := range set {
			locked[i] = set[i] && errs[i] == nil
			contended = contended || (set[i] && fop.Errno(errs[i]) == syscall.EAGAIN)
		}
		if !contended {
			return locked, marked
		}
		r.postOp(ctx, t, targets, marked, nil)
		r.unlock(ctx, spec, locked)
	}
	locked = r.lock(ctx, spec, set)
	return locked, r.preOp(ctx, t, targets, locked)
}

// postOpUnlock ends a transaction: the post-op on the replicas marked
// (accusing those not in good; good nil accuses nobody), which also
// releases the lock there when the bricks can name it, and the unlock of
// the others locked.
func (r *AFR) postOpUnlock(ctx context.Context, t txnType, spec lockSpec, targets []*fop.Loc, locked, marked, good []bool) {
	name := spec.name()
	r.changelog(ctx, t, targets, marked, good, -1, name)
	rest := locked
	if name != nil {
		rest = andNot(locked, marked)
	}
	if count(rest) > 0 {
		r.unlock(ctx, spec, rest)
	}
}

// pickErr returns the error the most replicas agree on, preferring
// anything over ENOTCONN.
func pickErr(errs []error, set []bool) error {
	var out error
	for i, err := range errs {
		if !set[i] || err == nil {
			continue
		}
		if out == nil || fop.Errno(out) == syscall.ENOTCONN {
			out = err
		}
	}
	if out == nil {
		out = syscall.ENOTCONN
	}
	return out
}
