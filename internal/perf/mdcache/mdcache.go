// Package mdcache is the performance/md-cache layer, at the top of the
// client graph under io-stats. The kernel drops a node's attributes after
// every change this client makes to it (a create drops its directory's)
// and asks again with GETATTR before it goes on: a round trip per file
// created, written or removed. The changing calls already bring back the
// objects' attributes after the change; md-cache keeps them, and answers
// Stat and Fstat from them for md-cache-timeout.
//
// Correctness: only attributes returned by a call that no other change to
// the same object overlapped are kept (a reply overtaken by another
// change could be older than it); calls whose effect on attributes is
// not returned (xattr changes, reads moving atime, removals of names whose
// object is unknown here) drop what is kept. Between clients the
// attributes are at most md-cache-timeout old, as GlusterFS's; with
// cache-invalidation on, the bricks' upcalls (features/upcall) drop them
// as soon as another client changes the object (upcall.go).
package mdcache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "performance/md-cache"

// DefaultTimeout is GlusterFS's md-cache-timeout.
const DefaultTimeout = time.Second

// maxRecords bounds the table; reaching it drops the idle records.
const maxRecords = 1 << 16

// MDC is the md-cache layer.
type MDC struct {
	fop.Base
	timeout atomic.Int64 // nanoseconds; 0 turns caching off
	now     func() time.Time
	// invalidation says whether the bricks' upcalls drop what is kept
	// (cache-invalidation); emitUpcall passes them on.
	invalidation atomic.Bool
	emitUpcall   func(*fop.Upcall)

	mu sync.Mutex
	m  map[fop.GFID]*record
	// gen is bumped to drop every record at once (a removal of a name
	// whose object is unknown here may have changed any object's nlink).
	gen uint64
}

// record is one object's state: its attributes if valid, and how many
// changes to it are in flight.
type record struct {
	key   fop.GFID
	attr  fop.Attr
	at    time.Time
	gen   uint64 // valid only while equal to MDC.gen
	valid bool
	ver   uint64 // bumped by every change that starts
	busy  int    // changes in flight
}

// token is what a call remembers from its start, to tell at its end
// whether its reply may be kept.
type token struct {
	rec *record
	ver uint64
	gen uint64
}

var (
	_ fop.Layer          = (*MDC)(nil)
	_ graph.Reconfigurer = (*MDC)(nil)
)

// New builds the layer above its single child.
func New(a *graph.Args) (fop.Layer, error) {
	next, err := a.OnlyChild()
	if err != nil {
		return nil, err
	}
	c := &MDC{Base: fop.Base{Next: next}, now: time.Now, m: make(map[fop.GFID]*record), emitUpcall: a.Upcaller()}
	if err := c.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	return c, nil
}

// Reconfigure applies options md-cache-timeout (seconds) and
// cache-invalidation (on/off).
func (c *MDC) Reconfigure(opts map[string]string) error {
	inv, err := volopt.LayerBool(opts, "cache-invalidation", false)
	if err != nil {
		return fmt.Errorf("%s: %w", Type, err)
	}
	c.invalidation.Store(inv)
	t, err := volopt.LayerSeconds(opts, "md-cache-timeout", DefaultTimeout)
	if err != nil {
		return fmt.Errorf("%s: %w", Type, err)
	}
	c.timeout.Store(int64(t))
	return nil
}

// recordLocked returns g's record, making one.
func (c *MDC) recordLocked(g fop.GFID) *record {
	r := c.m[g]
	if r == nil {
		if len(c.m) >= maxRecords {
			for k, x := range c.m {
				if x.busy == 0 {
					delete(c.m, k)
				}
			}
		}
		r = &record{key: g}
		c.m[g] = r
	}
	return r
}

// cached returns g's attributes if they are kept and fresh.
func (c *MDC) cached(g fop.GFID) (fop.Attr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[g]
	if r == nil || !r.valid || r.gen != c.gen || c.now().Sub(r.at) >= time.Duration(c.timeout.Load()) {
		return fop.Attr{}, false
	}
	return r.attr, true
}

// look starts a call that reads g's attributes.
func (c *MDC) look(g fop.GFID) token {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.recordLocked(g)
	return token{rec: r, ver: r.ver, gen: c.gen}
}

// seen ends a read started by look: a takes the record's place unless a
// change started meanwhile.
func (c *MDC) seen(t token, a *fop.Attr, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && t.rec.ver == t.ver && t.rec.busy == 0 && t.gen == c.gen {
		c.keepLocked(t.rec, a)
	}
}

func (c *MDC) keepLocked(r *record, a *fop.Attr) {
	// A reply about another object than the record's (a caller that
	// left a GFID unset) is not kept.
	if a.GFID != r.key || c.timeout.Load() == 0 {
		return
	}
	r.attr, r.at, r.gen, r.valid = *a, c.now(), c.gen, true
}

// change starts a change to g: what is kept of it is dropped.
func (c *MDC) change(g fop.GFID) token {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.recordLocked(g)
	r.ver++
	r.busy++
	r.valid = false
	return token{rec: r, ver: r.ver, gen: c.gen}
}

// changed ends a change: a (the attributes after it) is kept if no other
// change to the object overlapped this one; nil keeps nothing.
func (c *MDC) changed(t token, a *fop.Attr, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := t.rec
	r.busy--
	if a != nil && err == nil && r.ver == t.ver && r.busy == 0 && t.gen == c.gen {
		c.keepLocked(r, a)
		return
	}
	// A change that overlapped keeps nothing; nor do later reads that
	// started during this one.
	r.ver++
	r.valid = false
}

// dropAll forgets every object's attributes, except that the changes of
// keep, in flight, may still keep theirs: they are about objects the
// caller knows, the drop about those it does not.
func (c *MDC) dropAll(keep ...*token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, t := range keep {
		t.gen = c.gen
	}
}

// Stat answers from the kept attributes.
func (c *MDC) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	if loc.GFID.IsZero() {
		return c.Next.Stat(ctx, loc)
	}
	if a, ok := c.cached(loc.GFID); ok {
		return a, nil
	}
	t := c.look(loc.GFID)
	a, err := c.Next.Stat(ctx, loc)
	c.seen(t, &a, err)
	return a, err
}

// Fstat answers from the kept attributes.
func (c *MDC) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	if a, ok := c.cached(fd.GFID); ok {
		return a, nil
	}
	t := c.look(fd.GFID)
	a, err := c.Next.Fstat(ctx, fd)
	c.seen(t, &a, err)
	return a, err
}
