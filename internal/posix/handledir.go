package posix

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// handleDirs makes reaching .glusterfs/xx/yy cheap. It keeps an O_PATH fd
// of each xx directory once used, for the brick's life (256 at most, as
// GlusterFS's posix keeps them), and a bit per yy directory checked to be
// a real directory (opened without following symlinks, or made by us), so
// that a handle is named relative to the xx fd as "yy/<gfid>" with no open
// and close of yy per call: two system calls less for each create and
// each stat by GFID.
type handleDirs struct {
	gdir int // O_PATH fd of .glusterfs

	mu sync.Mutex                    // serializes opening an xx directory
	xx [256]atomic.Int32             // fd+1 of .glusterfs/xx; 0 until opened
	yy [256 * 256 / 64]atomic.Uint64 // bit set: xx/yy checked
}

// xxDir returns the fd of .glusterfs/xx for the first GFID byte b,
// creating the directory if create is set. The fd stays owned by h.
func (h *handleDirs) xxDir(b byte, create bool) (int, error) {
	if fd := h.xx[b].Load(); fd != 0 {
		return int(fd) - 1, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if fd := h.xx[b].Load(); fd != 0 {
		return int(fd) - 1, nil
	}
	name := hexByte(b)
	fd, err := openBeneath(h.gdir, name, unix.O_PATH|unix.O_DIRECTORY, true)
	if err == unix.ENOENT && create {
		if err = unix.Mkdirat(h.gdir, name, 0o700); err == nil || err == unix.EEXIST {
			fd, err = openBeneath(h.gdir, name, unix.O_PATH|unix.O_DIRECTORY, true)
		}
	}
	if err != nil {
		return -1, err
	}
	h.xx[b].Store(int32(fd) + 1)
	return fd, nil
}

// at names the handle of g: the fd of .glusterfs/xx (owned by h, not to be
// closed) and the path "yy/<gfid>" beneath it, its yy directory checked
// first, or created if create is set. Calls on the path walk yy without
// RESOLVE_NO_SYMLINKS: the check holds as long as nobody but this process
// changes .glusterfs, which is root's alone.
func (h *handleDirs) at(g fop.GFID, create bool) (int, string, error) {
	xfd, err := h.xxDir(g[0], create)
	if err != nil {
		return -1, "", err
	}
	_, yy, name := handleParts(g)
	path := yy + "/" + name
	i := int(g[0])<<8 | int(g[1])
	bit := uint64(1) << (i % 64)
	if h.yy[i/64].Load()&bit != 0 {
		return xfd, path, nil
	}
	if create {
		// Search-only for others: .glusterfs itself is root's alone, and
		// calls made as a caller relative to this fd must be able to
		// name a handle. A directory we just made needs no check.
		err := unix.Mkdirat(xfd, yy, 0o711)
		if err == nil {
			h.yy[i/64].Or(bit)
			return xfd, path, nil
		}
		if err != unix.EEXIST {
			return -1, "", err
		}
	}
	fd, err := openBeneath(xfd, yy, unix.O_PATH|unix.O_DIRECTORY, true)
	if err != nil {
		return -1, "", err
	}
	unix.Close(fd)
	h.yy[i/64].Or(bit)
	return xfd, path, nil
}

// dir opens .glusterfs/xx/yy of g (O_PATH) for calls made as a caller
// relative to it: xx is root's alone, yy searchable by all.
func (h *handleDirs) dir(g fop.GFID) (int, error) {
	xfd, _, err := h.at(g, false)
	if err != nil {
		return -1, err
	}
	return openBeneath(xfd, hexByte(g[1]), unix.O_PATH|unix.O_DIRECTORY, true)
}

func (h *handleDirs) close() {
	for i := range h.xx {
		if fd := h.xx[i].Swap(0); fd != 0 {
			unix.Close(int(fd) - 1)
		}
	}
}

// hexPairs holds "00" to "ff": hexByte slices it, with no allocation.
const hexPairs = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" +
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" +
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" +
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

func hexByte(b byte) string {
	return hexPairs[2*int(b) : 2*int(b)+2]
}
