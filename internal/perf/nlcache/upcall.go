package nlcache

import "github.com/gluster-go/gluster-go/internal/fop"

var _ fop.UpcallNotifier = (*NLC)(nil)

// NotifyUpcall forgets a directory whose entries another client changed, or everything
// when a brick connection went down or up, and passes the upcall on.
func (c *NLC) NotifyUpcall(_ fop.Layer, u *fop.Upcall) {
	switch {
	case u.Flags&fop.UpcallReset != 0:
		c.dropAll()
	case u.Flags&(fop.UpcallEntry|fop.UpcallGone) != 0:
		// Attribute and xattr changes (quota's accounting on every
		// ancestor) leave the entries as they are.
		c.drop(u.GFID)
	}
	c.emitUpcall(u)
}
