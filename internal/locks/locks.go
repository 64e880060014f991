// Package locks is the features/locks layer of the brick graph, above
// storage/posix (protocol/server -> io-stats -> features/locks ->
// storage/posix). It keeps, in memory, the byte-range locks applications
// take with fcntl(2) (Lk), and the internal inode and entry locks that
// cluster layers (replicate, distribute) take to serialize their work on a
// brick (Inodelk, Entrylk, named by domain). None of these calls reach
// posix.
//
// A lock belongs to (Caller.Client, Caller.LkOwner). A blocking POSIX
// lock that would wait in a cycle fails with EDEADLK. When a client's
// connection goes, protocol/server calls ForgetClient and its locks are
// released; Flush releases the caller's POSIX locks on the file, as
// close(2) does.
package locks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// Type is the volfile type of this layer.
const Type = "features/locks"

type tableKey struct {
	g      fop.GFID
	kind   kind
	domain string
}

// Locks is the features/locks layer.
type Locks struct {
	fop.Base
	mu     sync.Mutex
	tables map[tableKey]*table
}

var (
	_ fop.Layer           = (*Locks)(nil)
	_ fop.ClientForgetter = (*Locks)(nil)
)

// New builds the layer over its single child.
func New(a *graph.Args) (fop.Layer, error) {
	if len(a.Children) != 1 {
		return nil, errors.New("features/locks: needs exactly one subvolume")
	}
	return NewLayer(a.Children[0]), nil
}

// NewLayer returns the layer over next.
func NewLayer(next fop.Layer) *Locks {
	return &Locks{Base: fop.Base{Next: next}, tables: make(map[tableKey]*table)}
}

// table returns the table of key, creating it. l.mu is held.
func (l *Locks) table(key tableKey) *table {
	t := l.tables[key]
	if t == nil {
		t = &table{kind: key.kind}
		l.tables[key] = t
	}
	return t
}

// gc forgets an empty table. l.mu is held.
func (l *Locks) gc(key tableKey, t *table) {
	if t.empty() && l.tables[key] == t {
		delete(l.tables, key)
	}
}

// ownerOf is the caller's lock owner; an in-process caller that set no
// LkOwner may name one in the request.
func ownerOf(ctx context.Context, fl *fop.Flock) owner {
	c := fop.CallerFrom(ctx)
	o := owner{client: c.Client, lkOwner: c.LkOwner}
	if o.lkOwner == 0 && fl != nil {
		o.lkOwner = fl.Owner
	}
	return o
}

// rangeOf converts struct flock's start and length (0 = to the end,
// negative = before start) to an inclusive range.
func rangeOf(fl *fop.Flock) (start, end int64, err error) {
	start, n := fl.Start, fl.Len
	if n < 0 {
		start, n = start+n, -n
	}
	if start < 0 {
		return 0, 0, syscall.EINVAL
	}
	if n == 0 || start > math.MaxInt64-n+1 {
		return start, math.MaxInt64, nil
	}
	return start, start + n - 1, nil
}

// flockOf describes a held lock in struct flock terms.
func flockOf(h *lock) fop.Flock {
	n := int64(0)
	if h.end != math.MaxInt64 {
		n = h.end - h.start + 1
	}
	return fop.Flock{Type: h.typ, Start: h.start, Len: n, PID: h.pid, Owner: h.owner.lkOwner, Client: h.owner.client}
}

// lock runs a GetLk, SetLk or SetLkW on the table of key.
func (l *Locks) lock(ctx context.Context, key tableKey, cmd int, fl *fop.Flock) (fop.Flock, error) {
	start, end, err := rangeOf(fl)
	if err != nil {
		return fop.Flock{}, err
	}
	req := lock{owner: ownerOf(ctx, fl), typ: fl.Type, start: start, end: end, pid: fl.PID}
	switch fl.Type {
	case syscall.F_RDLCK, syscall.F_WRLCK, syscall.F_UNLCK:
	default:
		return fop.Flock{}, syscall.EINVAL
	}
	l.mu.Lock()
	t := l.table(key)
	switch cmd {
	case fop.GetLk:
		defer l.mu.Unlock()
		defer l.gc(key, t)
		if c := t.conflicting(&req); c != nil {
			return flockOf(c), nil
		}
		out := *fl
		out.Type = syscall.F_UNLCK
		return out, nil
	case fop.SetLk, fop.SetLkW:
	default:
		l.gc(key, t)
		l.mu.Unlock()
		return fop.Flock{}, syscall.EINVAL
	}
	if fl.Type == syscall.F_UNLCK {
		defer l.mu.Unlock()
		if t.kind == posixKind {
			t.apply(req)
		} else if !t.remove(&req) {
			l.gc(key, t)
			return fop.Flock{}, syscall.EINVAL
		}
		t.grant()
		l.gc(key, t)
		return *fl, nil
	}
	if t.conflicting(&req) == nil {
		t.apply(req)
		t.grant() // a downgrade may free others
		l.mu.Unlock()
		return *fl, nil
	}
	if cmd == fop.SetLk {
		l.gc(key, t)
		l.mu.Unlock()
		return fop.Flock{}, syscall.EAGAIN
	}
	if t.kind == posixKind && l.deadlocks(t, &req) {
		l.mu.Unlock()
		return fop.Flock{}, syscall.EDEADLK
	}
	w := &waiter{lk: req, done: make(chan struct{})}
	t.queue = append(t.queue, w)
	l.mu.Unlock()
	if err := l.wait(ctx, key, t, w); err != nil {
		return fop.Flock{}, err
	}
	return *fl, nil
}

// deadlocks reports whether req, blocked in t, would wait in a cycle: an
// owner it waits for waits (perhaps through others) for req's owner. As
// fcntl(2), F_SETLKW then fails with EDEADLK instead of hanging both.
// l.mu is held.
func (l *Locks) deadlocks(t *table, req *lock) bool {
	seen := map[owner]bool{}
	var waitsFor func(t *table, w *lock) bool
	waitsFor = func(t *table, w *lock) bool {
		for i := range t.held {
			h := &t.held[i]
			if !t.kind.conflict(w, h) {
				continue
			}
			if h.owner == req.owner {
				return true
			}
			if seen[h.owner] {
				continue
			}
			seen[h.owner] = true
			for key, other := range l.tables {
				if key.kind != posixKind {
					continue
				}
				for _, q := range other.queue {
					if q.lk.owner == h.owner && waitsFor(other, &q.lk) {
						return true
					}
				}
			}
		}
		return false
	}
	return waitsFor(t, req)
}

// Lk is fcntl(2) locking for the caller's lock owner.
func (l *Locks) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	out, err := l.lock(ctx, tableKey{g: fd.GFID, kind: posixKind}, cmd, lock)
	if err != nil {
		return out, fmt.Errorf("lk <%s>: %w", fd.GFID, err)
	}
	return out, nil
}

// Flush releases the caller's POSIX locks on the file (close(2)
// semantics) and passes the flush on.
func (l *Locks) Flush(ctx context.Context, fd *fop.FD) error {
	key := tableKey{g: fd.GFID, kind: posixKind}
	l.mu.Lock()
	if t := l.tables[key]; t != nil {
		t.apply(lock{owner: ownerOf(ctx, nil), typ: syscall.F_UNLCK, start: 0, end: math.MaxInt64})
		t.grant()
		l.gc(key, t)
	}
	l.mu.Unlock()
	return l.Next.Flush(ctx, fd)
}

// Inodelk takes or releases an internal byte-range lock on loc in domain.
func (l *Locks) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	if _, err := l.lock(ctx, tableKey{g: loc.GFID, kind: inodeKind, domain: domain}, cmd, lock); err != nil {
		return fmt.Errorf("inodelk %s <%s> %s: %w", domain, loc.GFID, loc.Path, err)
	}
	return nil
}

// Finodelk is Inodelk on an open FD.
func (l *Locks) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	if _, err := l.lock(ctx, tableKey{g: fd.GFID, kind: inodeKind, domain: domain}, cmd, lock); err != nil {
		return fmt.Errorf("finodelk %s <%s>: %w", domain, fd.GFID, err)
	}
	return nil
}

// Entrylk takes or releases an internal lock on the entry name of the
// directory loc ("" = the whole directory) in domain.
func (l *Locks) Entrylk(ctx context.Context, domain string, loc *fop.Loc, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	if err := l.entrylk(ctx, domain, loc.GFID, name, cmd, typ); err != nil {
		return fmt.Errorf("entrylk %s <%s>/%s: %w", domain, loc.GFID, name, err)
	}
	return nil
}

// Fentrylk is Entrylk on an open directory.
func (l *Locks) Fentrylk(ctx context.Context, domain string, fd *fop.FD, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	if err := l.entrylk(ctx, domain, fd.GFID, name, cmd, typ); err != nil {
		return fmt.Errorf("fentrylk %s <%s>/%s: %w", domain, fd.GFID, name, err)
	}
	return nil
}

func (l *Locks) entrylk(ctx context.Context, domain string, g fop.GFID, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	req := lock{owner: ownerOf(ctx, nil), typ: syscall.F_RDLCK, name: name}
	if typ == fop.EntryWrLck {
		req.typ = syscall.F_WRLCK
	}
	key := tableKey{g: g, kind: entryKind, domain: domain}
	l.mu.Lock()
	t := l.table(key)
	switch cmd {
	case fop.EntryUnlock:
		defer l.mu.Unlock()
		ok := t.remove(&req)
		t.grant()
		l.gc(key, t)
		if !ok {
			return syscall.EINVAL
		}
		return nil
	case fop.EntryLock, fop.EntryLockNB:
	default:
		l.gc(key, t)
		l.mu.Unlock()
		return syscall.EINVAL
	}
	if t.conflicting(&req) == nil {
		t.apply(req)
		l.mu.Unlock()
		return nil
	}
	if cmd == fop.EntryLockNB {
		l.mu.Unlock()
		return syscall.EAGAIN
	}
	w := &waiter{lk: req, done: make(chan struct{})}
	t.queue = append(t.queue, w)
	l.mu.Unlock()
	return l.wait(ctx, key, t, w)
}

// ReleaseKey in the xattrs of an xattrop asks this layer to release, once
// the update is done, the caller's lock its value names (ReleaseInode,
// ReleaseEntries): replicate's post-op and unlock in one round trip.
// LockKey asks it to take that lock, without waiting, before the update,
// and to fail with EAGAIN, changing nothing, when someone else holds it:
// replicate's lock and pre-op in one round trip. In the xdata of a create
// LockKey (ReleaseInode only) locks the new file likewise (see Create).
// Neither key reaches the layers below.
const (
	ReleaseKey = "glusterfs.locks.release-after"
	LockKey    = "glusterfs.locks.lock-before"
)

// ReleaseInode names the caller's write inodelk of the whole object in
// domain, for ReleaseKey and LockKey.
func ReleaseInode(domain string) []byte { return []byte("inode:" + domain) }

// ReleaseEntries names the caller's write entrylk of the whole directory
// in domain, for ReleaseKey and LockKey.
func ReleaseEntries(domain string) []byte { return []byte("entry:" + domain) }

// Xattrop applies the update, taking before it the lock LockKey names and
// releasing after it (whatever became of the update: the caller is done
// either way) the one ReleaseKey names, if any.
func (l *Locks) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	take, lock := xattrs[LockKey]
	drop, release := xattrs[ReleaseKey]
	if !lock && !release {
		return l.Next.Xattrop(ctx, loc, op, xattrs)
	}
	rest := without(xattrs, LockKey, ReleaseKey)
	if lock {
		if err := l.named(ctx, loc, string(take), true); err != nil {
			return nil, fmt.Errorf("xattrop <%s>: %w", loc.GFID, err)
		}
	}
	out, err := l.Next.Xattrop(ctx, loc, op, rest)
	if lock && err != nil {
		l.named(ctx, loc, string(take), false)
	}
	if release {
		l.named(ctx, loc, string(drop), false)
	}
	return out, err
}

// Create creates the file holding, for the caller, the lock that LockKey
// in xdata names on the GFID the caller chose for it (loc.GFID), taken
// without waiting before the create: replicate's create and the lock of
// the new file's write transaction in one round trip. Nobody can hold a
// lock on a GFID that is not in the namespace yet unless they found the
// name on another replica and locked it here too: then the create fails
// with EAGAIN and creates nothing. A create that fails, or that opens a
// file that was there (another GFID), lets the lock go.
func (l *Locks) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	take, lock := xdata[LockKey]
	if !lock {
		return l.Next.Create(ctx, loc, flags, mode, umask, fd, xdata)
	}
	if kind, _, _ := strings.Cut(string(take), ":"); kind != "inode" || loc.GFID.IsZero() {
		return fop.Attr{}, fop.Attr{}, fmt.Errorf("create %s: lock %q of a new file: %w", loc.Path, take, syscall.EINVAL)
	}
	rest := without(xdata, LockKey, "")
	if err := l.named(ctx, loc, string(take), true); err != nil {
		return fop.Attr{}, fop.Attr{}, fmt.Errorf("create %s: %w", loc.Path, err)
	}
	obj, parent, err := l.Next.Create(ctx, loc, flags, mode, umask, fd, rest)
	if err != nil || obj.GFID != loc.GFID {
		l.named(ctx, loc, string(take), false)
	}
	return obj, parent, err
}

// without returns a copy of d without the keys a and b: this layer's
// requests, which the layers below must not see.
func without(d fop.Dict, a, b string) fop.Dict {
	out := make(fop.Dict, len(d))
	for k, x := range d {
		if k != a && k != b {
			out[k] = x
		}
	}
	return out
}

// named takes (without waiting) or releases the caller's lock a LockKey
// or ReleaseKey value names.
func (l *Locks) named(ctx context.Context, loc *fop.Loc, v string, take bool) error {
	kind, domain, _ := strings.Cut(v, ":")
	switch {
	case kind == "inode" && take:
		return l.Inodelk(ctx, domain, loc, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK})
	case kind == "inode":
		return l.Inodelk(ctx, domain, loc, fop.SetLk, &fop.Flock{Type: syscall.F_UNLCK})
	case kind == "entry" && take:
		return l.entrylk(ctx, domain, loc.GFID, "", fop.EntryLockNB, fop.EntryWrLck)
	case kind == "entry":
		return l.entrylk(ctx, domain, loc.GFID, "", fop.EntryUnlock, fop.EntryWrLck)
	}
	return syscall.EINVAL
}

// ForgetClient releases every lock and pending request of a client whose
// connection is gone, then tells the layers below.
func (l *Locks) ForgetClient(client string) {
	l.mu.Lock()
	for key, t := range l.tables {
		t.forget(client)
		l.gc(key, t)
	}
	l.mu.Unlock()
	l.Base.ForgetClient(client)
}
