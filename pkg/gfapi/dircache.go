package gfapi

import (
	"sync"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// dirCacheTTL bounds how stale a cached directory entry may be: the FUSE
// mount's default entry timeout, so gfapi and a mount see changes by
// other clients equally soon.
const dirCacheTTL = time.Second

// dirCacheMax bounds the cache; it is emptied when full.
const dirCacheMax = 16384

// dirCache remembers which directory a name in a directory leads to, so
// that resolving a deep path costs one lookup (its last component, always
// asked afresh) instead of one per component.
type dirCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[dirKey]cachedDir
}

type dirKey struct {
	parent fop.GFID
	name   string
}

type cachedDir struct {
	gfid fop.GFID
	at   time.Time
}

func newDirCache(ttl time.Duration) *dirCache {
	return &dirCache{ttl: ttl, m: map[dirKey]cachedDir{}}
}

func (c *dirCache) get(parent fop.GFID, name string) (fop.GFID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[dirKey{parent, name}]
	if !ok || time.Since(e.at) >= c.ttl {
		return fop.GFID{}, false
	}
	return e.gfid, true
}

func (c *dirCache) put(parent fop.GFID, name string, g fop.GFID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= dirCacheMax {
		clear(c.m)
	}
	c.m[dirKey{parent, name}] = cachedDir{gfid: g, at: time.Now()}
}

// drop forgets an entry this client removed or renamed.
func (c *dirCache) drop(loc *fop.Loc) {
	c.mu.Lock()
	delete(c.m, dirKey{loc.Parent, loc.Name})
	c.mu.Unlock()
}
