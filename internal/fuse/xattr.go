package fuse

import (
	"slices"
	"strings"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// internalXattr reports whether name belongs to the volume's own
// bookkeeping (GFIDs, DHT layouts, AFR pending counters...), which users
// must neither see nor change.
func internalXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.")
}

// capabilityXattr holds file capabilities. The kernel asks for it before
// every first write to a file (to drop capabilities on write): a round
// trip per small file created.
const capabilityXattr = "security.capability"

// markCreated records that this client just created the node id: it has
// no capabilities yet (see justCreated).
func (fs *FS) markCreated(id uint64) {
	if n := fs.inodes.get(id); n != nil {
		n.createdAt.Store(time.Now().UnixNano())
	}
}

// justCreated reports whether n was created by this client within the
// attribute timeout and its capabilities not changed through it since: it
// has none then, unless another client set them in that window, which
// the attribute timeout already allows us not to see.
func (fs *FS) justCreated(n *inode) bool {
	t := n.createdAt.Load()
	return t != 0 && time.Since(time.Unix(0, t)) < fs.opts.AttrTimeout
}

// GetXAttr returns one attribute's value; with an empty dest, its size.
func (fs *FS) GetXAttr(_ <-chan struct{}, h *fuse.InHeader, name string, dest []byte) (uint32, fuse.Status) {
	n := fs.begin(h.NodeId)
	if n == nil {
		return 0, fuse.ENOENT
	}
	if internalXattr(name) {
		return 0, fuse.ENOATTR
	}
	if name == capabilityXattr && fs.justCreated(n) {
		return 0, fuse.ENOATTR
	}
	loc := fs.inodes.loc(n)
	d, err := fs.top.Getxattr(fs.ctx(h, 0), loc, name)
	if err != nil {
		return 0, fs.status("getxattr", loc, err)
	}
	v, ok := d[name]
	if !ok {
		return 0, fuse.ENOATTR
	}
	return copyOut(dest, v)
}

// ListXAttr lists the attribute names the caller may see.
func (fs *FS) ListXAttr(_ <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	n := fs.begin(h.NodeId)
	if n == nil {
		return 0, fuse.ENOENT
	}
	loc := fs.inodes.loc(n)
	d, err := fs.top.Getxattr(fs.ctx(h, 0), loc, "")
	if err != nil {
		return 0, fs.status("listxattr", loc, err)
	}
	names := make([]string, 0, len(d))
	for k := range d {
		if !internalXattr(k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b []byte
	for _, k := range names {
		b = append(b, k...)
		b = append(b, 0)
	}
	return copyOut(dest, b)
}

// copyOut follows getxattr(2): size only for an empty buffer, ERANGE for
// a short one.
func copyOut(dest, v []byte) (uint32, fuse.Status) {
	if len(dest) == 0 {
		return uint32(len(v)), fuse.OK
	}
	if len(dest) < len(v) {
		return uint32(len(v)), fuse.ERANGE
	}
	return uint32(copy(dest, v)), fuse.OK
}

// SetXAttr sets one attribute.
func (fs *FS) SetXAttr(_ <-chan struct{}, in *fuse.SetXAttrIn, name string, data []byte) fuse.Status {
	n := fs.begin(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	if internalXattr(name) {
		return fuse.EPERM
	}
	if name == capabilityXattr {
		n.createdAt.Store(0)
	}
	loc := fs.inodes.loc(n)
	// data is go-fuse's buffer; layers may keep the dict.
	d := fop.Dict{name: slices.Clone(data)}
	return fs.status("setxattr", loc, fs.top.Setxattr(fs.ctx(&in.InHeader, 0), loc, d, int(in.Flags)))
}

// RemoveXAttr removes one attribute.
func (fs *FS) RemoveXAttr(_ <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	n := fs.begin(h.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	if internalXattr(name) {
		return fuse.EPERM
	}
	if name == capabilityXattr {
		n.createdAt.Store(0)
	}
	loc := fs.inodes.loc(n)
	return fs.status("removexattr", loc, fs.top.Removexattr(fs.ctx(h, 0), loc, name))
}
