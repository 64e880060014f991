package volgen

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/gluster-go/gluster-go/internal/volfile"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Layer types volgen places itself (the table in volopt names the rest).
const (
	typeClient    = "protocol/client"
	typeServer    = "protocol/server"
	typeIOStats   = "debug/io-stats"
	typeDHT       = "cluster/distribute"
	typeAFR       = "cluster/replicate"
	typeEC        = "cluster/disperse"
	typeStripe    = "cluster/stripe"
	typePosix     = "storage/posix"
	typeLocks     = "features/locks"
	typeChangelog = "features/changelog"
	typeIndex     = "features/index"
	typeUpcall    = "features/upcall"
	typeArbiter   = "features/arbiter"
	typeMarker    = "features/marker"
	typeIOThreads = "performance/io-threads"
)

// optional is a layer stacked on the graph when it is wanted and the
// build has it.
type optional struct {
	typ string
	// when says whether the volume wants the layer; nil means always.
	when func(g *gen) bool
	// what names what is lost without the layer (a feature, not just
	// speed); "" means a missing layer is skipped silently.
	what string
	opts func(g *gen) []volfile.Option
}

// sw is a "when" for a volopt switch.
func sw(key string) func(*gen) bool { return func(g *gen) bool { return g.on(key) } }

// clientStack lists the client-side layers from the bottom (above
// distribute) to the top, as GlusterFS stacks them.
func clientStack() []optional {
	return []optional{
		{typ: "features/shard", when: sw("features.shard"), what: "features.shard"},
		{typ: "performance/write-behind", when: sw("performance.write-behind")},
		{typ: "performance/read-ahead", when: sw("performance.read-ahead")},
		{typ: "performance/readdir-ahead", when: sw("performance.readdir-ahead")},
		{typ: "performance/io-cache", when: sw("performance.io-cache")},
		// Below quick-read, whose lookups ask for content.
		{typ: "performance/lookup-ahead", when: sw("performance.lookup-ahead")},
		{typ: "performance/quick-read", when: sw("performance.quick-read")},
		{typ: "performance/open-behind", when: sw("performance.open-behind")},
		{typ: "performance/nl-cache", when: sw("performance.nl-cache")},
		{typ: "performance/md-cache", when: sw("performance.stat-prefetch")},
		{typ: typeIOThreads, when: sw("performance.client-io-threads")},
	}
}

// brickStack lists the brick-side layers between posix and io-stats,
// bottom up.
func brickStack() []optional {
	return []optional{
		// The last brick of each set of an arbiter volume keeps no data.
		{typ: typeArbiter, what: "arbiter bricks without data", when: func(g *gen) bool {
			return g.v.ArbiterCount > 0 && (g.brickIndex+1)%g.v.replica() == 0
		}},
		{typ: typeChangelog, opts: func(g *gen) []volfile.Option {
			return []volfile.Option{
				{Key: "changelog-brick", Value: g.brick.Path},
				{Key: "changelog-dir", Value: path.Join(g.brick.Path, ".glusterfs/changelogs")},
			}
		}},
		{typ: typeLocks, what: "POSIX and internal locking"},
		// Above locks, as GlusterFS stacks it: sees every change that
		// the layers above let through.
		{typ: typeUpcall},
		{typ: typeIOThreads},
		{typ: typeIndex, opts: func(g *gen) []volfile.Option {
			return []volfile.Option{{Key: "index-base", Value: path.Join(g.brick.Path, ".glusterfs/indices")}}
		}},
		{typ: typeMarker,
			when: func(g *gen) bool { return g.on("features.quota") || g.on("geo-replication.indexing") },
			what: "usage accounting (quota, geo-replication)",
			opts: func(g *gen) []volfile.Option { return []volfile.Option{{Key: "volume-uuid", Value: g.v.ID}} }},
		{typ: "features/quota", when: sw("features.quota"), what: "features.quota",
			opts: func(g *gen) []volfile.Option { return []volfile.Option{{Key: "volume-uuid", Value: g.v.Name}} }},
		{typ: "features/read-only", when: sw("features.read-only"), what: "features.read-only"},
		{typ: "features/worm", when: sw("features.worm"), what: "features.worm"},
	}
}

// gen holds one generation run.
type gen struct {
	v          *Volume
	env        Env
	opts       map[string]string // full key -> value
	f          volfile.File
	warnings   []string
	brick      Brick // brick graphs only
	brickIndex int   // its place in the volume
}

func newGen(v *Volume, env Env) (*gen, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	g := &gen{v: v, env: env, opts: map[string]string{}}
	// Sorted, so that warnings come out the same every time.
	for _, k := range slices.Sorted(maps.Keys(v.Options)) {
		o, err := volopt.Lookup(k)
		if err != nil {
			g.warn("ignoring unknown option %s", k)
			continue
		}
		g.opts[o.Key] = v.Options[k]
	}
	return g, nil
}

func (g *gen) warn(format string, a ...any) {
	w := fmt.Sprintf(format, a...)
	for _, x := range g.warnings {
		if x == w {
			return
		}
	}
	g.warnings = append(g.warnings, w)
}

func (g *gen) has(typ string) bool { return g.env.Types[typ] }

func (g *gen) need(typ, what string) error {
	if g.has(typ) {
		return nil
	}
	return fmt.Errorf("%s volumes need the %s layer, which this build does not have yet", what, typ)
}

// value returns the set value of key, or its default.
func (g *gen) value(key string) string {
	if v, ok := g.opts[key]; ok {
		return v
	}
	d, _ := volopt.Default(key)
	return d
}

func (g *gen) on(key string) bool {
	b, err := volopt.ParseBool(g.value(key))
	return err == nil && b
}

// add appends a volume and returns its name.
func (g *gen) add(name, typ string, opts []volfile.Option, subs ...string) string {
	g.f.Volumes = append(g.f.Volumes, &volfile.Volume{Name: name, Type: typ, Options: opts, Subvolumes: subs})
	return name
}

// stack adds the wanted optional layers on top of below.
func (g *gen) stack(layers []optional, below string) string {
	for _, l := range layers {
		if l.when != nil && !l.when(g) {
			continue
		}
		if !g.has(l.typ) {
			if l.what != "" {
				g.warn("%s needs the %s layer, which this build does not have yet; skipped", l.what, l.typ)
			}
			continue
		}
		var opts []volfile.Option
		if l.opts != nil {
			opts = l.opts(g)
		}
		_, kind, _ := strings.Cut(l.typ, "/")
		below = g.add(g.v.Name+"-"+kind, l.typ, opts, below)
	}
	return below
}

// apply copies option values into the layers of graph gr, as volopt's
// targets say. Values not set are left to the layer, except targets
// marked Always.
func (g *gen) apply(gr volopt.Graph) {
	for _, o := range volopt.All() {
		val, set := g.opts[o.Key]
		for _, t := range o.Targets {
			if t.Graph&gr == 0 || t.Option == "" || !(set || t.Always && o.Default != "") {
				continue
			}
			v := val
			if !set {
				v = o.Default
			}
			key := strings.ReplaceAll(t.Option, "*", g.brick.Path)
			for _, vol := range g.f.Volumes {
				if vol.Type == t.Layer {
					vol.SetOption(key, v)
				}
			}
		}
	}
}

// ClientVolfile generates the client volfile of v, plus warnings about what the
// build could not honour (a fallback, a feature layer it lacks).
func ClientVolfile(v *Volume, env Env) (*volfile.File, []string, error) {
	g, err := newGen(v, env)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range []string{typeClient, typeIOStats} {
		if err := g.need(t, "all"); err != nil {
			return nil, nil, err
		}
	}
	name := v.Name
	var clients []string
	for i, b := range v.Bricks {
		clients = append(clients, g.add(v.ClientName(i), typeClient, []volfile.Option{
			{Key: "remote-host", Value: b.Host},
			{Key: "remote-subvolume", Value: b.Path},
			{Key: "transport-type", Value: "tcp"},
		}))
	}
	subvols, err := g.groups(clients)
	if err != nil {
		return nil, nil, err
	}
	top := subvols[0]
	if len(subvols) > 1 {
		if err := g.need(typeDHT, "distribute"); err != nil {
			return nil, nil, err
		}
		top = g.add(name+"-dht", typeDHT, decommissioned(v, subvols), subvols...)
	}
	top = g.stack(clientStack(), top)
	g.add(name, typeIOStats, nil, top)
	g.apply(volopt.ClientGraph)
	return &g.f, g.warnings, nil
}

// decommissioned is the distribute option naming the subvolumes that hold
// a decommissioned brick, if any.
func decommissioned(v *Volume, subvols []string) []volfile.Option {
	var names []string
	size := len(v.Bricks) / len(subvols)
	for i, s := range subvols {
		for _, b := range v.Decommissioned {
			if b/size == i {
				names = append(names, s)
				break
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	return []volfile.Option{{Key: "decommissioned-bricks", Value: strings.Join(names, ",")}}
}

// groups builds the replicate, stripe or disperse sets over the clients
// and returns the subvolumes to distribute over.
func (g *gen) groups(clients []string) ([]string, error) {
	v, name := g.v, g.v.Name
	chunk := func(list []string, n int) [][]string {
		var out [][]string
		for i := 0; i < len(list); i += n {
			out = append(out, list[i:i+n])
		}
		return out
	}
	switch {
	case v.DisperseCount > 0:
		if err := g.need(typeEC, "disperse"); err != nil {
			return nil, err
		}
		var out []string
		for i, set := range chunk(clients, v.DisperseCount) {
			out = append(out, g.add(fmt.Sprintf("%s-disperse-%d", name, i), typeEC,
				[]volfile.Option{{Key: "redundancy", Value: fmt.Sprint(v.RedundancyCount)}}, set...))
		}
		return out, nil
	case v.ReplicaCount > 1 && !g.has(typeAFR) && g.env.AllowFallback && v.StripeCount <= 1:
		g.warn("replicate volumes need the cluster/replicate layer, which this build does not have yet; "+
			"volume %s falls back to distribute over its %d bricks, without redundancy", name, len(clients))
		return clients, nil
	}
	sets := clients
	if v.ReplicaCount > 1 {
		if err := g.need(typeAFR, "replicate"); err != nil {
			return nil, err
		}
		sets = nil
		for i, set := range chunk(clients, v.ReplicaCount) {
			opts := []volfile.Option{{Key: "afr-pending-xattr", Value: strings.Join(set, ",")}}
			if v.ArbiterCount > 0 {
				opts = append(opts, volfile.Option{Key: "arbiter-count", Value: fmt.Sprint(v.ArbiterCount)})
			}
			sets = append(sets, g.add(fmt.Sprintf("%s-replicate-%d", name, i), typeAFR, opts, set...))
		}
	}
	if v.StripeCount > 1 {
		if err := g.need(typeStripe, "stripe"); err != nil {
			return nil, err
		}
		stripes := sets
		sets = nil
		for i, set := range chunk(stripes, v.StripeCount) {
			sets = append(sets, g.add(fmt.Sprintf("%s-stripe-%d", name, i), typeStripe, nil, set...))
		}
	}
	return sets, nil
}

// BrickVolfile generates the volfile of brick n (an index into v.Bricks): posix,
// the brick-side feature layers the build has, io-stats named by the brick
// path (what clients' remote-subvolume asks for) and protocol/server.
func BrickVolfile(v *Volume, n int, env Env) (*volfile.File, []string, error) {
	g, err := newGen(v, env)
	if err != nil {
		return nil, nil, err
	}
	if n < 0 || n >= len(v.Bricks) {
		return nil, nil, fmt.Errorf("volume %s has no brick %d", v.Name, n)
	}
	for _, t := range []string{typePosix, typeIOStats, typeServer} {
		if err := g.need(t, "all"); err != nil {
			return nil, nil, err
		}
	}
	g.brick, g.brickIndex = v.Bricks[n], n
	p := g.brick.Path
	below := g.add(v.Name+"-posix", typePosix, []volfile.Option{
		{Key: "directory", Value: p},
		{Key: "volume-id", Value: v.ID},
	})
	below = g.stack(brickStack(), below)
	below = g.add(p, typeIOStats, nil, below)
	g.add(v.Name+"-server", typeServer, []volfile.Option{{Key: "transport-type", Value: "tcp"}}, below)
	g.apply(volopt.BrickGraph)
	return &g.f, g.warnings, nil
}
