package mdcache

import "github.com/gluster-go/gluster-go/internal/fop"

var _ fop.UpcallNotifier = (*MDC)(nil)

// NotifyUpcall drops what is kept of an object another client changed
// (when cache-invalidation is on), or everything when a brick connection
// went down or up, and passes the upcall on.
func (c *MDC) NotifyUpcall(_ fop.Layer, u *fop.Upcall) {
	switch {
	case u.Flags&fop.UpcallReset != 0:
		c.dropAll()
	case c.invalidation.Load():
		c.invalidate(u.GFID)
	}
	c.emitUpcall(u)
}

// invalidate drops g's attributes; reads of g in flight keep nothing.
func (c *MDC) invalidate(g fop.GFID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.m[g]; r != nil {
		r.ver++
		r.valid = false
	}
}
