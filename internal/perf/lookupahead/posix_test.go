package lookupahead

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/fuse/fusetest"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/perf/mdcache"
	"github.com/gluster-go/gluster-go/internal/perf/nlcache"
	"github.com/gluster-go/gluster-go/internal/perf/quickread"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestMain lets the POSIX suite re-run this binary as another user.
func TestMain(m *testing.M) { posixtest.Main(m) }

// TestPOSIX runs the conformance suite on a mount whose graph stacks
// md-cache, nl-cache and quick-read over lookup-ahead over a brick, as a
// client graph does: answering lookups from listings must not change what
// applications see.
func TestPOSIX(t *testing.T) {
	fusetest.RunPOSIX(t, "la", func(brick fop.Layer) (fop.Layer, error) {
		l, err := New(&graph.Args{Name: "la", Children: []fop.Layer{brick}})
		if err != nil {
			return nil, err
		}
		for _, up := range []struct {
			name string
			new  graph.Factory
			opts map[string]string
		}{
			{"qr", quickread.New, nil},
			{"nlc", nlcache.New, nil},
			{"mdc", mdcache.New, map[string]string{"cache-invalidation": "on"}},
		} {
			if l, err = up.new(&graph.Args{Name: up.name, Options: up.opts, Children: []fop.Layer{l}}); err != nil {
				return nil, err
			}
		}
		return l, nil
	})
}
