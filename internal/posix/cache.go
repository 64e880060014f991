package posix

import (
	"container/list"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// dirRef is an open directory fd shared by concurrent calls. An fd follows
// its directory across renames, so only rmdir (or eviction) retires it; the
// fd is closed once the last borrower releases it.
type dirRef struct {
	g    fop.GFID
	fd   int
	refs int
	dead bool
	elem *list.Element
}

// dirCache is a bounded LRU of directory fds keyed by GFID, so that entry
// operations on a hot directory cost no path walk at all.
type dirCache struct {
	mu  sync.Mutex
	max int
	m   map[fop.GFID]*dirRef
	lru list.List // front = most recent; values are *dirRef
}

func newDirCache(max int) *dirCache {
	return &dirCache{max: max, m: make(map[fop.GFID]*dirRef)}
}

// pin adds a ref that is never evicted (the brick root).
func (c *dirCache) pin(g fop.GFID, fd int) *dirRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &dirRef{g: g, fd: fd, refs: 1}
	c.m[g] = r
	return r
}

// get borrows the cached fd of g, or returns nil.
func (c *dirCache) get(g fop.GFID) *dirRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[g]
	if r == nil {
		return nil
	}
	r.refs++
	if r.elem != nil {
		c.lru.MoveToFront(r.elem)
	}
	return r
}

// has reports whether g is cached, without borrowing it.
func (c *dirCache) has(g fop.GFID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[g] != nil
}

// add caches fd for g and borrows it. If another call cached g meanwhile,
// fd is closed and the cached one is borrowed instead.
func (c *dirCache) add(g fop.GFID, fd int) *dirRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.m[g]; r != nil {
		unix.Close(fd)
		r.refs++
		return r
	}
	r := &dirRef{g: g, fd: fd, refs: 1}
	r.elem = c.lru.PushFront(r)
	c.m[g] = r
	for c.lru.Len() > c.max {
		c.dropLocked(c.lru.Back().Value.(*dirRef))
	}
	return r
}

// release returns a borrowed ref.
func (c *dirCache) release(r *dirRef) {
	if r == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r.refs--
	if r.dead && r.refs == 0 {
		unix.Close(r.fd)
	}
}

// drop forgets g (rmdir, or a directory replaced by rename).
func (c *dirCache) drop(g fop.GFID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.m[g]; r != nil && r.elem != nil {
		c.dropLocked(r)
	}
}

func (c *dirCache) dropLocked(r *dirRef) {
	delete(c.m, r.g)
	c.lru.Remove(r.elem)
	r.elem = nil
	r.dead = true
	if r.refs == 0 {
		unix.Close(r.fd)
	}
}

// closeAll closes every cached fd (layer shutdown).
func (c *dirCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for g, r := range c.m {
		delete(c.m, g)
		if r.elem != nil {
			c.lru.Remove(r.elem)
		}
		r.dead = true
		unix.Close(r.fd)
	}
}
