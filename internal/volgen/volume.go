// Package volgen generates volfiles from a volume's configuration: the
// client volfile every mount builds its layer graph from, and one brick
// volfile per brick process. glusterd calls it whenever a volume is
// created or changed; internal/graph turns the result into layers.
//
// Names and grammar follow GlusterFS's glusterd-volgen.c: protocol/client
// layers VOL-client-N, grouped into VOL-replicate-N, VOL-disperse-N or
// VOL-stripe-N, distributed by VOL-dht, with the enabled performance
// layers on top and the top volume VOL (debug/io-stats). Option values
// are copied into layers as internal/volopt's table says.
//
// Generation is pure: the caller passes the set of layer types its build
// can construct (TypesOf(layers.Registry())) and volgen never emits a
// type outside it, so every volfile it returns can be built.
package volgen

import (
	"fmt"
	"strings"

	"github.com/gluster-go/gluster-go/internal/graph"
)

// Brick is one brick of a volume: a directory on a server.
type Brick struct {
	Host string
	Path string
	// ID names the brick's protocol/client layer (GlusterFS's brick_id,
	// "VOL-client-N"). glusterd assigns it once and keeps it when other
	// bricks leave, because linkto xattrs and afr changelog keys name
	// subvolumes; empty means VOL-client-<index in Bricks>.
	ID string
}

// String formats b as in the CLI: HOST:PATH.
func (b Brick) String() string { return b.Host + ":" + b.Path }

// Volume is the configuration volfiles are generated from. The layout
// follows from the counts, as in GlusterFS: bricks are taken in order,
// ReplicaCount (or DisperseCount, or StripeCount x ReplicaCount) at a time,
// and the resulting subvolumes are distributed. Counts of 0 and 1 both
// mean "not replicated" / "not striped".
type Volume struct {
	Name string
	ID   string // volume-id, a UUID, stored on each brick root
	// Bricks in CLI order.
	Bricks []Brick
	// ReplicaCount counts the arbiter: "replica 3 arbiter 1" is 3 and 1.
	ReplicaCount, ArbiterCount int
	StripeCount                int
	// DisperseCount counts the redundancy: "disperse 3 redundancy 1".
	DisperseCount, RedundancyCount int
	Transport                      string // "tcp" (default); rdma is not implemented
	// Options are "volume set" keys (full or short) with validated values.
	Options map[string]string
	// Decommissioned are indexes into Bricks of bricks being removed
	// (remove-brick start): distribute gives their subvolumes no part of
	// new layouts, so rebalance empties them.
	Decommissioned []int
}

// Env is what the caller's build offers.
type Env struct {
	// Types is the set of layer types that can be built; see TypesOf.
	Types map[string]bool
	// AllowFallback lets a replicate volume be generated as plain
	// distribute over its bricks when the build has no cluster/replicate
	// layer (with a warning), for demos until replicate lands.
	AllowFallback bool
}

// TypesOf returns the set of layer types a registry can build.
func TypesOf(r graph.Registry) map[string]bool {
	t := make(map[string]bool, len(r))
	for k := range r {
		t[k] = true
	}
	return t
}

func (v *Volume) replica() int { return max(v.ReplicaCount, 1) }
func (v *Volume) stripe() int  { return max(v.StripeCount, 1) }

// GroupSize is the number of bricks in each distributed subvolume.
func (v *Volume) GroupSize() int {
	if v.DisperseCount > 0 {
		return v.DisperseCount
	}
	return v.replica() * v.stripe()
}

// DistCount is the number of distributed subvolumes.
func (v *Volume) DistCount() int {
	if g := v.GroupSize(); g > 0 {
		return len(v.Bricks) / g
	}
	return 0
}

// Check reports a layout that cannot be generated, in the words of the
// gluster CLI.
func (v *Volume) Check() error {
	if v.Name == "" || strings.ContainsAny(v.Name, "/ \t\n") || strings.HasPrefix(v.Name, "-") {
		return fmt.Errorf("volume name %q is not valid", v.Name)
	}
	if len(v.Bricks) == 0 {
		return fmt.Errorf("volume %s has no bricks", v.Name)
	}
	for _, b := range v.Bricks {
		if b.Host == "" || !strings.HasPrefix(b.Path, "/") {
			return fmt.Errorf("brick %s: want HOST:/ABSOLUTE/PATH", b)
		}
	}
	switch t := v.Transport; t {
	case "", "tcp", "tcp,rdma":
	default:
		return fmt.Errorf("transport %s is not supported, use tcp", t)
	}
	if v.DisperseCount > 0 && (v.ReplicaCount > 1 || v.StripeCount > 1) {
		return fmt.Errorf("disperse cannot be combined with replica or stripe")
	}
	if v.DisperseCount > 0 {
		if v.DisperseCount < 3 {
			return fmt.Errorf("disperse count must be greater than 2")
		}
		if v.RedundancyCount < 1 || 2*v.RedundancyCount >= v.DisperseCount {
			return fmt.Errorf("redundancy must be at least 1 and less than half of the disperse count %d", v.DisperseCount)
		}
	}
	if v.ArbiterCount != 0 && (v.ArbiterCount != 1 || v.ReplicaCount != 3) {
		return fmt.Errorf("for arbiter configuration, replica count must be 3 and arbiter count must be 1")
	}
	if n, g := len(v.Bricks), v.GroupSize(); n%g != 0 {
		return fmt.Errorf("number of bricks (%d) is not a multiple of %s count (%d)", n, v.groupWord(), g)
	}
	seen, ids := map[string]bool{}, map[string]bool{}
	for i, b := range v.Bricks {
		if seen[b.String()] {
			return fmt.Errorf("brick %s is given more than once", b)
		}
		seen[b.String()] = true
		id := v.ClientName(i)
		if ids[id] {
			return fmt.Errorf("brick %s: client name %s is taken", b, id)
		}
		ids[id] = true
	}
	return nil
}

// ClientName is the name of the protocol/client layer of brick i.
func (v *Volume) ClientName(i int) string {
	if id := v.Bricks[i].ID; id != "" {
		return id
	}
	return fmt.Sprintf("%s-client-%d", v.Name, i)
}

func (v *Volume) groupWord() string {
	switch {
	case v.DisperseCount > 0:
		return "disperse"
	case v.StripeCount > 1 && v.ReplicaCount > 1:
		return "stripe x replica"
	case v.StripeCount > 1:
		return "stripe"
	}
	return "replica"
}

// TypeName is the "Type:" line of gluster volume info, e.g.
// "Distributed-Replicate".
func (v *Volume) TypeName() string {
	var base string
	switch {
	case v.DisperseCount > 0:
		base = "Disperse"
	case v.StripeCount > 1 && v.ReplicaCount > 1:
		base = "Striped-Replicate"
	case v.StripeCount > 1:
		base = "Stripe"
	case v.ReplicaCount > 1:
		base = "Replicate"
	default:
		return "Distribute"
	}
	if v.DistCount() > 1 {
		return "Distributed-" + base
	}
	return base
}

// BrickCountString is the "Number of Bricks:" value of gluster volume
// info: "2", "2 x 2 = 4", "1 x (2 + 1) = 3", "1 x 2 x 2 = 4".
func (v *Volume) BrickCountString() string {
	n, d := len(v.Bricks), v.DistCount()
	switch {
	case v.DisperseCount > 0:
		return fmt.Sprintf("%d x (%d + %d) = %d", d, v.DisperseCount-v.RedundancyCount, v.RedundancyCount, n)
	case v.ArbiterCount > 0:
		return fmt.Sprintf("%d x (%d + %d) = %d", d, v.ReplicaCount-v.ArbiterCount, v.ArbiterCount, n)
	case v.StripeCount > 1 && v.ReplicaCount > 1:
		return fmt.Sprintf("%d x %d x %d = %d", d, v.StripeCount, v.ReplicaCount, n)
	case v.StripeCount > 1 || v.ReplicaCount > 1:
		return fmt.Sprintf("%d x %d = %d", d, v.GroupSize(), n)
	}
	return fmt.Sprint(n)
}
