// Package quickread is the performance/quick-read layer of the client
// graph (above the cluster layers, below md-cache and open-behind). It
// asks lookups to bring back the content of small regular files
// (fop.ContentKey) and keeps it, so that the usual open + read + close of
// a small file costs no round trip beyond the lookup: the open is
// answered here, reads are served from the content, and the release of a
// file never opened below costs nothing. Any other operation on such an
// fd opens it below first.
//
// Unlike GlusterFS, it asks for content only in directories where files
// were recently opened for reading: a brick reading every small file's
// data for lookups that only stat (ls -l, find) would make those slower.
//
// Correctness: content is used only while it is younger than
// cache-timeout (bounded staleness between clients, as GlusterFS's
// qr-cache-timeout), is dropped when a lookup shows another size or mtime,
// and is dropped by every change this client makes to the file (fds
// opened here then switch to the bricks for their reads).
package quickread

import (
	"container/list"
	"context"
	"fmt"
	"path"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "performance/quick-read"

// Defaults: performance.cache-size's (volopt), GlusterFS's file size
// limit and timeout.
const (
	DefaultCacheSize   = 32 << 20
	DefaultMaxFileSize = 64 << 10
	DefaultTimeout     = time.Second
)

// config is the layer's options.
type config struct {
	cacheSize   uint64
	maxFileSize uint64
	timeout     time.Duration
}

func parseConfig(opts map[string]string) (config, error) {
	c := config{cacheSize: DefaultCacheSize, maxFileSize: DefaultMaxFileSize, timeout: DefaultTimeout}
	for k, dst := range map[string]*uint64{"cache-size": &c.cacheSize, "max-file-size": &c.maxFileSize} {
		if s, ok := opts[k]; ok {
			n, err := volopt.ParseSize(s)
			if err != nil {
				return c, fmt.Errorf("%s: option %s: %w", Type, k, err)
			}
			*dst = n
		}
	}
	if s, ok := opts["cache-timeout"]; ok {
		n, err := volopt.ParseTime(s)
		if err != nil {
			return c, fmt.Errorf("%s: option cache-timeout: %w", Type, err)
		}
		c.timeout = time.Duration(n) * time.Second
	}
	// The wire carries no larger value.
	c.maxFileSize = min(c.maxFileSize, fop.MaxContent)
	return c, nil
}

// QR is the quick-read layer.
type QR struct {
	fop.Base
	cfg   atomic.Pointer[config]
	cache cache
	// epoch counts invalidations: a lookup reply is cached only if none
	// happened while it was in flight, so that content read before one of
	// this client's writes is never kept after it.
	epoch atomic.Uint64
	hot   hotDirs
	now   func() time.Time
}

var (
	_ fop.Layer          = (*QR)(nil)
	_ graph.Reconfigurer = (*QR)(nil)
)

// New builds the layer above its single child.
func New(a *graph.Args) (fop.Layer, error) {
	next, err := a.OnlyChild()
	if err != nil {
		return nil, err
	}
	q := &QR{Base: fop.Base{Next: next}, now: time.Now}
	q.cache.init()
	if err := q.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	return q, nil
}

// Reconfigure applies changed options; a smaller cache-size evicts at once.
func (q *QR) Reconfigure(opts map[string]string) error {
	c, err := parseConfig(opts)
	if err != nil {
		return err
	}
	q.cfg.Store(&c)
	q.cache.shrink(c.cacheSize)
	return nil
}

// entry is one file's cached content. stale is set when this client
// changes the file, so that fds opened on it go below from then on.
type entry struct {
	g       fop.GFID
	data    []byte
	mtime   fop.Timespec
	size    uint64
	fetched time.Time
	uid     uint32
	gid     uint32
	stale   atomic.Bool
	elem    *list.Element
}

// cache is an LRU of entries bounded by their total size.
type cache struct {
	mu    sync.Mutex
	m     map[fop.GFID]*entry
	lru   list.List // front: most recently used
	bytes uint64
}

func (c *cache) init() { c.m = make(map[fop.GFID]*entry) }

func (c *cache) get(g fop.GFID) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[g]
	if e != nil {
		c.lru.MoveToFront(e.elem)
	}
	return e
}

func (c *cache) put(e *entry, limit uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(c.m[e.g])
	if uint64(len(e.data)) > limit {
		return
	}
	e.elem = c.lru.PushFront(e)
	c.m[e.g] = e
	c.bytes += uint64(len(e.data))
	c.evictLocked(limit)
}

func (c *cache) drop(g fop.GFID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(c.m[g])
}

func (c *cache) shrink(limit uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictLocked(limit)
}

func (c *cache) evictLocked(limit uint64) {
	for c.bytes > limit {
		c.removeLocked(c.lru.Back().Value.(*entry))
	}
}

func (c *cache) removeLocked(e *entry) {
	if e == nil {
		return
	}
	e.stale.Store(true)
	c.lru.Remove(e.elem)
	delete(c.m, e.g)
	c.bytes -= uint64(len(e.data))
}

// invalidate forgets g's content: called before and after each change
// this client makes to g (see epoch).
func (q *QR) invalidate(g fop.GFID) {
	q.epoch.Add(1)
	q.cache.drop(g)
}

// Lookup asks for the content of small files and keeps it.
func (q *QR) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	cfg := q.cfg.Load()
	_, asked := xreq[fop.ContentKey]
	known := q.cache.get(loc.GFID)
	if known != nil && !q.fresh(known, cfg) {
		known = nil
	}
	req := xreq
	if !asked && known == nil && cfg.maxFileSize > 0 && q.hot.is(path.Dir(loc.Path), q.now()) {
		req = make(fop.Dict, len(xreq)+1)
		for k, v := range xreq {
			req[k] = v
		}
		req[fop.ContentKey] = fop.ContentLimit(cfg.maxFileSize)
	}
	epoch := q.epoch.Load()
	a, x, err := q.Next.Lookup(ctx, loc, req)
	if err != nil || a.Type() != syscall.S_IFREG {
		return a, x, err
	}
	content, got := x[fop.ContentKey]
	if got && !asked {
		delete(x, fop.ContentKey)
	}
	switch {
	case got && uint64(len(content)) == a.Size && q.epoch.Load() == epoch:
		c := fop.CallerFrom(ctx)
		q.cache.put(&entry{g: a.GFID, data: content, mtime: a.Mtime, size: a.Size,
			fetched: q.now(), uid: c.UID, gid: c.GID}, cfg.cacheSize)
	case got:
		q.cache.drop(a.GFID)
	default:
		// Without content: still good if the file did not change.
		e := q.cache.get(a.GFID)
		if e != nil && e.mtime == a.Mtime && e.size == a.Size {
			q.cache.mu.Lock()
			e.fetched = q.now()
			q.cache.mu.Unlock()
		} else if e != nil {
			q.cache.drop(a.GFID)
		}
	}
	return a, x, nil
}

// fresh reports whether e is young enough to be used.
func (q *QR) fresh(e *entry, cfg *config) bool {
	q.cache.mu.Lock()
	defer q.cache.mu.Unlock()
	return !e.stale.Load() && q.now().Sub(e.fetched) < cfg.timeout
}
