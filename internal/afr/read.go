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
// that replica has gone, from any other good one.
func (r *AFR) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	read := func(c fop.Layer) (int, error) { return c.Read(ctx, fd, buf, off) }
	if i := r.stripeChild(fd, off); i >= 0 {
		n, err := read(r.children[i])
		if fop.Errno(err) != syscall.ENOTCONN {
			return n, err
		}
	}
	return readFrom(ctx, r, fd.GFID, false, read)
}

// stripeChild returns the replica to read fd's file at off from: the
// replicas readable per the changelog and open on fd take turns, one
// stripe each. -1 leaves the choice to readFrom (one replica or none).
func (r *AFR) stripeChild(fd *fop.FD, off int64) int {
	st, err := r.fileState(fd)
	if err != nil {
		return -1
	}
	tried := make([]bool, len(r.children))
	var cands []int
	for {
		i := r.nextReadable(fd.GFID, false, tried)
		if i < 0 {
			break
		}
		tried[i] = true
		if st.opened[i] {
			cands = append(cands, i)
		}
	}
	if len(cands) < 2 {
		return -1
	}
	return cands[int(off/readStripe)%len(cands)]
}
