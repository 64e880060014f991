package afr

import (
	"encoding/binary"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// txnType indexes the three counters of a changelog value.
type txnType int

const (
	dataTxn txnType = iota
	metadataTxn
	entryTxn
)

func (t txnType) String() string {
	return [...]string{"data", "metadata", "entry"}[t]
}

// counters is one changelog xattr value: 3 big-endian uint32s (data,
// metadata, entry pending operations), GlusterFS's format.
type counters [3]int32

func decodeCounters(b []byte) counters {
	var c counters
	for i := 0; i < 3 && len(b) >= 4*(i+1); i++ {
		c[i] = int32(binary.BigEndian.Uint32(b[4*i:]))
	}
	return c
}

func (c counters) encode() []byte {
	b := make([]byte, 12)
	for i, v := range c {
		binary.BigEndian.PutUint32(b[4*i:], uint32(v))
	}
	return b
}

func delta(t txnType, n int32) []byte {
	var c counters
	c[t] = n
	return c.encode()
}

// changelogKeys are the xattrs a lookup asks for to judge replicas.
func (r *AFR) changelogKeys(xreq fop.Dict) fop.Dict {
	out := fop.Dict{DirtyKey: nil}
	for k, v := range xreq {
		out[k] = v
	}
	for _, k := range r.keys {
		out[k] = nil
	}
	return out
}

// stripChangelog removes the keys the caller did not ask for.
func (r *AFR) stripChangelog(x, xreq fop.Dict) fop.Dict {
	for _, k := range append([]string{DirtyKey}, r.keys...) {
		if _, asked := xreq[k]; !asked {
			delete(x, k)
		}
	}
	return x
}

// matrix is the accusation matrix: m[i][j] is what replica i says replica j
// missed; dirty[i] is replica i's own in-flight mark.
type matrix struct {
	m     [][]counters
	dirty []counters
	have  []bool // replica answered
}

func (r *AFR) readMatrix(xs []fop.Dict, ok []bool) *matrix {
	n := len(r.children)
	mx := &matrix{m: make([][]counters, n), dirty: make([]counters, n), have: ok}
	for i := 0; i < n; i++ {
		mx.m[i] = make([]counters, n)
		if !ok[i] || xs[i] == nil {
			continue
		}
		mx.dirty[i] = decodeCounters(xs[i][DirtyKey])
		for j, k := range r.keys {
			mx.m[i][j] = decodeCounters(xs[i][k])
		}
	}
	return mx
}

// sources returns the replicas nobody accuses for t; the others are sinks.
// With every answering replica accused by another, there is no source:
// split-brain.
func (mx *matrix) sources(t txnType) []bool {
	n := len(mx.have)
	src := make([]bool, n)
	for j := 0; j < n; j++ {
		if !mx.have[j] {
			continue
		}
		src[j] = true
		for i := 0; i < n; i++ {
			if i != j && mx.have[i] && mx.m[i][j][t] > 0 {
				src[j] = false
			}
		}
	}
	return src
}

// needsHeal reports whether any counter of type t is set.
func (mx *matrix) needsHeal(t txnType) bool {
	for i := range mx.have {
		if !mx.have[i] {
			continue
		}
		if mx.dirty[i][t] != 0 {
			return true
		}
		for j := range mx.have {
			if mx.m[i][j][t] != 0 {
				return true
			}
		}
	}
	return false
}

// anyPending reports whether any counter at all is set.
func (mx *matrix) anyPending() bool {
	return mx.needsHeal(dataTxn) || mx.needsHeal(metadataTxn) || mx.needsHeal(entryTxn)
}

var errSplitBrain error = syscall.EIO
