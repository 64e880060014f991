// Package nlcache is the performance/nl-cache layer (GlusterFS's negative
// lookup cache), under md-cache in the client graph. Every file created
// through FUSE is first looked up, and the answer is ENOENT: a round trip
// to the bricks (to each of a replica set; on distribute to the hashed
// brick and then to all) for a name that does not exist. nl-cache answers
// those lookups itself when it knows the name is absent from the
// directory:
//
//   - it keeps the names a lookup found absent (negative entries), and
//     the names this client removed;
//   - it knows the whole content of a directory this client created, or
//     listed to the end, and keeps it up to date with the entries this
//     client adds and removes; a name outside it is absent.
//
// What is kept of a directory is trusted for nl-cache-timeout from the
// start of the call that learnt it, and dropped as soon as a brick reports
// (features/upcall, upcall.go) that another client changed the directory,
// or a brick connection went down or up. A call that overlapped a change of
// the directory keeps nothing. Memory is bounded: least recently used
// directories go first.
package nlcache

import (
	"container/list"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "performance/nl-cache"

// DefaultTimeout is GlusterFS's nl-cache-timeout.
const DefaultTimeout = 60 * time.Second

// Bounds: names kept in all (absent and, for complete directories,
// present), and the largest listing kept as a directory's content.
const (
	maxNames   = 1 << 17
	maxDirs    = 1 << 14
	maxListing = 1 << 14
)

// maxName is NAME_MAX: longer names are never answered here.
const maxName = 255

// NLC is the nl-cache layer.
type NLC struct {
	fop.Base
	emitUpcall func(*fop.Upcall)
	now        func() time.Time
	timeout    atomic.Int64 // nanoseconds; 0 keeps nothing

	mu      sync.Mutex
	dirs    map[fop.GFID]*list.Element // of *dir
	lru     list.List                  // front: most recently used
	names   int                        // kept in all dirs
	max     int                        // bound of names
	maxDirs int                        // bound of dirs
}

// dir is what this client knows of one directory's entries.
type dir struct {
	gfid fop.GFID
	// ver is bumped by every change of the directory that starts or ends
	// and by every invalidation; a call's answer is kept only if ver did
	// not move meanwhile and no change was in flight.
	ver  uint64
	busy int // changes through this client in flight
	// absent names and since when (the start of the call that told).
	absent map[string]time.Time
	// present lists every name of the directory, if known (since
	// complete); nil if not.
	present  map[string]struct{}
	complete time.Time
}

// token is what a call remembers from its start.
type token struct {
	d     *dir
	ver   uint64
	start time.Time
}

var (
	_ fop.Layer          = (*NLC)(nil)
	_ graph.Reconfigurer = (*NLC)(nil)
)

// New builds the layer above its single child.
func New(a *graph.Args) (fop.Layer, error) {
	next, err := a.OnlyChild()
	if err != nil {
		return nil, err
	}
	c := &NLC{Base: fop.Base{Next: next}, emitUpcall: a.Upcaller(), now: time.Now, dirs: map[fop.GFID]*list.Element{}, max: maxNames, maxDirs: maxDirs}
	if err := c.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	return c, nil
}

// Reconfigure applies option nl-cache-timeout (seconds).
func (c *NLC) Reconfigure(opts map[string]string) error {
	t, err := volopt.LayerSeconds(opts, "nl-cache-timeout", DefaultTimeout)
	if err != nil {
		return fmt.Errorf("%s: %w", Type, err)
	}
	c.timeout.Store(int64(t))
	return nil
}

// dirLocked returns g's record, making one and pushing out the least
// recently used ones over the bound.
func (c *NLC) dirLocked(g fop.GFID) *dir {
	if e := c.dirs[g]; e != nil {
		c.lru.MoveToFront(e)
		return e.Value.(*dir)
	}
	d := &dir{gfid: g, absent: map[string]time.Time{}}
	c.dirs[g] = c.lru.PushFront(d)
	c.trimLocked(d)
	return d
}

// trimLocked keeps the names and directories under their bounds, dropping
// whole directories from the least recently used (never keep, which is
// being filled).
func (c *NLC) trimLocked(keep *dir) {
	for e := c.lru.Back(); (c.names > c.max || len(c.dirs) > c.maxDirs) && e != nil; {
		prev := e.Prev()
		if d := e.Value.(*dir); d != keep {
			c.forgetLocked(d)
			c.lru.Remove(e)
			delete(c.dirs, d.gfid)
		}
		e = prev
	}
}

// forgetLocked drops what is known of d; calls in flight keep nothing.
func (c *NLC) forgetLocked(d *dir) {
	c.names -= len(d.absent) + len(d.present)
	clear(d.absent)
	d.present = nil
	d.ver++
}

// fresh says whether something learnt at since is still to be trusted.
func (c *NLC) fresh(since time.Time) bool {
	return c.now().Sub(since) < time.Duration(c.timeout.Load())
}

// isAbsent says whether name is known absent from directory g.
func (c *NLC) isAbsent(g fop.GFID, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.dirs[g]
	if e == nil {
		return false
	}
	d := e.Value.(*dir)
	if at, ok := d.absent[name]; ok {
		if c.fresh(at) {
			return true
		}
		delete(d.absent, name)
		c.names--
	}
	if d.present == nil {
		return false
	}
	if !c.fresh(d.complete) {
		c.names -= len(d.present)
		d.present = nil
		return false
	}
	_, ok := d.present[name]
	return !ok
}

// begin starts a call that reads directory g.
func (c *NLC) begin(g fop.GFID) token {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dirLocked(g)
	return token{d: d, ver: d.ver, start: c.now()}
}

// unchangedLocked says whether nothing changed g since t was taken.
func (c *NLC) unchangedLocked(t token) bool {
	e := c.dirs[t.d.gfid]
	return e != nil && e.Value == t.d && t.d.ver == t.ver && t.d.busy == 0 && c.timeout.Load() > 0
}

// foundAbsent ends a lookup of name that answered ENOENT.
func (c *NLC) foundAbsent(t token, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.unchangedLocked(t) {
		return
	}
	if _, ok := t.d.absent[name]; !ok {
		c.names++
	}
	t.d.absent[name] = t.start
	c.trimLocked(t.d)
}

// foundPresent ends a lookup of name that found it: what said otherwise
// was wrong (it is stale) and goes.
func (c *NLC) foundPresent(g fop.GFID, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.dirs[g]
	if e == nil {
		return
	}
	d := e.Value.(*dir)
	if _, ok := d.absent[name]; ok {
		delete(d.absent, name)
		c.names--
	}
	if _, ok := d.present[name]; d.present != nil && !ok {
		c.names -= len(d.present)
		d.present = nil
	}
}

// listed ends a listing of the whole directory started at t.
func (c *NLC) listed(t token, names map[string]struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.unchangedLocked(t) {
		return
	}
	c.names += len(names) - len(t.d.present)
	t.d.present, t.d.complete = names, t.start
	c.trimLocked(t.d)
}

// change starts a change of directory g through this client.
func (c *NLC) change(g fop.GFID) token {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dirLocked(g)
	d.ver++
	d.busy++
	return token{d: d, ver: d.ver, start: c.now()}
}

// added ends a change that adds name to t's directory; err says whether
// it did. A failed one leaves the name's state unknown.
func (c *NLC) added(t token, name string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := t.d
	d.busy--
	d.ver++
	if _, ok := d.absent[name]; ok {
		delete(d.absent, name)
		c.names--
	}
	if d.present == nil {
		return
	}
	if _, ok := d.present[name]; err == nil && !ok {
		d.present[name] = struct{}{}
		c.names++
		c.trimLocked(d)
	} else if err != nil {
		c.names -= len(d.present)
		d.present = nil
	}
}

// removed ends a change that takes name out of t's directory. The name is
// known absent if no other change of the directory overlapped.
func (c *NLC) removed(t token, name string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := t.d
	alone := d.ver == t.ver && d.busy == 1
	d.busy--
	d.ver++
	if err != nil {
		return
	}
	if _, ok := d.present[name]; ok {
		delete(d.present, name)
		c.names--
	}
	e := c.dirs[d.gfid]
	if !alone || e == nil || e.Value != d || c.timeout.Load() == 0 {
		return
	}
	if _, ok := d.absent[name]; !ok {
		c.names++
	}
	d.absent[name] = t.start
	c.trimLocked(d)
}

// created records that this client made directory g at t.start: it is
// empty.
func (c *NLC) created(g fop.GFID, start time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timeout.Load() == 0 {
		return
	}
	d := c.dirLocked(g)
	c.forgetLocked(d)
	d.present, d.complete = map[string]struct{}{}, start
}

// drop forgets directory g.
func (c *NLC) drop(g fop.GFID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.dirs[g]; e != nil {
		c.forgetLocked(e.Value.(*dir))
	}
}

// dropAll forgets every directory.
func (c *NLC) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.dirs {
		c.forgetLocked(e.Value.(*dir))
	}
	clear(c.dirs)
	c.lru.Init()
}

// errAbsent is the answer for a name known absent.
func errAbsent(loc *fop.Loc) error {
	return fmt.Errorf("lookup %s (%s in %s): %w", loc.Path, loc.Name, loc.Parent, syscall.ENOENT)
}

// isENOENT says whether a lookup found the name absent.
func isENOENT(err error) bool { return fop.Errno(err) == syscall.ENOENT }
