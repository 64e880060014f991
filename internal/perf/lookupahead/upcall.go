package lookupahead

import "github.com/gluster-go/gluster-go/internal/fop"

var _ fop.UpcallNotifier = (*LA)(nil)

// NotifyUpcall drops what another client changed: the entry added or
// removed (the whole directory when the brick did not say which), the
// object whose attributes changed; everything when a brick connection
// went down or up. It passes the upcall on.
func (l *LA) NotifyUpcall(_ fop.Layer, u *fop.Upcall) {
	switch {
	case u.Flags&fop.UpcallReset != 0:
		l.dropAll()
	default:
		if u.Flags&fop.UpcallEntry != 0 {
			if u.Name != "" {
				l.nameChanged(u.GFID, u.Name)
			} else {
				l.dropDir(u.GFID)
			}
		}
		if u.Flags&(fop.UpcallAttr|fop.UpcallXattr|fop.UpcallGone) != 0 {
			l.objChanged(u.GFID)
		}
	}
	l.emitUpcall(u)
}
