// Package layers assembles the registry of every layer type the programs
// can build from a volfile. Each layer package exports Type (its volfile
// type, e.g. "storage/posix") and New.
package layers

import (
	"github.com/gluster-go/gluster-go/internal/afr"
	"github.com/gluster-go/gluster-go/internal/arbiter"
	"github.com/gluster-go/gluster-go/internal/dht"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/index"
	"github.com/gluster-go/gluster-go/internal/iostats"
	"github.com/gluster-go/gluster-go/internal/locks"
	"github.com/gluster-go/gluster-go/internal/perf/lookupahead"
	"github.com/gluster-go/gluster-go/internal/perf/mdcache"
	"github.com/gluster-go/gluster-go/internal/perf/nlcache"
	"github.com/gluster-go/gluster-go/internal/perf/quickread"
	"github.com/gluster-go/gluster-go/internal/perf/readahead"
	"github.com/gluster-go/gluster-go/internal/perf/writebehind"
	"github.com/gluster-go/gluster-go/internal/posix"
	protoclient "github.com/gluster-go/gluster-go/internal/protocol/client"
	protoserver "github.com/gluster-go/gluster-go/internal/protocol/server"
	"github.com/gluster-go/gluster-go/internal/upcall"
)

// Registry returns the constructors of all layer types.
func Registry() graph.Registry {
	return graph.Registry{
		// One line per layer package: pkg.Type: pkg.New,
		afr.Type:         afr.New,
		dht.Type:         dht.New,
		protoclient.Type: protoclient.New,
		protoserver.Type: protoserver.New,
		posix.Type:       posix.New,
		locks.Type:       locks.New,
		iostats.Type:     iostats.New,
		index.Type:       index.New,
		arbiter.Type:     arbiter.New,
		quickread.Type:   quickread.New,
		mdcache.Type:     mdcache.New,
		writebehind.Type: writebehind.New,
		readahead.Type:   readahead.New,
		upcall.Type:      upcall.New,
		nlcache.Type:     nlcache.New,
		lookupahead.Type: lookupahead.New,
	}
}
