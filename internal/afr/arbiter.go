package afr

import "github.com/gluster-go/gluster-go/internal/fop"

// An arbiter (option arbiter-count 1, `replica 3 arbiter 1`) is the last
// replica of the set: its brick (features/arbiter) keeps names,
// attributes and the changelog but no file data. It votes in the
// changelog and counts for quorum; it is never read for data nor taken as
// the source of a data heal, and a data change needs a data replica.

// isArbiter reports whether replica i is the arbiter.
func (r *AFR) isArbiter(i int) bool { return r.arbiter >= 0 && i == r.arbiter }

// dataSet drops the arbiter from a set of replicas for file data.
func (r *AFR) dataSet(set []bool) []bool {
	if r.arbiter < 0 {
		return set
	}
	out := append([]bool(nil), set...)
	out[r.arbiter] = false
	return out
}

// hasData reports whether set holds a replica that stores file data.
func (r *AFR) hasData(set []bool) bool { return count(r.dataSet(set)) > 0 }

// sourcesFor returns the replicas that may be the source of a heal of
// type t on a file (dir false) or directory.
func (r *AFR) sourcesFor(mx *matrix, t txnType) []bool {
	src := mx.sources(t)
	if t == dataTxn {
		src = r.dataSet(src)
	}
	return src
}

// arbiterVeto reports whether a data change must be refused because the
// only data replica it would reach is one the arbiter says missed data:
// the arbiter would then be the only good copy of data it does not hold
// (GlusterFS's arbiter refuses the same way). replies are the changelogs
// the pre-op read on the replicas in set.
func (r *AFR) arbiterVeto(replies []fop.Dict, set []bool) bool {
	data := r.dataSet(set)
	if r.arbiter < 0 || !set[r.arbiter] || count(data) != 1 {
		return false
	}
	d := firstTrue(data)
	return decodeCounters(replies[r.arbiter][r.keys[d]])[dataTxn] > 0
}
