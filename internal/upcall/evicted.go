package upcall

import (
	"encoding/binary"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Each client's filter of evicted objects, per generation: 128 KiB, about
// 2% false positives when full; past that, evictions are told as before.
const (
	filterBits     = 1 << 20
	filterHashes   = 4
	filterCapacity = 1 << 17
)

// evicted lets the table forget objects silently. Telling a client of
// every object pushed out of the table (the old way) sends a client that
// creates more than the table holds per timeout an invalidation for each
// of its own new files, which also drops their pages from its kernel.
// Instead, an object evicted while a client's interest in it is live goes
// into that client's Bloom filter, and a change of an object checks the
// filters: the client is told of the change as if its interest were still
// in the table (a false positive costs one needless invalidation).
//
// Why it is sound: filters come in generations; a generation is dropped
// only after the next one has lasted the timeout (or the last eviction is
// timeout old), so an eviction at time e stays in a filter until at least
// e+timeout, and the evicted interest, registered at or before e, had
// expired by then: a change that would have found it live in the table
// finds it in a filter. A client told through a filter is marked told in
// the table (interest.told) so that a file another client keeps writing
// does not tell it at every write.
type evicted struct {
	started   int64 // when cur began (unix nanoseconds)
	last      int64 // the last eviction
	cur, prev map[string]*bloom
}

type bloom struct {
	bits [filterBits / 64]uint64
	n    int
}

// probes returns the filter positions of g (double hashing of its halves,
// mixed: GFIDs such as the root's are not random).
func probes(g fop.GFID) (p [filterHashes]uint32) {
	h1 := mix(binary.LittleEndian.Uint64(g[:8]))
	h2 := mix(binary.LittleEndian.Uint64(g[8:])^h1) | 1
	for i := range p {
		p[i] = uint32((h1 + uint64(i)*h2) % filterBits)
	}
	return p
}

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (b *bloom) add(g fop.GFID) {
	for _, i := range probes(g) {
		b.bits[i/64] |= 1 << (i % 64)
	}
	b.n++
}

func (b *bloom) has(g fop.GFID) bool {
	for _, i := range probes(g) {
		if b.bits[i/64]&(1<<(i%64)) == 0 {
			return false
		}
	}
	return true
}

// rotate starts a new generation once the current one is timeout old, and
// drops both once the last eviction is.
func (e *evicted) rotate(now, timeout int64) {
	if now-e.last >= timeout {
		e.prev, e.cur, e.started = nil, nil, now
		return
	}
	if now-e.started >= timeout {
		e.prev, e.cur, e.started = e.cur, nil, now
	}
}

// add records that client's live interest in g left the table; false when
// the client's filter is full (then it must be told now).
func (e *evicted) add(client string, g fop.GFID, now, timeout int64) bool {
	e.rotate(now, timeout)
	b := e.cur[client]
	if b == nil {
		if e.cur == nil {
			e.cur = map[string]*bloom{}
		}
		b = new(bloom)
		e.cur[client] = b
	}
	if b.n >= filterCapacity {
		return false
	}
	b.add(g)
	e.last = now
	return true
}

// holders calls fn for each client whose interest in g may have left the
// table while live.
func (e *evicted) holders(g fop.GFID, now, timeout int64, fn func(client string)) {
	e.rotate(now, timeout)
	for c, b := range e.cur {
		if b.has(g) {
			fn(c)
		}
	}
	for c, b := range e.prev {
		if _, dup := e.cur[c]; b.has(g) && (!dup || !e.cur[c].has(g)) {
			fn(c)
		}
	}
}

// forget drops a client's filters.
func (e *evicted) forget(client string) {
	delete(e.cur, client)
	delete(e.prev, client)
}
