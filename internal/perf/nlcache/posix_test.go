package nlcache

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/fuse/fusetest"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/perf/mdcache"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestMain lets the POSIX suite re-run this binary as another user.
func TestMain(m *testing.M) { posixtest.Main(m) }

// TestPOSIX runs the conformance suite on a mount whose graph has md-cache
// over nl-cache over a brick's storage layers, as a client graph stacks
// them: answering lookups of absent names locally must not change what
// applications see.
func TestPOSIX(t *testing.T) {
	fusetest.RunPOSIX(t, "nlc", func(brick fop.Layer) (fop.Layer, error) {
		n, err := New(&graph.Args{Name: "nlc", Children: []fop.Layer{brick}})
		if err != nil {
			return nil, err
		}
		return mdcache.New(&graph.Args{Name: "mdc", Options: map[string]string{"cache-invalidation": "on"}, Children: []fop.Layer{n}})
	})
}
