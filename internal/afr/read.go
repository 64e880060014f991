package afr

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// readStripe is how much of a file in a row is read from one replica.
// Reads of a large file are spread over its good replicas by offset, so
// that a sequential reader with several reads in flight (the kernel's or
// performance/read-ahead's) keeps every replica's disk busy, as in RAID 1;
// runs of several MiB leave each brick's own read-ahead sequential.
const readStripe = 4 << 20

// Read reads from a good replica where fd is open, chosen by offset; if
// that replica has gone, from the next good one.
func (r *AFR) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	read := func(c fop.Layer) (int, error) { return c.Read(ctx, fd, buf, off) }
	if r.reconnected(fd.GFID) {
		r.refresh(ctx, fd.GFID)
	}
	cands := r.readCandidates(fd)
	first := int(off/readStripe) % max(len(cands), 1)
	for k := range cands {
		n, err := read(r.children[cands[(first+k)%len(cands)]])
		if fop.Errno(err) != syscall.ENOTCONN {
			return n, err
		}
	}
	// None known good is up: readFrom reads the changelog again and tells
	// split-brain from a replica set that is down.
	return readFrom(ctx, r, fd.GFID, false, read)
}

// readCandidates returns the replicas fd's file may be read from, in
// order: up, readable (canRead) and open on fd.
func (r *AFR) readCandidates(fd *fop.FD) (cands []int) {
	st, err := r.fileState(fd)
	if err != nil {
		return nil
	}
	tried := make([]bool, len(r.children))
	for {
		i := r.nextReadable(fd.GFID, false, tried)
		if i < 0 {
			return cands
		}
		tried[i] = true
		if st.opened[i] {
			cands = append(cands, i)
		}
	}
}
