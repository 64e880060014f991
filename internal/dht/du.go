package dht

import (
	"context"
	"sync"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// duStats caches each child's disk usage: free space decides where new
// files go (min-free-disk) and brick sizes weight new layouts.
type duStats struct {
	mu      sync.Mutex
	at      time.Time
	chunks  []uint32  // size in MiB, as GlusterFS counts it
	freePct []float64 // available space, percent
	avail   []uint64  // available bytes
}

// duRefresh is how stale the cached disk usage may get.
const duRefresh = 2 * time.Second

func (s *duStats) init(n int) {
	s.chunks = make([]uint32, n)
	s.freePct = make([]float64, n)
	s.avail = make([]uint64, n)
}

// refresh re-reads every child's statfs when the cache is stale.
func (d *DHT) refreshDU(ctx context.Context) {
	d.du.mu.Lock()
	fresh := time.Since(d.du.at) < duRefresh
	d.du.mu.Unlock()
	if fresh {
		return
	}
	root := &fop.Loc{GFID: fop.RootGFID, Path: "/"}
	res := make([]fop.Statfs, len(d.children))
	errs := d.fanout(func(i int, c fop.Layer) error {
		if !d.isUp(i) {
			return errChildDown
		}
		var err error
		res[i], err = c.Statfs(ctx, root)
		return err
	})
	d.du.mu.Lock()
	defer d.du.mu.Unlock()
	for i, st := range res {
		if errs[i] != nil || st.Blocks == 0 {
			continue
		}
		d.du.chunks[i] = Chunks(st.Blocks, st.Bsize)
		// Whole percents, as GlusterFS's integer division gives.
		d.du.freePct[i] = float64(st.Bavail * 100 / st.Blocks)
		frsize := st.Frsize
		if frsize == 0 {
			frsize = st.Bsize
		}
		d.du.avail[i] = st.Bavail * frsize
	}
	d.du.at = time.Now()
}

// chunksSnapshot returns the brick sizes for weighting, or nil.
func (d *DHT) chunksSnapshot() []uint32 {
	d.du.mu.Lock()
	defer d.du.mu.Unlock()
	out := append([]uint32(nil), d.du.chunks...)
	for _, c := range out {
		if c == 0 {
			return nil
		}
	}
	return out
}

// overFull reports whether child i is below min-free-disk.
func (d *DHT) overFull(i int) bool {
	d.du.mu.Lock()
	defer d.du.mu.Unlock()
	return d.du.chunks[i] != 0 && d.du.freePct[i] < d.minFreeDisk
}

// roomiest returns the up child with the most available space.
func (d *DHT) roomiest() int {
	d.du.mu.Lock()
	avail := append([]uint64(nil), d.du.avail...)
	d.du.mu.Unlock()
	best := -1
	for i := range d.children {
		if d.isUp(i) && !d.isDecommissioned(i) && (best < 0 || avail[i] > avail[best]) {
			best = i
		}
	}
	return best
}
