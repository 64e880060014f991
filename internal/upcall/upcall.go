// Package upcall is the features/upcall brick layer (GlusterFS's
// xlators/features/upcall, its cache-invalidation part). It remembers which
// clients recently looked at each object (any call naming its GFID, or a
// directory by an entry in it), and when a call changes an object (its
// attributes, data or xattrs) or a directory's entries, it tells the other
// clients that looked at it within cache-invalidation-timeout, through
// protocol/server, so that their caches (md-cache, nl-cache, the kernel's)
// drop what they keep. The client that made the change is not told: it
// updates its own caches.
//
// A client is told once of an object: telling it also forgets its
// interest, which its next call on the object registers again (its caches
// are empty until then). A change to one named entry of a directory is the
// exception: the client drops that name only and goes on trusting the
// directory's other names (the kernel's dentries), so it stays interested
// and hears of the next one. Interest is registered before a call goes down and invalidations
// are sent after a change is done, so a client reading concurrently with
// a change either sees the change or hears of it. A read that learns of
// objects only from its reply (a lookup by name, readdirplus) registers
// interest in them afterwards; a change numbered in between (changeLog)
// makes it run again. The table is bounded: an object pushed out of it
// while clients still hold interest goes into their evicted filters, which
// changes consult (see evicted), or, when a filter is full, is invalidated
// for them, so no client keeps a cache nobody will correct.
// A client whose connection ends is forgotten.
package upcall

import (
	"container/list"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "features/upcall"

// DefaultTimeout is GlusterFS's cache-invalidation-timeout: how long a
// client's interest in an object lasts after its last call on it.
const DefaultTimeout = 60 * time.Second

// maxObjects bounds the table.
const maxObjects = 1 << 16

// Upcall is the features/upcall layer.
type Upcall struct {
	fop.Base
	emit    func(*fop.Upcall)
	now     func() time.Time
	enabled atomic.Bool
	timeout atomic.Int64 // nanoseconds
	max     int          // objects in the table

	mu   sync.Mutex
	objs map[fop.GFID]*list.Element // of *object
	lru  list.List                  // front: most recently used
	log  changeLog
	gone evicted
}

// object is the interest of clients in one GFID: usually one client, so
// a slice (a map per object would cost several times the memory).
type object struct {
	gfid    fop.GFID
	clients []interest
}

// interest is a client's last call on an object (unix nanoseconds), or,
// if told, when it was told of a change through the evicted filters: it
// is not told again until its next call on the object.
type interest struct {
	client string
	at     int64
	told   bool
}

// touch records a call of client at now (told: a tell instead).
func (o *object) touch(client string, now int64, told bool) {
	for i := range o.clients {
		if o.clients[i].client == client {
			o.clients[i] = interest{client, now, told}
			return
		}
	}
	o.clients = append(o.clients, interest{client, now, told})
}

// has says whether client is among o's interests.
func (o *object) has(client string) bool {
	return slices.ContainsFunc(o.clients, func(in interest) bool { return in.client == client })
}

var (
	_ fop.Layer           = (*Upcall)(nil)
	_ fop.ClientForgetter = (*Upcall)(nil)
	_ graph.Reconfigurer  = (*Upcall)(nil)
)

// New builds the layer above its single child.
func New(a *graph.Args) (fop.Layer, error) {
	next, err := a.OnlyChild()
	if err != nil {
		return nil, err
	}
	u := &Upcall{Base: fop.Base{Next: next}, emit: a.Upcaller(), now: time.Now, objs: map[fop.GFID]*list.Element{}, gone: evicted{}, max: maxObjects}
	if err := u.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	return u, nil
}

// Reconfigure applies options cache-invalidation (on/off, default off, as
// GlusterFS) and cache-invalidation-timeout (seconds). Turning it off
// forgets every client's interest.
func (u *Upcall) Reconfigure(opts map[string]string) error {
	on, err := volopt.LayerBool(opts, "cache-invalidation", false)
	if err != nil {
		return fmt.Errorf("%s: %w", Type, err)
	}
	t, err := volopt.LayerSeconds(opts, "cache-invalidation-timeout", DefaultTimeout)
	if err != nil {
		return fmt.Errorf("%s: %w", Type, err)
	}
	u.timeout.Store(int64(t))
	if !on {
		u.mu.Lock()
		clear(u.objs)
		u.lru.Init()
		clear(u.gone)
		u.mu.Unlock()
	}
	u.enabled.Store(on)
	return nil
}

// seen registers the caller's interest in the objects gs (zero GFIDs are
// skipped) and returns the number of the brick's last change, for
// learned. Internal calls (no client) register nothing.
func (u *Upcall) seen(client string, gs ...fop.GFID) uint64 {
	if client == "" || !u.enabled.Load() {
		return 0
	}
	now := u.now().UnixNano()
	u.mu.Lock()
	for _, g := range gs {
		if !g.IsZero() {
			u.record(g).touch(client, now, false)
		}
	}
	seq := u.log.seq
	out := u.evictLocked(now)
	u.mu.Unlock()
	for i := range out {
		u.emit(&out[i])
	}
	return seq
}

// record returns g's entry, made most recently used (made if new).
func (u *Upcall) record(g fop.GFID) *object {
	e := u.objs[g]
	if e == nil {
		e = u.lru.PushFront(&object{gfid: g})
		u.objs[g] = e
	} else {
		u.lru.MoveToFront(e)
	}
	return e.Value.(*object)
}

// evictLocked keeps the table within bounds, least recently used first.
// Live interests pushed out go to the evicted filters; it returns the
// invalidations for those no filter could take: a client must not go on
// trusting a cache nobody will correct.
func (u *Upcall) evictLocked(now int64) []fop.Upcall {
	var out []fop.Upcall
	timeout := u.timeout.Load()
	for len(u.objs) > u.max {
		o := u.lru.Remove(u.lru.Back()).(*object)
		delete(u.objs, o.gfid)
		for _, in := range o.clients {
			if !in.told && now-in.at < timeout && !u.gone.add(in.client, o.gfid, now, timeout) {
				out = append(out, fop.Upcall{Client: in.client, GFID: o.gfid, Flags: fop.UpcallAttr | fop.UpcallXattr | fop.UpcallEntry})
			}
		}
	}
	return out
}

// learned registers the caller's interest in objects gs that a read,
// started after change number seq, told it of, and says whether one of
// them was changed by another client meanwhile: that change found no
// interest to tell, and the read may have missed it.
func (u *Upcall) learned(client string, seq uint64, gs ...fop.GFID) bool {
	if client == "" || !u.enabled.Load() {
		return false
	}
	u.seen(client, gs...)
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, g := range gs {
		if !g.IsZero() && u.log.changedSince(g, client, seq) {
			return true
		}
	}
	return false
}

// change is one object a call changed and what changed of it.
type change struct {
	gfid  fop.GFID
	flags fop.UpcallFlags
	name  string // the entry, for UpcallEntry
}

// changed tells the clients other than origin that hold interest in the
// changed objects, and forgets their interest (not in a directory whose
// change names the entry).
func (u *Upcall) changed(origin string, cs ...change) {
	if !u.enabled.Load() {
		return
	}
	now, timeout := u.now().UnixNano(), u.timeout.Load()
	var out []fop.Upcall
	var told []fop.Upcall // clients told through the evicted filters
	u.mu.Lock()
	for _, c := range cs {
		if !c.gfid.IsZero() {
			u.log.add(c.gfid, origin)
		}
	}
	// Every change is told before interest is forgotten: a rename within
	// one directory tells of both names.
	for _, c := range cs {
		if c.gfid.IsZero() {
			continue
		}
		var o *object
		if e := u.objs[c.gfid]; e != nil {
			o = e.Value.(*object)
			for _, in := range o.clients {
				if in.client != origin && !in.told && now-in.at < timeout {
					out = append(out, fop.Upcall{Client: in.client, GFID: c.gfid, Flags: c.flags, Name: c.name})
				}
			}
		}
		u.gone.holders(c.gfid, now, timeout, func(client string) {
			// A client in the table called on the object since the
			// eviction (or was told since): the table says what it needs.
			if client != origin && (o == nil || !o.has(client)) {
				up := fop.Upcall{Client: client, GFID: c.gfid, Flags: c.flags, Name: c.name}
				out = append(out, up)
				told = append(told, up)
			}
		})
	}
	for _, c := range cs {
		e := u.objs[c.gfid]
		if e == nil {
			continue
		}
		if c.name != "" {
			// The clients told drop that one name of the directory and
			// go on trusting its other names: they stay interested.
			continue
		}
		o := e.Value.(*object)
		o.clients = slices.DeleteFunc(o.clients, func(in interest) bool {
			return in.client != origin && !(in.told && now-in.at < timeout)
		})
		if len(o.clients) == 0 {
			u.lru.Remove(e)
			delete(u.objs, c.gfid)
		}
	}
	for _, t := range told {
		u.record(t.GFID).touch(t.Client, now, true)
	}
	out = append(out, u.evictLocked(now)...)
	u.mu.Unlock()
	for i := range out {
		u.emit(&out[i])
	}
}

// ForgetClient drops the interest of a client whose connection is gone,
// and passes the call on.
func (u *Upcall) ForgetClient(client string) {
	u.mu.Lock()
	for g, e := range u.objs {
		o := e.Value.(*object)
		o.clients = slices.DeleteFunc(o.clients, func(in interest) bool { return in.client == client })
		if len(o.clients) == 0 {
			u.lru.Remove(e)
			delete(u.objs, g)
		}
	}
	delete(u.gone, client)
	u.mu.Unlock()
	u.Base.ForgetClient(client)
}
