package fuse

import (
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// invalQueue bounds the kernel invalidations waiting to be sent. One that
// does not fit is dropped: the kernel keeps what it cached for at most the
// entry and attribute timeouts.
const invalQueue = 1024

// Invalidate tells the kernel to drop what it caches of an object another
// client changed: the entry of a name added to or removed from a directory,
// an object's attributes and cached pages. It is the graph's OnUpcall and
// does not block: the kernel may answer a notification only after requests
// this process serves, so a goroutine sends them.
func (fs *FS) Invalidate(u *fop.Upcall) {
	if u.GFID.IsZero() {
		return // a reset: the kernel's own timeouts bound what it keeps
	}
	select {
	case fs.inval <- *u:
	default:
	}
}

// invalidator sends queued invalidations to the kernel until unmount.
func (fs *FS) invalidator(srv *fuse.Server) {
	for {
		select {
		case <-fs.unmounted:
			return
		case u := <-fs.inval:
			id, ok := fs.inodes.idOf(u.GFID)
			if !ok {
				continue // the kernel does not know it
			}
			if u.Flags&fop.UpcallEntry != 0 && u.Name != "" {
				srv.EntryNotify(id, u.Name)
			}
			if u.Flags&(fop.UpcallAttr|fop.UpcallXattr|fop.UpcallGone) != 0 {
				srv.InodeNotify(id, 0, 0) // attributes and every cached page
			}
		}
	}
}
