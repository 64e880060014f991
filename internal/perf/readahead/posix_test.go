package readahead

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/fuse/fusetest"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/perf/writebehind"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestMain lets the POSIX suite re-run this binary as another user.
func TestMain(m *testing.M) { posixtest.Main(m) }

// TestPOSIX runs the conformance suite on a mount whose graph has
// read-ahead over write-behind over a brick's storage layers, as a client
// graph stacks them: pages read ahead must not change what applications
// see.
func TestPOSIX(t *testing.T) {
	fusetest.RunPOSIX(t, "ra", func(brick fop.Layer) (fop.Layer, error) {
		wb, err := writebehind.New(&graph.Args{Name: "wb", Children: []fop.Layer{brick}})
		if err != nil {
			return nil, err
		}
		return New(&graph.Args{Name: "ra", Children: []fop.Layer{wb}})
	})
}
