package afr

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
