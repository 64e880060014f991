package graphswitch

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// openFD is a file or directory open at the switch. Each graph gets an
// FD of its own for it (their layers keep state in an FD under keys that
// may be the same in both graphs), so the application's FD maps to the
// one its current graph knows.
type openFD struct {
	// mu is held for reading by each call on the FD and for writing by
	// its move to another graph.
	mu     sync.RWMutex
	g      *gen
	fd     *fop.FD // as g's layers know it
	flags  uint32  // as opened, without creation flags
	dir    bool
	closed bool

	// pinned: a lock was taken through it. Locks live on the bricks'
	// connections of its graph, which a move would drop: the FD stays.
	pinned atomic.Bool
	// deferred is an error the old graph returned while the FD moved
	// (a write it had queued failed), for the next flush or fsync.
	deferred atomic.Pointer[error]
}

// stale reports whether o lives on a graph that is no longer current
// and may move. o.mu is held.
func (s *Switch) stale(o *openFD) bool {
	return o.g.old.Load() && !o.pinned.Load()
}

// migrate moves o to the current graph, as GlusterFS's FUSE bridge does
// at a graph switch: flush what the old graph holds for it (write-behind),
// look the object up by GFID and open it on the new graph with the same
// flags, then release it on the old one. If that fails, o stays where it
// is. o.mu is held for writing.
func (s *Switch) migrate(o *openFD) {
	if o.closed || !s.stale(o) {
		return
	}
	s.mu.Lock()
	old, cur := o.g, s.cur
	if cur == old { // closing
		s.mu.Unlock()
		return
	}
	cur.users++
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), upWait)
	defer cancel()
	loc := &fop.Loc{GFID: o.fd.GFID}
	if !o.dir {
		if err := old.top.Flush(ctx, o.fd); err != nil {
			o.deferred.Store(&err)
		}
	}
	nfd := fop.NewFD(o.fd.GFID, o.flags)
	_, _, err := cur.top.Lookup(ctx, loc, nil)
	if err == nil {
		if o.dir {
			err = cur.top.Opendir(ctx, loc, nfd)
		} else {
			err = cur.top.Open(ctx, loc, o.flags, nfd)
		}
	}
	if err != nil {
		// An unlinked file, or a brick not reached: writes through it
		// keep reaching the old graph's bricks only.
		s.log.Warn("open file not moved to the new graph", "gfid", o.fd.GFID, "err", err)
		s.drop(cur)
		return
	}
	prev := o.fd
	s.mu.Lock()
	delete(old.fds, o)
	cur.fds[o] = struct{}{}
	o.g, o.fd = cur, nfd
	s.mu.Unlock()
	if o.dir {
		err = old.top.Releasedir(ctx, prev)
	} else {
		err = old.top.Release(ctx, prev)
	}
	if err != nil {
		s.log.Debug("release on the previous graph", "gfid", prev.GFID, "err", err)
	}
	s.drop(old)
}

// reopenFlags are the open flags an FD is opened again with: the object
// exists by then, and must not be truncated again.
func reopenFlags(flags uint32) uint32 {
	return flags &^ (syscall.O_CREAT | syscall.O_EXCL | syscall.O_TRUNC)
}

// takeDeferred returns (once) an error left by the FD's move.
func (u use) takeDeferred() error {
	if u.o == nil {
		return nil
	}
	if p := u.o.deferred.Swap(nil); p != nil {
		return *p
	}
	return nil
}

// pin keeps the FD of u on its graph for good.
func (u use) pin() {
	if u.o != nil {
		u.o.pinned.Store(true)
	}
}
