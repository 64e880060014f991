// Package graphswitch is the top of a client's layer stack when its volume
// can change shape: a Switch forwards every file operation to the newest
// graph, so that after add-brick, remove-brick or replace-brick a mount
// swaps in a graph with the new bricks without remounting (GlusterFS's
// graph switch). Files and directories open at the switch move to the new
// graph with it (GlusterFS's FUSE fd migration), so that writes through
// them reach the new bricks too; an older graph is closed once nothing
// uses it.
package graphswitch

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volfetch"
)

// Switch is a fop.Layer over the current graph.
type Switch struct {
	log *slog.Logger

	mu  sync.Mutex
	cur *gen
}

// gen is one graph and what still uses it.
type gen struct {
	g     *graph.Graph
	top   fop.Layer
	users int                  // open FDs plus calls in flight without an FD
	fds   map[*openFD]struct{} // FDs open on it
	old   atomic.Bool          // set under Switch.mu; read without it by FD calls
}

func newGen(g *graph.Graph) *gen {
	return &gen{g: g, top: g.Top, fds: map[*openFD]struct{}{}}
}

var _ fop.Layer = (*Switch)(nil)

// New returns a Switch serving g.
func New(g *graph.Graph, log *slog.Logger) *Switch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Switch{log: log, cur: newGen(g)}
}

// Swap makes g the graph new operations go to and moves the FDs open on
// the previous graph to it (those busy in a call move at their next
// call). The previous graph is closed once its last FD has moved or been
// released and its calls have returned.
func (s *Switch) Swap(g *graph.Graph) {
	s.mu.Lock()
	prev := s.cur
	s.cur = newGen(g)
	prev.old.Store(true)
	idle := prev.users == 0
	fds := make([]*openFD, 0, len(prev.fds))
	for o := range prev.fds {
		fds = append(fds, o)
	}
	s.mu.Unlock()
	s.log.Info("switched to a new graph", "open-fds", len(fds))
	if idle {
		s.retire(prev)
		return
	}
	for _, o := range fds {
		if o.mu.TryLock() {
			s.migrate(o)
			o.mu.Unlock()
		}
	}
}

// Close closes the current graph; older ones close as they go idle.
func (s *Switch) Close() error {
	s.mu.Lock()
	cur := s.cur
	cur.old.Store(true)
	idle := cur.users == 0
	s.mu.Unlock()
	if idle {
		return cur.g.Close()
	}
	return nil
}

func (s *Switch) retire(g *gen) {
	if err := g.g.Close(); err != nil {
		s.log.Warn("closing the previous graph", "err", err)
	}
}

// use is one call's hold on a graph: for a call on an FD open here, the
// FD's graph and the FD as that graph knows it.
type use struct {
	g  *gen
	fd *fop.FD
	o  *openFD // nil unless the call is on an FD open here
}

// enter returns the graph for a call: the one fd lives on (moving fd to
// the current graph first if it is still on an older one), or the
// current one. The use lasts until leave.
func (s *Switch) enter(fd *fop.FD) use { return s.hold(fd, true) }

// hold is enter; a release (move false) does not move its FD first.
func (s *Switch) hold(fd *fop.FD, move bool) use {
	if fd != nil {
		if v, ok := fd.Ctx(s); ok {
			o := v.(*openFD)
			o.mu.RLock()
			if move && s.stale(o) {
				o.mu.RUnlock()
				o.mu.Lock()
				s.migrate(o)
				o.mu.Unlock()
				o.mu.RLock()
			}
			return use{g: o.g, fd: o.fd, o: o}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.cur
	g.users++
	return use{g: g, fd: fd}
}

// leave ends a use; an FD's own use of its graph lasts until it is
// released.
func (s *Switch) leave(u use) {
	if u.o != nil {
		u.o.mu.RUnlock()
		return
	}
	s.drop(u.g)
}

// drop ends one use of g and closes g if it was the last of a retired
// graph.
func (s *Switch) drop(g *gen) {
	s.mu.Lock()
	g.users--
	idle := g.old.Load() && g.users == 0
	s.mu.Unlock()
	if idle {
		s.retire(g)
	}
}

// opened records that fd, opened on u's graph (with flags; dir for a
// directory), is open.
func (s *Switch) opened(fd *fop.FD, u use, flags uint32, dir bool) {
	o := &openFD{g: u.g, fd: fd, flags: reopenFlags(flags), dir: dir}
	s.mu.Lock()
	u.g.users++
	u.g.fds[o] = struct{}{}
	s.mu.Unlock()
	fd.SetCtx(s, o)
}

// closed ends fd's use of its graph after its release.
func (s *Switch) closed(fd *fop.FD, u use) {
	if u.o == nil {
		return
	}
	fd.DelCtx(s)
	s.mu.Lock()
	delete(u.g.fds, u.o)
	s.mu.Unlock()
	u.o.closed = true // the release holds o.mu for reading: no migration runs
	s.drop(u.g)
}

// upWait bounds how long a new graph may take to reach its bricks before
// the switch gives up on it (volfetch retries).
const upWait = 30 * time.Second

// Rebuilder returns what volfetch.FollowRebuild calls when the volume's
// shape changed: build and start a graph of the new volfile, wait for its
// bricks, and swap it in.
func (s *Switch) Rebuilder(reg graph.Registry, opts graph.Options) volfetch.Rebuild {
	return func(ctx context.Context, next *volfetch.Volfile) (*graph.Graph, error) {
		g, err := graph.Build(next.File, reg, opts)
		if err != nil {
			return nil, err
		}
		if err := g.Start(ctx); err != nil {
			g.Close()
			return nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, upWait)
		defer cancel()
		if err := g.WaitUp(wctx); err != nil {
			g.Close()
			return nil, err
		}
		s.Swap(g)
		return g, nil
	}
}
