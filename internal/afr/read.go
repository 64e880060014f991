package afr

import (
	"context"
	"slices"
	"sync"
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
	if r.returned(fd) {
		r.refresh(ctx, fd.GFID)
	}
	cands, missed := r.readCandidates(fd)
	first := int(off/readStripe) % max(len(cands), 1)
	for k := range cands {
		n, err := read(r.children[cands[(first+k)%len(cands)]])
		if fop.Errno(err) != syscall.ENOTCONN {
			return n, err
		}
	}
	if missed {
		// The replicas left may be readable per the changelog, but they
		// lack this client's latest writes.
		return 0, syscall.ENOTCONN
	}
	// None known good is up: readFrom reads the changelog again and tells
	// split-brain from a replica set that is down.
	return readFrom(ctx, r, fd.GFID, false, read)
}

// readCandidates returns the replicas fd's file may be read from, in
// order: up, readable per the changelog, open on fd, and not known by
// this client's held write transaction to have missed a write (missed
// reports whether one is).
func (r *AFR) readCandidates(fd *fop.FD) (cands []int, missed bool) {
	st, err := r.fileState(fd)
	if err != nil {
		return nil, false
	}
	skip := r.missedWrites(fd.GFID)
	tried := make([]bool, len(r.children))
	for {
		i := r.nextReadable(fd.GFID, false, tried)
		if i < 0 {
			return cands, missed
		}
		tried[i] = true
		switch {
		case skip != nil && skip[i]:
			missed = true
		case st.opened[i]:
			cands = append(cands, i)
		}
	}
}

// missedWrites returns the replicas that this client's data transaction
// on g, while held, knows to have missed a write: the changelog says so
// only after its post-op. nil means no transaction is held.
func (r *AFR) missedWrites(g fop.GFID) []bool {
	tx := &r.inode(g).tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if !tx.held {
		return nil
	}
	missed := make([]bool, len(tx.good))
	for i, ok := range tx.good {
		missed[i] = !ok
	}
	return missed
}

// readSeen is, in an FD's ctx (key readSeenKey), the replicas'
// connection counts (connCounts) at its last read.
type readSeen struct {
	mu    sync.Mutex
	conns []uint64
}

type readSeenKey struct{}

// returned reports whether a replica came up since fd's last read, even
// one that went down and came back between two reads: what the file's
// changelog said of it may be stale (it missed the writes made meanwhile,
// maybe by another client), so the caller reads the changelog again, as
// GlusterFS does after a child event (its event generation).
func (r *AFR) returned(fd *fop.FD) bool {
	conns := r.connCounts()
	v, ok := fd.Ctx(readSeenKey{})
	if !ok {
		fd.SetCtx(readSeenKey{}, &readSeen{conns: conns})
		return false
	}
	st := v.(*readSeen)
	st.mu.Lock()
	defer st.mu.Unlock()
	if slices.Equal(conns, st.conns) {
		return false
	}
	st.conns = conns
	return true
}
