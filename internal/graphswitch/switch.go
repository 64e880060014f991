// Package graphswitch is the top of a client's layer stack when its volume
// can change shape: a Switch forwards every file operation to the newest
// graph, so that after add-brick, remove-brick or replace-brick a mount
// swaps in a graph with the new bricks without remounting (GlusterFS's
// graph switch). Files and directories opened on an older graph keep using
// it until they are closed; an older graph is closed once nothing uses it.
package graphswitch

import (
	"context"
	"log/slog"
	"sync"
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
	users int // open FDs plus calls in flight
	old   bool
}

var _ fop.Layer = (*Switch)(nil)

// New returns a Switch serving g.
func New(g *graph.Graph, log *slog.Logger) *Switch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Switch{log: log, cur: &gen{g: g, top: g.Top}}
}

// Swap makes g the graph new operations go to. The previous graph is
// closed once its open FDs are released and its calls have returned.
func (s *Switch) Swap(g *graph.Graph) {
	s.mu.Lock()
	prev := s.cur
	s.cur = &gen{g: g, top: g.Top}
	prev.old = true
	idle := prev.users == 0
	s.mu.Unlock()
	s.log.Info("switched to a new graph")
	if idle {
		s.retire(prev)
	}
}

// Close closes the current graph; older ones close as they go idle.
func (s *Switch) Close() error {
	s.mu.Lock()
	cur := s.cur
	cur.old = true
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

// enter returns the graph for a call: the one fd was opened on, or the
// current one, and counts the call until leave.
func (s *Switch) enter(fd *fop.FD) *gen {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.cur
	if fd != nil {
		if v, ok := fd.Ctx(s); ok {
			g = v.(*gen)
		}
	}
	g.users++
	return g
}

func (s *Switch) leave(g *gen) { s.drop(g) }

// drop ends one use of g and closes g if it was the last of a retired
// graph.
func (s *Switch) drop(g *gen) {
	s.mu.Lock()
	g.users--
	idle := g.old && g.users == 0
	s.mu.Unlock()
	if idle {
		s.retire(g)
	}
}

// opened records that fd lives on g.
func (s *Switch) opened(fd *fop.FD, g *gen) {
	s.mu.Lock()
	g.users++
	s.mu.Unlock()
	fd.SetCtx(s, g)
}

// closed ends fd's use of g.
func (s *Switch) closed(fd *fop.FD, g *gen) {
	if _, ok := fd.Ctx(s); !ok {
		return
	}
	fd.DelCtx(s)
	s.drop(g)
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
