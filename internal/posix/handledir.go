package posix

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// handleDirs makes reaching .glusterfs/xx/yy cheap. It keeps an O_PATH fd
// of each xx directory once used, for the brick's life (256 at most, as
// GlusterFS's posix keeps them), so that a handle directory is one path
// component away; and a bit per yy directory seen to exist, so that a
// creating call tries mkdir first only where it is likely needed.
type handleDirs struct {
	gdir int // O_PATH fd of .glusterfs

	mu sync.Mutex                    // serializes opening an xx directory
	xx [256]atomic.Int32             // fd+1 of .glusterfs/xx; 0 until opened
	yy [256 * 256 / 64]atomic.Uint64 // bit set: xx/yy exists
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

// open returns a new O_PATH fd of .glusterfs/xx/yy for the GFID bytes
// b0, b1, creating the directories if create is set.
func (h *handleDirs) open(b0, b1 byte, create bool) (int, error) {
	xfd, err := h.xxDir(b0, create)
	if err != nil {
		return -1, err
	}
	name := hexByte(b1)
	i := int(b0)<<8 | int(b1)
	bit := uint64(1) << (i % 64)
	known := h.yy[i/64].Load()&bit != 0
	if known || !create {
		fd, err := openBeneath(xfd, name, unix.O_PATH|unix.O_DIRECTORY, true)
		if err == nil {
			h.yy[i/64].Or(bit)
		}
		if err != unix.ENOENT || !create {
			return fd, err
		}
	}
	// Search-only for others: .glusterfs itself is root's alone, and calls
	// made as a caller relative to this fd must be able to name a handle.
	if err := unix.Mkdirat(xfd, name, 0o711); err != nil && err != unix.EEXIST {
		return -1, err
	}
	fd, err := openBeneath(xfd, name, unix.O_PATH|unix.O_DIRECTORY, true)
	if err == nil {
		h.yy[i/64].Or(bit)
	}
	return fd, err
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
