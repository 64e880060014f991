package quickread

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/fuse/fusetest"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestMain lets the POSIX suite re-run this binary as another user.
func TestMain(m *testing.M) { posixtest.Main(m) }

// TestPOSIX runs the conformance suite on a mount whose graph has
// quick-read over a brick's storage layers: the cache must not change
// what applications see.
func TestPOSIX(t *testing.T) {
	fusetest.RunPOSIX(t, "qr", func(brick fop.Layer) (fop.Layer, error) {
		return New(&graph.Args{Name: "qr", Children: []fop.Layer{brick}})
	})
}
