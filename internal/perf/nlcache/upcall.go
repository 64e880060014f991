package nlcache

import "github.com/gluster-go/gluster-go/internal/fop"

var _ fop.UpcallNotifier = (*NLC)(nil)

// NotifyUpcall forgets a directory another client changed, or everything
// when a brick connection went down or up, and passes the upcall on.
func (c *NLC) NotifyUpcall(_ fop.Layer, u *fop.Upcall) {
	if u.Flags&fop.UpcallReset != 0 {
		c.dropAll()
	} else {
		c.drop(u.GFID)
	}
	c.emitUpcall(u)
}
