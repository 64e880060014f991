package fuse

import (
	"sync"
	"sync/atomic"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// graphRef is one generation of the layer graph behind the mount. A new
// volfile with a different structure (add-brick) brings a new generation:
// new requests go to it, while files opened before keep using the graph
// they were opened on until they are closed; the old graph is closed
// once nothing uses it any more. GFIDs are the same in every generation,
// so the inode table carries over.
type graphRef struct {
	top      fop.Layer
	refs     atomic.Int64 // requests in flight plus open handles
	retired  atomic.Bool
	close    func()
	closeOne sync.Once
}

func (g *graphRef) hold() { g.refs.Add(1) }

func (g *graphRef) release() {
	if g.refs.Add(-1) == 0 && g.retired.Load() {
		g.closeOne.Do(g.close)
	}
}

// acquire returns the current graph, held.
func (fs *FS) acquire() *graphRef {
	for {
		g := fs.cur.Load()
		g.hold()
		if fs.cur.Load() == g {
			return g
		}
		// Replaced meanwhile: use the new one.
		g.release()
	}
}

// SwitchGraph makes top serve every new request; the graph served until
// now is closed (closeOld) once its last request and open file are done.
// The caller has started top and waited for it to come up.
func (fs *FS) SwitchGraph(top fop.Layer, closeOld func()) {
	g := &graphRef{top: top, close: func() {}}
	old := fs.cur.Swap(g)
	old.close = closeOld
	old.retired.Store(true)
	// Balance the reference the current graph holds for being current.
	old.release()
}
