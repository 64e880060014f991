package dht

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// LayoutKey is the directory xattr holding a subvolume's hash range.
const LayoutKey = "trusted.glusterfs.dht"

// LinktoKey marks a linkto file and names the subvolume holding the data.
const LinktoKey = "trusted.glusterfs.dht.linkto"

// hashTypeDM is GlusterFS's DHT_HASH_TYPE_DM; DM_USER (1) marks a layout an
// administrator set by hand, which is honoured and never rewritten.
const (
	hashTypeDM     = 0
	hashTypeDMUser = 1
)

// commitHashInvalid is GlusterFS's DHT_LAYOUT_HASH_INVALID: the layout has
// not been committed by a rebalance.
const commitHashInvalid = 1

// commitPartial marks a layout made by mkdir while a brick was down: when
// the brick returns, lookup gives it its range at once (a new brick waits
// for fix-layout). Rebalance commit hashes are never below 4.
const commitPartial = 2

// Range is one subvolume's inclusive part of the 32-bit ring. A subvolume
// with no part (new brick before fix-layout) has Set false.
type Range struct {
	Start, Stop uint32
	Commit      uint32
	Set         bool
}

// Layout is a directory's ranges, indexed like the layer's children.
type Layout struct {
	Ranges []Range
	User   bool // DM_USER layout: leave alone
}

// EncodeRange is the on-disk form of r: 4 big-endian uint32s (commit hash,
// type, start, stop), GlusterFS's format.
func EncodeRange(r Range) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint32(b[0:], r.Commit)
	binary.BigEndian.PutUint32(b[4:], hashTypeDM)
	binary.BigEndian.PutUint32(b[8:], r.Start)
	binary.BigEndian.PutUint32(b[12:], r.Stop)
	return b
}

// DecodeRange parses the on-disk form; user reports a DM_USER layout.
func DecodeRange(b []byte) (r Range, user bool, err error) {
	if len(b) != 16 {
		return r, false, fmt.Errorf("dht layout xattr: %d bytes, want 16", len(b))
	}
	switch t := binary.BigEndian.Uint32(b[4:]); t {
	case hashTypeDM:
	case hashTypeDMUser:
		user = true
	default:
		return r, false, fmt.Errorf("dht layout xattr: unknown hash type %d", t)
	}
	r = Range{
		Commit: binary.BigEndian.Uint32(b[0:]),
		Start:  binary.BigEndian.Uint32(b[8:]),
		Stop:   binary.BigEndian.Uint32(b[12:]),
		Set:    true,
	}
	// A zero range (0-0) is how GlusterFS writes "no part of the ring".
	if r.Start == 0 && r.Stop == 0 {
		r.Set = false
	}
	return r, user, nil
}

// Search returns the child whose range holds hash, or -1 (a hole).
func (l *Layout) Search(hash uint32) int {
	for i, r := range l.Ranges {
		if r.Set && r.Start <= hash && hash <= r.Stop {
			return i
		}
	}
	return -1
}

// Preceding returns the child whose range ends closest below hash, for a
// hash that falls in a hole; -1 if no range is set.
func (l *Layout) Preceding(hash uint32) int {
	best := -1
	for i, r := range l.Ranges {
		if r.Set && r.Stop < hash && (best < 0 || r.Stop > l.Ranges[best].Stop) {
			best = i
		}
	}
	if best < 0 {
		// Before the first range: wrap to the last one.
		for i, r := range l.Ranges {
			if r.Set && (best < 0 || r.Stop > l.Ranges[best].Stop) {
				best = i
			}
		}
	}
	return best
}

// Committed reports whether a rebalance wrote this layout (a commit hash
// other than 0 and "invalid"). Clients leave such a layout alone even if
// they see holes: it was made for subvolumes they may not know yet.
func (l *Layout) Committed() bool {
	for _, r := range l.Ranges {
		if r.Set && r.Commit > commitPartial {
			return true
		}
	}
	return false
}

// commitMkdir is what mkdir stamps on a new directory's layout: its
// files are placed under it from the start.
const commitMkdir = 0

// A rebalance stamps its commit hash in two steps (see SettleLayout):
// even when it lays a directory out (files may still sit where the old
// layout put them), odd once it has moved every file of a child.
const commitSettledBit = 1

// settled reports whether every file of the directory sits on its hashed
// child or has a linkto there (lookup-optimize may trust a miss on the
// hashed child): every child with a range has the same commit hash, and it
// is mkdir's, or a rebalance's settled one. A layout repaired by a client
// (commitHashInvalid), made while a brick was down (commitPartial) or laid
// out by a rebalance that has not moved every file yet is not.
func (l *Layout) settled() bool {
	if l.User {
		return false
	}
	commit, set := uint32(0), false
	for _, r := range l.Ranges {
		if !r.Set {
			continue
		}
		if set && r.Commit != commit {
			return false
		}
		commit, set = r.Commit, true
	}
	return set && (commit == commitMkdir || commit > commitPartial && commit&commitSettledBit != 0)
}

// empty reports whether no child has a range.
func (l *Layout) empty() bool {
	for _, r := range l.Ranges {
		if r.Set {
			return false
		}
	}
	return true
}

// partial reports whether mkdir made this layout without some child.
func (l *Layout) partial() bool {
	any := false
	for _, r := range l.Ranges {
		if r.Set {
			if r.Commit != commitPartial {
				return false
			}
			any = true
		}
	}
	return any
}

// Anomalies reports whether the ranges leave holes or overlap on the ring.
func (l *Layout) Anomalies() (holes, overlaps int) {
	var rs []Range
	for _, r := range l.Ranges {
		if r.Set {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return 1, 0
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	next := uint64(0)
	for _, r := range rs {
		switch {
		case uint64(r.Start) > next:
			holes++
		case uint64(r.Start) < next:
			overlaps++
		}
		if uint64(r.Stop)+1 > next {
			next = uint64(r.Stop) + 1
		}
	}
	if next <= 0xffffffff {
		holes++
	}
	return holes, overlaps
}

// NewLayout assigns the ring to the children that take part (use[i]), as
// GlusterFS's dht_selfheal_layout_new_directory does, so that a directory
// gets the same ranges on our volume as on GlusterFS's: children in order of
// their names, starting at the one that the directory's path hashes to,
// range sizes proportional to chunks[i] (brick size in MiB, see Chunks)
// when weighted and every taking part child has a size, else equal. commit
// is the commit hash written with every range.
func NewLayout(path string, names []string, use []bool, chunks []uint32, weighted bool, commit uint32) *Layout {
	n := len(names)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })

	count := 0
	var total uint64
	for _, i := range order {
		if !use[i] {
			continue
		}
		count++
		if chunks == nil || chunks[i] == 0 {
			weighted = false
		} else {
			total += uint64(chunks[i])
		}
	}
	l := &Layout{Ranges: make([]Range, n)}
	if count == 0 {
		return l
	}
	// Float arithmetic and truncation exactly as GlusterFS's C code.
	var chunk float64
	if weighted && total > 0 {
		chunk = float64(0xffffffff) / float64(total)
	} else {
		weighted = false
		chunk = float64(0xffffffff) / float64(count)
	}
	startAt := int(HashName(path) % uint32(n))
	used := 0
	var start uint32
	for k := 0; k < n; k++ {
		i := order[(k+startAt)%n]
		if !use[i] {
			continue
		}
		size := uint32(1)
		if weighted {
			size = chunks[i]
		}
		rangeSize := uint32(chunk * float64(size))
		l.Ranges[i] = Range{Start: start, Stop: start + rangeSize - 1, Commit: commit, Set: true}
		used++
		if used >= count {
			l.Ranges[i].Stop = 0xffffffff
			break
		}
		start += rangeSize
	}
	return l
}

// Chunks is a brick's size in 1 MiB chunks as GlusterFS's dht counts it
// from statfs (f_blocks of f_bsize bytes), the weight of its layout range.
func Chunks(blocks, bsize uint64) uint32 {
	if bsize == 0 || blocks == 0 {
		return 0
	}
	bpc := (1 << 20) / bsize
	if bpc == 0 {
		bpc = 1
	}
	return uint32((blocks + bpc - 1) / bpc)
}
