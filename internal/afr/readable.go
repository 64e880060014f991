package afr

import (
	"slices"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Which replicas of an object may be read is judged from its changelog
// (judge), and, for a file, from what this client's own writes saw: a
// replica that missed one of them is taken out of the readable set at
// once, as GlusterFS takes a transaction's failed subvolumes out of the
// inode's read subvolumes. The changelog on disk says so only after the
// transaction's post-op (post-op-delay later, or while a read is reading
// the changelog), so the replica stays out until a changelog read that
// began after that post-op was done.

// miss is what this client knows of a replica that missed a write of its
// data transaction gen (txnState.gen) on a file: post is 0 until that
// transaction's post-op is done, then the post-op's number (AFR.postOps).
type miss struct {
	gen  int
	post uint64
}

// view is what a judgement of a changelog is relative to, taken before
// the changelog is read.
type view struct {
	conns []uint64 // each replica's connection count
	posts uint64   // data post-ops done
}

func (r *AFR) view() view { return view{conns: r.connCounts(), posts: r.postOps.Load()} }

// missed records the replicas a data operation of g's transaction gen did
// not reach (good[i] false).
func (r *AFR) missed(g fop.GFID, good []bool, gen int) {
	if count(good) == len(good) {
		return
	}
	in := r.inode(g)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.missed == nil {
		in.missed = make([]miss, len(good))
	}
	for i, ok := range good {
		if !ok {
			in.missed[i] = miss{gen: gen}
		}
	}
}

// posted records that the post-op of g's data transaction gen is done:
// the changelog on disk now accuses the replicas it missed.
func (r *AFR) posted(g fop.GFID, gen int) {
	v, ok := r.inodes.Load(g)
	if !ok {
		return
	}
	n := r.postOps.Add(1)
	in := v.(*inode)
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range in.missed {
		if m := &in.missed[i]; m.gen != 0 && m.gen <= gen && m.post == 0 {
			m.post = n
		}
	}
}

// judge records which replicas of g are good to read, from its changelog
// read after v was taken, and what this client knows that the changelog
// may not say yet.
func (r *AFR) judge(g fop.GFID, dir bool, mx *matrix, v view) {
	t := dataTxn
	if dir {
		t = entryTxn
	}
	in := r.inode(g)
	in.mu.Lock()
	defer in.mu.Unlock()
	in.dir = dir
	in.readable = mx.sources(t)
	in.metaOK = mx.sources(metadataTxn)
	in.conns = v.conns
	for i, m := range in.missed {
		if m.post != 0 && m.post <= v.posts {
			in.missed[i] = miss{} // the changelog read shows it
		}
	}
}

// canRead reports whether replica i may serve reads of the object's data
// (or, with meta, its metadata). in.mu is held.
func (in *inode) canRead(i int, meta bool) bool {
	ok := in.readable
	if meta {
		ok = in.metaOK
	}
	return (ok == nil || ok[i]) && (meta || in.missed == nil || in.missed[i].gen == 0)
}

// reconnected reports whether a replica came up since g's replicas were
// judged, even one that went down and came back meanwhile: what the
// changelog said of it may be stale (it missed the writes made in
// between, maybe by another client), so the caller reads the changelog
// again, as GlusterFS does when an inode's event generation is behind.
func (r *AFR) reconnected(g fop.GFID) bool {
	conns := r.connCounts()
	in := r.inode(g)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.conns == nil {
		// Never judged (created by this client): what it knows is
		// from now.
		in.conns = conns
		return false
	}
	return !slices.Equal(in.conns, conns)
}
