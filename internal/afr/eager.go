package afr

import (
	"context"
	"sync"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// txnState is the eager transaction this client holds on one object: the
// data transaction of a file (shared by all its FDs: two FDs writing one
// file must not pass the lock to and fro, waiting out each other's
// post-op delay) or the entry transaction of a directory (shared by every
// create, delete and link in it).
type txnState struct {
	// rw lets operations run concurrently (read side) while the post-op
	// waits for them to drain (write side).
	rw sync.RWMutex
	mu sync.Mutex
	eager
}

// eager is a transaction held open across operations: its lock and dirty
// mark are taken by the first operation (or, for a file this client has
// just created, by the create itself) and released by the post-op after
// post-op-delay (of quiet for files, since the lock for directories), or
// by flush, fsync and release.
type eager struct {
	held   bool
	owner  uint64
	marked []bool   // replicas locked and marked dirty
	good   []bool   // replicas every operation since the pre-op reached
	conns  []uint64 // each replica's connection count at the lock (see AFR.conns)
	timer  *time.Timer
	gen    int
}

// eagerOn reports whether transactions are held across operations.
func (o *options) eagerOn() bool { return o.eagerLock && o.postOpDelay > 0 }

// eagerSpec is what the eager transaction of type t on g locks and marks:
// a file's data (inodelk) or all the entries of a directory (entrylk
// without a name).
func (r *AFR) eagerSpec(t txnType, g fop.GFID) (lockSpec, []*fop.Loc) {
	target := &fop.Loc{GFID: g}
	if t == entryTxn {
		return lockSpec{entries: []entryLock{{dir: target}}, domain: r.dataDomain()}, []*fop.Loc{target}
	}
	return lockSpec{inode: target, domain: r.dataDomain()}, []*fop.Loc{target}
}

// acquire locks and marks g on the replicas in set for a transaction of
// type t held eagerly; tx.mu is held and nothing is held yet.
func (r *AFR) acquire(ctx context.Context, t txnType, g fop.GFID, tx *txnState, set []bool) error {
	if !r.quorum(set) {
		return syscall.ENOTCONN
	}
	conns := r.connCounts()
	owner := newOwner()
	ictx := internalCtx(context.WithoutCancel(ctx), owner)
	spec, targets := r.eagerSpec(t, g)
	locked, marked := r.lockAndMark(ictx, t, spec, targets, set)
	if !r.quorum(marked) || (t == dataTxn && !r.hasData(marked)) {
		r.postOpUnlock(ictx, t, spec, targets, locked, marked, nil)
		return syscall.ENOTCONN
	}
	if rest := andNot(locked, marked); count(rest) > 0 {
		r.unlock(ictx, spec, rest)
	}
	r.hold(tx, owner, marked, conns)
	return nil
}

// hold records a transaction as held. tx.mu is held.
func (r *AFR) hold(tx *txnState, owner uint64, marked []bool, conns []uint64) {
	tx.eager = eager{held: true, owner: owner, marked: marked, good: append([]bool(nil), marked...), conns: conns, gen: tx.gen + 1}
}

// valid returns the replicas of the held transaction that are still
// connected as they were when it locked them (a replica that reconnected
// lost the lock), and whether every replica that is up is among them.
// tx.mu is held.
func (r *AFR) valid(tx *txnState) (set []bool, whole bool) {
	up := r.upSet()
	conns := r.connCounts()
	set = make([]bool, len(up))
	whole = true
	for i := range up {
		set[i] = up[i] && tx.marked[i] && tx.conns[i] == conns[i]
		whole = whole && (set[i] || !up[i])
	}
	return set, whole
}

// begin takes the eager lock and dirty mark of a data transaction unless
// this client holds them for the file already; opened is where the
// writing FD is open.
func (r *AFR) begin(ctx context.Context, g fop.GFID, tx *txnState, opened []bool) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.held {
		return nil
	}
	up := r.upSet()
	for i := range up {
		up[i] = up[i] && opened[i]
	}
	return r.acquire(ctx, dataTxn, g, tx, up)
}

// armPostOp schedules the post-op of the transaction of type t on g:
// for files after post-op-delay of quiet, for directories post-op-delay
// after the lock (another client's creates there wait for it, and there
// is no telling that they do). Called with tx.mu held.
func (r *AFR) armPostOp(t txnType, g fop.GFID, tx *txnState) {
	o := r.o()
	gen := tx.gen
	if !o.eagerOn() {
		go r.endTxn(t, g, tx, gen, nil)
		return
	}
	if tx.timer != nil {
		if t == entryTxn {
			return
		}
		tx.timer.Stop()
	}
	tx.timer = time.AfterFunc(o.postOpDelay, func() { r.endTxn(t, g, tx, gen, nil) })
}

// endTxn runs the held transaction's post-op and unlock once in-flight
// operations have drained. gen < 0 ends whatever is held. Each brick
// drops the lock itself once its post-op is done (locks.ReleaseKey); a
// replica that went away since the lock holds nothing any more. With cl,
// the replicas in cl.with get the post-op together with the release of
// cl.fd (see closing); it returns those where that happened.
func (r *AFR) endTxn(t txnType, g fop.GFID, tx *txnState, gen int, cl *closing) []bool {
	tx.rw.Lock()
	defer tx.rw.Unlock()
	tx.mu.Lock()
	defer tx.mu.Unlock()
	released := make([]bool, len(r.children))
	if !tx.held || (gen >= 0 && gen != tx.gen) {
		return released
	}
	if tx.timer != nil {
		tx.timer.Stop()
		tx.timer = nil
	}
	ictx := internalCtx(context.Background(), tx.owner)
	// A replica that reconnected since the lock keeps its dirty mark
	// (a heal may have consumed it meanwhile): the next heal clears it.
	set, _ := r.valid(tx)
	good := tx.good
	if t == entryTxn {
		good = nil // entry operations accused failed replicas at once (entryOp)
	}
	spec, targets := r.eagerSpec(t, g)
	r.each(set, func(i int, c fop.Layer) error {
		x := r.changelogUpdate(t, i, good, -1, spec.name())
		if cl == nil || !cl.with[i] {
			r.update(ictx, t, i, c, targets, x)
			return nil
		}
		released[i] = true
		if err := c.(fop.XattropReleaser).XattropRelease(ictx, cl.fd, fop.XattropAddArray32, x); err != nil {
			r.log.Warn("post-op with release failed", "child", i, "type", t.String(), "err", err)
		}
		return nil
	})
	if t == dataTxn {
		r.posted(g, tx.gen)
	}
	tx.held = false
	return released
}

// closing is an FD being released while its file's transaction is held:
// with[i] says that replica i has it open and can take the post-op and
// the release in one request (fop.XattropReleaser).
type closing struct {
	fd   *fop.FD
	with []bool
}

// closingFD returns fd, open on opened, as closing.
func (r *AFR) closingFD(fd *fop.FD, opened []bool) *closing {
	cl := &closing{fd: fd, with: make([]bool, len(opened))}
	for i, c := range r.children {
		_, ok := c.(fop.XattropReleaser)
		cl.with[i] = opened[i] && ok
	}
	return cl
}

// endsAtRelease reports whether the release of an FD open on opened
// can end the transaction tx holds by itself, every replica it marked
// taking its post-op with the release: then closing the FD (flush)
// leaves the post-op to the release (or to post-op-delay, if the
// release does not come), one request per replica instead of two.
func (r *AFR) endsAtRelease(tx *txnState, fd *fop.FD, opened []bool) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if !tx.held || !r.o().eagerOn() {
		return false
	}
	set, _ := r.valid(tx)
	cl := r.closingFD(fd, opened)
	for i := range set {
		if set[i] && !cl.with[i] {
			return false
		}
	}
	return true
}

// holding reports whether this client holds an eager transaction on g,
// whose dirty mark is its own and needs no heal.
func (r *AFR) holding(g fop.GFID) bool {
	v, ok := r.inodes.Load(g)
	if !ok {
		return false
	}
	tx := &v.(*inode).tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.held
}

// entryOp runs a change of the entries of directory dir on every replica
// inside the directory's eager entry transaction: the first change locks
// the whole directory and marks it dirty, the next ones (of any thread
// of this client) run at once, and the post-op and unlock come
// post-op-delay later. A replica where a change fails, or that is down,
// is accused at once, before the caller hears of it. It returns each replica's error and the
// index of one that succeeded, or the error to report.
func (r *AFR) entryOp(ctx context.Context, dir fop.GFID, op func(i int, c fop.Layer) error) ([]error, int, error) {
	tx := &r.inode(dir).tx
	tx.rw.RLock()
	tx.mu.Lock()
	if tx.held {
		if _, whole := r.valid(tx); !whole {
			// A replica went or came back: start over with the ones up.
			tx.mu.Unlock()
			tx.rw.RUnlock()
			r.endTxn(entryTxn, dir, tx, -1, nil)
			tx.rw.RLock()
			tx.mu.Lock()
		}
	}
	if !tx.held {
		if err := r.acquire(ctx, entryTxn, dir, tx, r.upSet()); err != nil {
			tx.mu.Unlock()
			tx.rw.RUnlock()
			return nil, -1, err
		}
		r.armPostOp(entryTxn, dir, tx)
	}
	set, _ := r.valid(tx)
	owner := tx.owner
	tx.mu.Unlock()
	defer tx.rw.RUnlock()
	if !r.quorum(set) {
		return nil, -1, syscall.ENOTCONN
	}
	errs := r.each(set, op)
	good := make([]bool, len(set))
	first := -1
	for i, err := range errs {
		good[i] = set[i] && err == nil
		if good[i] && first < 0 {
			first = i
		}
	}
	if first < 0 {
		return errs, -1, pickErr(errs, set)
	}
	if count(good) < len(good) {
		// Accuse the replicas that failed and those that are down.
		_, targets := r.eagerSpec(entryTxn, dir)
		r.changelog(internalCtx(ctx, owner), entryTxn, targets, good, good, 0, nil)
	}
	if !r.quorum(good) {
		return errs, -1, syscall.ENOTCONN
	}
	return errs, first, nil
}

// endEntryTxn ends this client's eager entry transaction on dir, if any:
// before a change that locks entries in its own transaction (a rename), or
// removes the directory.
func (r *AFR) endEntryTxn(dir fop.GFID) { r.endHeld(dir, true) }

// endHeld ends this client's eager transaction on g, if any: the entry
// transaction of a directory, the data transaction of a file.
func (r *AFR) endHeld(g fop.GFID, dir bool) {
	t := dataTxn
	if dir {
		t = entryTxn
	}
	if v, ok := r.inodes.Load(g); ok {
		r.endTxn(t, g, &v.(*inode).tx, -1, nil)
	}
}
