package dht

import (
	"context"
	"math/bits"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// A listing walks the children in order. Its offsets carry the child's
// index in their low n bits and the child's own cookie above them, as
// GlusterFS's d_off transform does. Offsets must stay below 2^63: the
// kernel and telldir(3) treat them as signed. A cookie too large to shift
// (ext4's hash cookies use 63 bits) loses its lowest n+1 bits instead and
// is flagged by bit 62; resuming there restarts a hair earlier in the
// brick's hash order, which repeats an entry only if two names share the
// 31-bit major hash and all but those bits of the minor one.
const bigCookie = 1 << 62

func (d *DHT) offBits() uint {
	if len(d.children) <= 1 {
		return 0
	}
	return uint(bits.Len(uint(len(d.children) - 1)))
}

func (d *DHT) encodeOff(child int, cookie uint64) uint64 {
	n := d.offBits()
	if n == 0 {
		return cookie
	}
	if cookie < bigCookie>>n {
		return cookie<<n | uint64(child)
	}
	return bigCookie | (cookie>>(n+1))<<n | uint64(child)
}

func (d *DHT) decodeOff(off uint64) (child int, cookie uint64) {
	n := d.offBits()
	if n == 0 {
		return 0, off
	}
	child = int(off & (1<<n - 1))
	if off&bigCookie == 0 {
		return child, off >> n
	}
	return child, (off &^ bigCookie) >> n << (n + 1)
}

// Readdir lists each entry once: files from the child holding their data
// (linkto files hidden), directories and "." and ".." from the first child.
func (d *DHT) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	v, ok := fd.Ctx(d)
	st, isDir := v.(*dirFD)
	if !ok || !isDir {
		return nil, syscall.EBADF
	}
	child, cookie := d.decodeOff(off)
	if off != 0 && child >= len(d.children) {
		return nil, syscall.EINVAL
	}
	req := withKey(xreq, LinktoKey)
	for child < len(d.children) {
		if !d.isUp(child) || !st.opened[child] {
			child, cookie = child+1, 0
			continue
		}
		ents, err := d.children[child].Readdir(ctx, fd, cookie, max, true, req)
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			child, cookie = child+1, 0
			continue
		}
		out := ents[:0]
		for _, e := range ents {
			cookie = e.Off
			isDirEnt := e.Type == syscall.S_IFDIR || e.Name == "." || e.Name == ".."
			if isDirEnt && child != st.first {
				continue
			}
			if !isDirEnt && e.Attr != nil && (isLinkto(e.Attr, e.Xattrs) || inPhase2(e.Attr)) {
				// Linkto files, and a migrated file's source in the
				// moment before its name goes: the data file is
				// listed from the other child.
				continue
			}
			if !isDirEnt && e.Attr != nil {
				d.inode(e.Attr.GFID).setCached(child)
				a := hideMarkers(*e.Attr)
				e.Attr = &a
			}
			e.Off = d.encodeOff(child, e.Off)
			if plus {
				e.Xattrs = strip(e.Xattrs, xreq, LinktoKey)
			} else {
				e.Attr, e.Xattrs = nil, nil
			}
			out = append(out, e)
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, nil
}
