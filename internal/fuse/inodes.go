package fuse

import (
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// rootID is the FUSE node id of the mount's root.
const rootID = 1

// maxDepth bounds the directory depth of the paths we build; a path is
// only for logs and layers' best-effort use.
const maxDepth = 4096

// nShards spreads the inode table over independent locks: lookups of
// different files in parallel do not contend. A node id encodes its shard
// (id % nShards) so that both directions of the map live in one shard.
const nShards = 32

// inode is what the bridge knows about one kernel node.
type inode struct {
	id   uint64
	gfid fop.GFID
	// createdAt is when this client created the object (unix ns), 0 if
	// it did not or changed its security xattrs since (see GetXAttr).
	createdAt atomic.Int64

	// Guarded by the owning shard's lock.
	lookups uint64
	parent  *inode // nil for the root
	name    string
}

type shard struct {
	idx    uint64 // position in the table, the id's remainder
	mu     sync.Mutex
	next   uint64 // next id to hand out, counted in steps of nShards
	byID   map[uint64]*inode
	byGFID map[fop.GFID]*inode
}

// inodeTable maps node ids <-> GFIDs. Node ids are never reused, so the
// kernel's generation number can stay 0.
type inodeTable struct {
	shards   [nShards]shard
	root     *inode
	rootPath string // volume path of the mount's root ("/", or a subdir)
}

// newInodeTable returns a table whose root (node 1) is the directory root
// at volume path rootPath: the volume's root, or a subdirectory for a
// subdir mount.
func newInodeTable(root fop.GFID, rootPath string) *inodeTable {
	t := &inodeTable{rootPath: rootPath}
	for i := range t.shards {
		s := &t.shards[i]
		s.byID = map[uint64]*inode{}
		s.byGFID = map[fop.GFID]*inode{}
		s.idx = uint64(i)
		s.next = 1
	}
	// The root lives forever: the kernel never forgets it.
	t.root = &inode{id: rootID, gfid: root, lookups: 1}
	s := t.shardOfGFID(root)
	s.byID[rootID] = t.root
	s.byGFID[root] = t.root
	return t
}

func (t *inodeTable) shardOfGFID(g fop.GFID) *shard {
	if g == t.root.gfid {
		return &t.shards[rootID%nShards]
	}
	// GFIDs are random; their last byte spreads evenly.
	return &t.shards[int(g[15])%nShards]
}

// get returns the inode of a node id, or nil if the kernel names a node
// it has already forgotten (a bug in the kernel or in us).
func (t *inodeTable) get(id uint64) *inode {
	s := &t.shards[id%nShards]
	s.mu.Lock()
	n := s.byID[id]
	s.mu.Unlock()
	return n
}

// idOf returns the node id of gfid, if the kernel knows it.
func (t *inodeTable) idOf(g fop.GFID) (uint64, bool) {
	s := t.shardOfGFID(g)
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.byGFID[g]; n != nil {
		return n.id, true
	}
	return 0, false
}

// ref records one more kernel lookup of gfid, reached as name in parent,
// and returns its node. Hard links share one node.
func (t *inodeTable) ref(g fop.GFID, parent *inode, name string) *inode {
	s := t.shardOfGFID(g)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.byGFID[g]
	if n == nil {
		id := s.next*nShards + s.idx
		s.next++
		n = &inode{id: id, gfid: g}
		s.byID[id] = n
		s.byGFID[g] = n
	}
	n.lookups++
	if parent != nil && n != t.root {
		n.parent, n.name = parent, name
	}
	return n
}

// forget drops count kernel lookups of node id.
func (t *inodeTable) forget(id, count uint64) {
	if id == rootID {
		return
	}
	s := &t.shards[id%nShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.byID[id]
	if n == nil {
		return
	}
	if n.lookups > count {
		n.lookups -= count
		return
	}
	delete(s.byID, id)
	delete(s.byGFID, n.gfid)
}

// moved records that the node of gfid (if known) is now name in parent.
func (t *inodeTable) moved(g fop.GFID, parent *inode, name string) {
	s := t.shardOfGFID(g)
	s.mu.Lock()
	if n := s.byGFID[g]; n != nil && n != t.root {
		n.parent, n.name = parent, name
	}
	s.mu.Unlock()
}

// path returns n's volume path, best effort: a hard-linked file shows the
// name it was last reached by.
func (t *inodeTable) path(n *inode) string {
	var parts []string
	// The bound only guards against a cycle from racing renames.
	for n != nil && n != t.root && len(parts) < maxDepth {
		s := t.shardOfGFID(n.gfid)
		s.mu.Lock()
		name, p := n.name, n.parent
		s.mu.Unlock()
		parts = append(parts, name)
		n = p
	}
	if len(parts) == 0 {
		return t.rootPath
	}
	b := []byte(strings.TrimSuffix(t.rootPath, "/"))
	for i := len(parts) - 1; i >= 0; i-- {
		b = append(b, '/')
		b = append(b, parts[i]...)
	}
	return string(b)
}

// loc addresses node n itself.
func (t *inodeTable) loc(n *inode) *fop.Loc {
	return &fop.Loc{GFID: n.gfid, Path: t.path(n)}
}

// entryLoc addresses the entry name in directory dir.
func (t *inodeTable) entryLoc(dir *inode, name string) *fop.Loc {
	return &fop.Loc{Parent: dir.gfid, Name: name, Path: path.Join(t.path(dir), name)}
}
