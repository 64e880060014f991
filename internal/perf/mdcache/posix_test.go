package mdcache

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/fuse/fusetest"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/perf/quickread"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestMain lets the POSIX suite re-run this binary as another user.
func TestMain(m *testing.M) { posixtest.Main(m) }

// TestPOSIX runs the conformance suite on a mount whose graph has md-cache
// over quick-read over a brick's storage layers, as a client graph stacks
// them: the caches must not change what applications see.
func TestPOSIX(t *testing.T) {
	fusetest.RunPOSIX(t, "mdc", func(brick fop.Layer) (fop.Layer, error) {
		q, err := quickread.New(&graph.Args{Name: "qr", Children: []fop.Layer{brick}})
		if err != nil {
			return nil, err
		}
		return New(&graph.Args{Name: "mdc", Children: []fop.Layer{q}})
	})
}
