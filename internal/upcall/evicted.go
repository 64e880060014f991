package upcall

import (
	"encoding/binary"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// A client's evicted objects go into Bloom filters of 128 KiB, each about
// 2% false positives when full; with maxFilters full, evictions are told
// as before.
const (
	filterBits     = 1 << 20
	filterHashes   = 4
	filterCapacity = 1 << 17
	maxFilters     = 8
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
// Why it is sound: a filter is dropped only once its last eviction is
// timeout old, and an evicted interest, registered at or before its
// eviction, had expired by then: a change that would have found it live
// in the table finds it in a filter. A client told through a filter is
// marked told in the table (interest.told) so that a file another client
// keeps writing does not tell it at every write.
type evicted map[string][]*bloom // by client, oldest first

type bloom struct {
	bits [filterBits / 64]uint64
	n    int
	last int64 // the last eviction added (unix nanoseconds)
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

// expire drops client's filters whose last eviction is timeout old.
func (e evicted) expire(client string, now, timeout int64) []*bloom {
	fs := e[client]
	i := 0
	for i < len(fs) && now-fs[i].last >= timeout {
		i++
	}
	if i == len(fs) {
		delete(e, client)
		return nil
	}
	if i > 0 {
		fs = append(fs[:0], fs[i:]...)
		e[client] = fs
	}
	return fs
}

// add records that client's live interest in g left the table; false when
// the client's filters are full (then it must be told now).
func (e evicted) add(client string, g fop.GFID, now, timeout int64) bool {
	fs := e.expire(client, now, timeout)
	if len(fs) == 0 || fs[len(fs)-1].n >= filterCapacity {
		if len(fs) == maxFilters {
			return false
		}
		fs = append(fs, new(bloom))
		e[client] = fs
	}
	b := fs[len(fs)-1]
	b.add(g)
	b.last = now
	return true
}

// holders calls fn for each client whose live interest in g may have left
// the table.
func (e evicted) holders(g fop.GFID, now, timeout int64, fn func(client string)) {
	for c := range e {
		for _, b := range e.expire(c, now, timeout) {
			if b.has(g) {
				fn(c)
				break
			}
		}
	}
}
