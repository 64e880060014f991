// Package iostats is the debug/io-stats layer. GlusterFS puts it at the
// top of every client graph and right under protocol/server in every brick
// graph (named by the brick path, which is what clients' remote-subvolume
// asks for). It passes every call on unchanged and counts, per file
// operation, calls, errors and latency, plus bytes read and written (with
// GlusterFS's power-of-two block size histogram) and per-file open, read
// and write counts. Snapshot and Top feed `gluster volume profile` and
// `gluster volume top`; Collector exports the same counters to Prometheus.
//
// Counters are atomics: the hot path takes no lock except for per-file
// counts of files not seen before.
package iostats

import (
	"errors"
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// Type is the volfile type of this layer.
const Type = "debug/io-stats"

// op indexes the per-operation counters.
type op int

const (
	opLookup op = iota
	opStat
	opFstat
	opSetattr
	opFsetattr
	opTruncate
	opFtruncate
	opAccess
	opReadlink
	opMknod
	opMkdir
	opSymlink
	opCreate
	opLink
	opUnlink
	opRmdir
	opRename
	opOpen
	opRead
	opWrite
	opFlush
	opFsync
	opRelease
	opOpendir
	opReaddir
	opReaddirp
	opFsyncdir
	opReleasedir
	opStatfs
	opGetxattr
	opFgetxattr
	opSetxattr
	opFsetxattr
	opRemovexattr
	opFremovexattr
	opXattrop
	opFxattrop
	opLk
	opInodelk
	opFinodelk
	opEntrylk
	opFentrylk
	opFallocate
	opDiscard
	opZerofill
	opSeek
	opRchecksum
	numOps
)

// opNames are GlusterFS's fop names, as `volume profile` prints them.
var opNames = [numOps]string{
	"LOOKUP", "STAT", "FSTAT", "SETATTR", "FSETATTR", "TRUNCATE", "FTRUNCATE",
	"ACCESS", "READLINK", "MKNOD", "MKDIR", "SYMLINK", "CREATE", "LINK",
	"UNLINK", "RMDIR", "RENAME", "OPEN", "READ", "WRITE", "FLUSH", "FSYNC",
	"RELEASE", "OPENDIR", "READDIR", "READDIRP", "FSYNCDIR", "RELEASEDIR",
	"STATFS", "GETXATTR", "FGETXATTR", "SETXATTR", "FSETXATTR", "REMOVEXATTR",
	"FREMOVEXATTR", "XATTROP", "FXATTROP", "LK", "INODELK", "FINODELK",
	"ENTRYLK", "FENTRYLK", "FALLOCATE", "DISCARD", "ZEROFILL", "SEEK",
	"RCHECKSUM",
}

// blockBuckets is the size of the block size histogram: bucket i counts
// transfers of [2^i, 2^(i+1)) bytes.
const blockBuckets = 32

// maxFiles bounds the per-file table; when full, the half least used is
// dropped (top lists only care about the busiest files).
const maxFiles = 1 << 16

type opCounters struct {
	calls, errors atomic.Uint64
	total         atomic.Int64 // ns
	minNs, maxNs  atomic.Int64
}

type fileCounters struct {
	path                 string
	opens, reads, writes atomic.Uint64
}

// IOStats is the debug/io-stats layer.
type IOStats struct {
	fop.Base
	name         string
	started      time.Time
	ops          [numOps]opCounters
	bytesRead    atomic.Uint64
	bytesWritten atomic.Uint64
	rblocks      [blockBuckets]atomic.Uint64
	wblocks      [blockBuckets]atomic.Uint64

	filesMu sync.RWMutex
	files   map[fop.GFID]*fileCounters
}

var _ fop.Layer = (*IOStats)(nil)

// New builds the layer over its single child.
func New(a *graph.Args) (fop.Layer, error) {
	if len(a.Children) != 1 {
		return nil, errors.New("debug/io-stats: needs exactly one subvolume")
	}
	return NewLayer(a.Name, a.Children[0]), nil
}

// NewLayer returns the layer called name over next.
func NewLayer(name string, next fop.Layer) *IOStats {
	return &IOStats{
		Base:    fop.Base{Next: next},
		name:    name,
		started: time.Now(),
		files:   make(map[fop.GFID]*fileCounters),
	}
}

func (s *IOStats) done(o op, start time.Time, err error) {
	ns := int64(time.Since(start))
	c := &s.ops[o]
	c.calls.Add(1)
	if err != nil {
		c.errors.Add(1)
	}
	c.total.Add(ns)
	for {
		cur := c.maxNs.Load()
		if ns <= cur || c.maxNs.CompareAndSwap(cur, ns) {
			break
		}
	}
	for {
		cur := c.minNs.Load()
		if (cur != 0 && ns >= cur) || c.minNs.CompareAndSwap(cur, ns) {
			break
		}
	}
}

func bucket(n int) int {
	return min(bits.Len(uint(n))-1, blockBuckets-1)
}

func (s *IOStats) read(fd *fop.FD, n int) {
	if n <= 0 {
		return
	}
	s.bytesRead.Add(uint64(n))
	s.rblocks[bucket(n)].Add(1)
	if f := s.file(fd.GFID, ""); f != nil {
		f.reads.Add(1)
	}
}

func (s *IOStats) wrote(fd *fop.FD, n int) {
	if n <= 0 {
		return
	}
	s.bytesWritten.Add(uint64(n))
	s.wblocks[bucket(n)].Add(1)
	if f := s.file(fd.GFID, ""); f != nil {
		f.writes.Add(1)
	}
}

// opened and created count opens of files named by path; an open by
// GFID alone (self-heal) of a file not yet tracked is not counted.
func (s *IOStats) opened(loc *fop.Loc, err error) {
	if err != nil {
		return
	}
	if f := s.file(loc.GFID, loc.Path); f != nil {
		f.opens.Add(1)
	}
}

func (s *IOStats) created(loc *fop.Loc, fd *fop.FD, err error) {
	if err != nil {
		return
	}
	if f := s.file(fd.GFID, loc.Path); f != nil {
		f.opens.Add(1)
	}
}

// file returns g's counters, creating them if path says where g is (reads
// and writes of files opened before a prune are not tracked again).
func (s *IOStats) file(g fop.GFID, path string) *fileCounters {
	s.filesMu.RLock()
	f := s.files[g]
	s.filesMu.RUnlock()
	if f != nil || path == "" {
		return f
	}
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	if f = s.files[g]; f != nil {
		return f
	}
	if len(s.files) >= maxFiles {
		s.pruneLocked()
	}
	f = &fileCounters{path: path}
	s.files[g] = f
	return f
}

func (s *IOStats) pruneLocked() {
	type use struct {
		g fop.GFID
		n uint64
	}
	all := make([]use, 0, len(s.files))
	for g, f := range s.files {
		all = append(all, use{g, f.opens.Load() + f.reads.Load() + f.writes.Load()})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n < all[j].n })
	for _, u := range all[:len(all)/2] {
		delete(s.files, u.g)
	}
}

// OpStats are one operation's counters.
type OpStats struct {
	Calls, Errors uint64
	Total         time.Duration // summed latency
	Min, Max      time.Duration
}

// Avg is the mean latency.
func (o OpStats) Avg() time.Duration {
	if o.Calls == 0 {
		return 0
	}
	return o.Total / time.Duration(o.Calls)
}

// Snapshot is the state of the counters at one moment.
type Snapshot struct {
	Name         string
	Since        time.Time          // when counting started
	Ops          map[string]OpStats // by GlusterFS fop name; operations never called are absent
	BytesRead    uint64
	BytesWritten uint64
	// ReadBlocks[i] and WriteBlocks[i] count transfers of 2^i to
	// 2^(i+1)-1 bytes ("Block Size: 4096b+" in volume profile).
	ReadBlocks  [blockBuckets]uint64
	WriteBlocks [blockBuckets]uint64
}

// Snapshot reads every counter. Interval statistics are the difference of
// two snapshots.
func (s *IOStats) Snapshot() Snapshot {
	snap := Snapshot{
		Name:         s.name,
		Since:        s.started,
		Ops:          make(map[string]OpStats),
		BytesRead:    s.bytesRead.Load(),
		BytesWritten: s.bytesWritten.Load(),
	}
	for i := range s.ops {
		c := &s.ops[i]
		n := c.calls.Load()
		if n == 0 {
			continue
		}
		snap.Ops[opNames[i]] = OpStats{
			Calls:  n,
			Errors: c.errors.Load(),
			Total:  time.Duration(c.total.Load()),
			Min:    time.Duration(c.minNs.Load()),
			Max:    time.Duration(c.maxNs.Load()),
		}
	}
	for i := range s.rblocks {
		snap.ReadBlocks[i] = s.rblocks[i].Load()
		snap.WriteBlocks[i] = s.wblocks[i].Load()
	}
	return snap
}

// TopKind names what Top ranks files by.
type TopKind int

// Top lists, as in `gluster volume top VOL open|read|write`.
const (
	TopOpen TopKind = iota
	TopRead
	TopWrite
)

// FileCount is one line of a top list.
type FileCount struct {
	GFID  fop.GFID
	Path  string
	Count uint64
}

// Top returns up to n files with the highest count of kind, highest
// first.
func (s *IOStats) Top(kind TopKind, n int) []FileCount {
	s.filesMu.RLock()
	out := make([]FileCount, 0, len(s.files))
	for g, f := range s.files {
		var c uint64
		switch kind {
		case TopOpen:
			c = f.opens.Load()
		case TopRead:
			c = f.reads.Load()
		case TopWrite:
			c = f.writes.Load()
		}
		if c > 0 {
			out = append(out, FileCount{GFID: g, Path: f.path, Count: c})
		}
	}
	s.filesMu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Path < out[j].Path
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
