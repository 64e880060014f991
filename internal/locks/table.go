package locks

import (
	"context"
	"math"
	"syscall"
)

// owner identifies a lock holder: the connection and the lock owner the
// application (or cluster layer) chose on it.
type owner struct {
	client  string
	lkOwner uint64
}

// lock is one granted or requested lock. Ranges are inclusive; end is
// math.MaxInt64 for "to the end of the file". Entry locks use name
// instead of a range ("" is the whole directory).
type lock struct {
	owner owner
	typ   int16 // F_RDLCK, F_WRLCK (F_UNLCK in requests)
	start int64
	end   int64
	name  string
	pid   uint32
}

// kind says how locks of a table combine.
type kind uint8

const (
	// posixKind: fcntl semantics, an owner's locks are split and merged,
	// so one owner has at most one lock on any byte.
	posixKind kind = iota
	// inodeKind: every lock is kept as taken and released as taken
	// (cluster layers nest their locks).
	inodeKind
	// entryKind: named entry locks in a directory.
	entryKind
)

func (k kind) conflict(a, b *lock) bool {
	if a.owner == b.owner || (a.typ != syscall.F_WRLCK && b.typ != syscall.F_WRLCK) {
		return false
	}
	if k == entryKind {
		return a.name == "" || b.name == "" || a.name == b.name
	}
	return a.start <= b.end && b.start <= a.end
}

// waiter is a blocked request, granted in queue order as soon as nothing
// held conflicts with it.
type waiter struct {
	lk   lock
	done chan struct{}
	err  error // set when the request fails instead (client gone)
}

// table holds the locks of one inode for one kind and domain. Its owner's
// mutex guards it.
type table struct {
	kind  kind
	held  []lock
	queue []*waiter
}

func (t *table) empty() bool { return len(t.held) == 0 && len(t.queue) == 0 }

// conflicting returns a held lock that conflicts with l, or nil.
func (t *table) conflicting(l *lock) *lock {
	for i := range t.held {
		if t.kind.conflict(l, &t.held[i]) {
			return &t.held[i]
		}
	}
	return nil
}

// apply adds a granted lock (or, in posixKind, an unlock of a range).
func (t *table) apply(l lock) {
	if t.kind != posixKind {
		t.held = append(t.held, l)
		return
	}
	// Carve [start,end] out of the owner's locks, then add the new lock
	// and merge it with the owner's adjacent locks of the same type.
	var out []lock
	for _, h := range t.held {
		if h.owner != l.owner || h.end < l.start || h.start > l.end {
			out = append(out, h)
			continue
		}
		if h.start < l.start {
			left := h
			left.end = l.start - 1
			out = append(out, left)
		}
		if h.end > l.end {
			right := h
			right.start = l.end + 1
			out = append(out, right)
		}
	}
	if l.typ != syscall.F_UNLCK {
		merged := out[:0:0]
		for _, h := range out {
			if h.owner == l.owner && h.typ == l.typ &&
				((h.end != math.MaxInt64 && h.end+1 == l.start) || (l.end != math.MaxInt64 && l.end+1 == h.start)) {
				l.start, l.end = min(l.start, h.start), max(l.end, h.end)
				continue
			}
			merged = append(merged, h)
		}
		out = append(merged, l)
	}
	t.held = out
}

// remove releases a lock taken as l (inodeKind, entryKind): the owner's
// first lock with the same range or name.
func (t *table) remove(l *lock) bool {
	for i, h := range t.held {
		if h.owner == l.owner && h.start == l.start && h.end == l.end && h.name == l.name {
			t.held = append(t.held[:i], t.held[i+1:]...)
			return true
		}
	}
	return false
}

// grant hands the lock to every queued request that no longer conflicts,
// in queue order.
func (t *table) grant() {
	q := t.queue[:0]
	for _, w := range t.queue {
		if t.conflicting(&w.lk) == nil {
			t.apply(w.lk)
			close(w.done)
			continue
		}
		q = append(q, w)
	}
	clear(t.queue[len(q):])
	t.queue = q
}

// forget drops every lock and request of client.
func (t *table) forget(client string) {
	held := t.held[:0]
	for _, h := range t.held {
		if h.owner.client != client {
			held = append(held, h)
		}
	}
	t.held = held
	q := t.queue[:0]
	for _, w := range t.queue {
		if w.lk.owner.client == client {
			w.err = syscall.ENOTCONN
			close(w.done)
			continue
		}
		q = append(q, w)
	}
	clear(t.queue[len(q):])
	t.queue = q
	t.grant()
}

// dequeue takes w out of the queue (its caller gave up); false if it was
// granted meanwhile.
func (t *table) dequeue(w *waiter) bool {
	for i, q := range t.queue {
		if q == w {
			t.queue = append(t.queue[:i], t.queue[i+1:]...)
			return true
		}
	}
	return false
}

// wait blocks until w is granted or ctx ends.
func (l *Locks) wait(ctx context.Context, key tableKey, t *table, w *waiter) error {
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !t.dequeue(w) {
		return w.err // granted (or failed) just now
	}
	l.gc(key, t)
	return ctx.Err()
}
