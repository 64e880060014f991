// Package graph builds a volume's layer graph from a volfile: it looks up
// each volume's type in a Registry, constructs the layers children first,
// records who is whose parent, carries events (a brick connecting or going
// away) up to the top, and starts and closes the layers.
package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// Args is what a layer's constructor gets.
type Args struct {
	Name       string // the volume's name in the volfile, e.g. "vol-client-0"
	Type       string // e.g. "protocol/client"
	Options    map[string]string
	Children   []fop.Layer
	ChildNames []string
	// Emit reports an event of this layer to its parents.
	Emit func(fop.Event)
	// EmitUpcall passes a cache invalidation on to this layer's parents.
	EmitUpcall func(*fop.Upcall)
	Logger     *slog.Logger
}

// OnlyChild returns the single child of a layer that stacks on exactly one.
func (a *Args) OnlyChild() (fop.Layer, error) {
	if len(a.Children) != 1 {
		return nil, fmt.Errorf("%s %s: needs exactly one subvolume", a.Type, a.Name)
	}
	return a.Children[0], nil
}

// Upcaller returns EmitUpcall, or a function that drops upcalls when the
// builder gave none (a layer made outside a graph, in tests).
func (a *Args) Upcaller() func(*fop.Upcall) {
	if a.EmitUpcall == nil {
		return func(*fop.Upcall) {}
	}
	return a.EmitUpcall
}

// Factory constructs a layer.
type Factory func(a *Args) (fop.Layer, error)

// Registry maps volfile types ("storage/posix") to constructors. Programs
// assemble the one they need; there is no global registry.
type Registry map[string]Factory

// Starter is implemented by layers with background work (connecting to a
// brick). Start is called once the whole graph is wired, children first.
type Starter interface {
	Start(ctx context.Context) error
}

// Graph is a built volume graph.
type Graph struct {
	Top     fop.Layer
	TopName string

	log     *slog.Logger
	order   []fop.Layer // children first
	names   map[fop.Layer]string
	parents map[fop.Layer][]fop.Layer

	mu       sync.Mutex
	up       bool
	upCh     chan struct{} // closed while up
	onEvent  func(fop.Event)
	onUpcall func(*fop.Upcall)
}

// Options for Build.
type Options struct {
	Logger *slog.Logger
	// OnEvent sees the events that reach the top of the graph.
	OnEvent func(fop.Event)
	// OnUpcall sees the cache invalidations that reach the top of the
	// graph (the FUSE bridge drops the kernel's caches). It must not block.
	OnUpcall func(*fop.Upcall)
}

// Build constructs every layer of f and wires them; it does not start them.
func Build(f *volfile.File, reg Registry, o Options) (*Graph, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Graph{
		log:      log,
		names:    map[fop.Layer]string{},
		parents:  map[fop.Layer][]fop.Layer{},
		upCh:     make(chan struct{}),
		onEvent:  o.OnEvent,
		onUpcall: o.OnUpcall,
	}
	byName := map[string]fop.Layer{}
	for _, v := range f.Volumes {
		factory, ok := reg[v.Type]
		if !ok {
			g.Close()
			return nil, fmt.Errorf("volume %s: unknown type %q", v.Name, v.Type)
		}
		a := &Args{
			Name:       v.Name,
			Type:       v.Type,
			Options:    map[string]string{},
			ChildNames: v.Subvolumes,
			Logger:     log.With("layer", v.Name),
		}
		for _, opt := range v.Options {
			a.Options[opt.Key] = opt.Value
		}
		for _, s := range v.Subvolumes {
			a.Children = append(a.Children, byName[s])
		}
		var self fop.Layer
		a.Emit = func(ev fop.Event) { g.emit(self, ev) }
		a.EmitUpcall = func(u *fop.Upcall) { g.emitUpcall(self, u) }
		l, err := factory(a)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("volume %s (%s): %w", v.Name, v.Type, err)
		}
		self = l
		byName[v.Name] = l
		g.names[l] = v.Name
		g.order = append(g.order, l)
		for _, c := range a.Children {
			g.parents[c] = append(g.parents[c], l)
		}
	}
	g.Top = byName[f.Top().Name]
	g.TopName = f.Top().Name
	return g, nil
}

// Start starts the layers that have background work, children first.
func (g *Graph) Start(ctx context.Context) error {
	if len(g.order) > 0 {
		// A graph without any Starter (all local) is up at once.
		hasStarter := false
		for _, l := range g.order {
			if _, ok := l.(Starter); ok {
				hasStarter = true
			}
		}
		if !hasStarter {
			g.setUp(true)
		}
	}
	for _, l := range g.order {
		if s, ok := l.(Starter); ok {
			if err := s.Start(ctx); err != nil {
				return fmt.Errorf("start %s: %w", g.names[l], err)
			}
		}
	}
	return nil
}

// emit delivers ev from layer `from` to its parents; a parent that is not a
// Notifier forwards it further up as its own.
func (g *Graph) emit(from fop.Layer, ev fop.Event) {
	parents := g.parents[from]
	if len(parents) == 0 && from == g.Top {
		g.log.Debug("graph event", "event", ev.String())
		g.setUp(ev == fop.ChildUp)
		if g.onEvent != nil {
			g.onEvent(ev)
		}
		return
	}
	for _, p := range parents {
		if n, ok := p.(fop.Notifier); ok {
			n.Notify(from, ev)
		} else {
			g.emit(p, ev)
		}
	}
}

// emitUpcall delivers u from layer `from` to its parents; a parent that is
// not an UpcallNotifier forwards it further up.
func (g *Graph) emitUpcall(from fop.Layer, u *fop.Upcall) {
	parents := g.parents[from]
	if len(parents) == 0 && from == g.Top {
		if g.onUpcall != nil {
			g.onUpcall(u)
		}
		return
	}
	for _, p := range parents {
		if n, ok := p.(fop.UpcallNotifier); ok {
			n.NotifyUpcall(from, u)
		} else {
			g.emitUpcall(p, u)
		}
	}
}

func (g *Graph) setUp(up bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if up == g.up {
		return
	}
	g.up = up
	if up {
		close(g.upCh)
	} else {
		g.upCh = make(chan struct{})
	}
}

// WaitUp blocks until the top of the graph has reported ChildUp (its
// bricks are reachable) or ctx ends.
func (g *Graph) WaitUp(ctx context.Context) error {
	g.mu.Lock()
	ch := g.upCh
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Layer returns the layer called name in the volfile, or nil.
func (g *Graph) Layer(name string) fop.Layer {
	for l, n := range g.names {
		if n == name {
			return l
		}
	}
	return nil
}

// Close closes every layer that is an io.Closer, top first.
func (g *Graph) Close() error {
	var errs []error
	for i := len(g.order) - 1; i >= 0; i-- {
		if c, ok := g.order[i].(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", g.names[g.order[i]], err))
			}
		}
	}
	return errors.Join(errs...)
}
