// Package volopt is the table of volume options, the keys of
// "gluster volume set VOL KEY VALUE": their type, default, description and
// where they end up in the layer graph. glusterd validates "volume set"
// against it, internal/volgen copies set values into the layer options of
// the client and brick volfiles, and docs/volumes.md is generated from it.
//
// Names, defaults and targets follow GlusterFS's glusterd-volume-set.c.
package volopt

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Kind is the type of an option's value.
type Kind int

// Value kinds.
const (
	Bool          Kind = iota // on/off, yes/no, true/false, enable/disable, 1/0
	Int                       // decimal integer within [Min, Max]
	Size                      // byte size: 4096, 512KB, 128MB, 1GB (binary units)
	Percent                   // 0..100 with optional %: 10%
	SizeOrPercent             // either of the above (cluster.min-free-disk)
	Time                      // whole seconds within [Min, Max], optional "s" suffix
	Enum                      // one of Values
	AddrList                  // comma-separated addresses, wildcards (192.168.*), CIDRs or host names
	String                    // anything
)

func (k Kind) String() string {
	switch k {
	case Bool:
		return "bool"
	case Int:
		return "int"
	case Size:
		return "size"
	case Percent:
		return "percent"
	case SizeOrPercent:
		return "size or percent"
	case Time:
		return "time (s)"
	case Enum:
		return "enum"
	case AddrList:
		return "address list"
	default:
		return "string"
	}
}

// Graph says which generated volfile a target belongs to.
type Graph uint8

// Graphs.
const (
	ClientGraph Graph = 1 << iota // the client graph (FUSE mount, gfapi, NFS)
	BrickGraph                    // each brick process's graph
)

func (g Graph) String() string {
	switch g {
	case ClientGraph:
		return "client"
	case BrickGraph:
		return "brick"
	case ClientGraph | BrickGraph:
		return "client+brick"
	}
	return "none"
}

// Target is one place in a volfile that an option's value is copied to.
type Target struct {
	Graph Graph
	// Layer is the volfile type, e.g. "performance/io-cache".
	Layer string
	// Option is the layer option the value is written as. A "*" in it is
	// replaced by the brick path (auth.addr.*.allow). Empty means the key
	// switches Layer on or off instead (performance.write-behind).
	Option string
	// Always writes the default when the key is not set, so that the layer
	// need not know GlusterFS's default (auth.allow *).
	Always bool
}

// Option describes one volume option.
type Option struct {
	Key     string
	Kind    Kind
	Default string // "" means unset / the layer decides
	// Min and Max bound Int and Time values, and Size values in bytes;
	// both zero means unbounded.
	Min, Max int64
	Values   []string // Enum choices
	// Targets is where volgen writes the value. Empty: the option is read
	// by glusterd or a gateway (NFS, SMB, self-heal daemon), not a layer.
	Targets     []Target
	Description string
}

// Switch returns the target that this option turns on or off, if any.
func (o Option) Switch() (Target, bool) {
	for _, t := range o.Targets {
		if t.Option == "" {
			return t, true
		}
	}
	return Target{}, false
}

func (o Option) clone() Option {
	o.Values = slices.Clone(o.Values)
	o.Targets = slices.Clone(o.Targets)
	return o
}

type index struct {
	byKey    map[string]*Option
	bySuffix map[string][]string // "cache-size" -> ["performance.cache-size"]
	sorted   []Option
}

// idx is built once from table(); nothing mutates it afterwards.
var idx = sync.OnceValue(func() *index {
	t := table()
	sort.Slice(t, func(i, j int) bool { return t[i].Key < t[j].Key })
	ix := &index{byKey: map[string]*Option{}, bySuffix: map[string][]string{}, sorted: t}
	for i := range t {
		o := &t[i]
		if _, dup := ix.byKey[o.Key]; dup {
			panic("volopt: duplicate key " + o.Key)
		}
		ix.byKey[o.Key] = o
		if _, suffix, ok := strings.Cut(o.Key, "."); ok {
			ix.bySuffix[suffix] = append(ix.bySuffix[suffix], o.Key)
		}
	}
	return ix
})

// Lookup finds an option by its full key ("performance.cache-size") or, as
// GlusterFS's glusterd does, by the part after the first dot when that is
// unambiguous ("cache-size").
func Lookup(key string) (Option, error) {
	ix := idx()
	key = strings.TrimSpace(key)
	if o, ok := ix.byKey[key]; ok {
		return o.clone(), nil
	}
	if !strings.Contains(key, ".") {
		switch full := ix.bySuffix[key]; len(full) {
		case 1:
			return ix.byKey[full[0]].clone(), nil
		case 0:
		default:
			return Option{}, fmt.Errorf("option : %s is ambiguous, it could be any of %s", key, strings.Join(full, ", "))
		}
	}
	msg := fmt.Sprintf("option : %s does not exist", key)
	if s := suggest(ix, key); s != "" {
		msg += ", did you mean " + s + "?"
	}
	return Option{}, fmt.Errorf("%s", msg)
}

// suggest returns a known key close to key, for the error message.
func suggest(ix *index, key string) string {
	best, bestD := "", 4
	for k := range ix.byKey {
		if d := distance(key, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Validate checks value for key and returns the full key and the value as
// it should be stored (trimmed, units and log levels in canonical case).
// The error is one GlusterFS-like line, e.g. `'1014' in 'option
// network.ping-timeout 1014' is out of range [0 - 1013]`.
func Validate(key, value string) (fullKey, normalized string, err error) {
	o, err := Lookup(key)
	if err != nil {
		return "", "", err
	}
	n, err := o.normalize(value)
	if err != nil {
		return "", "", err
	}
	return o.Key, n, nil
}

// Default returns the default value of key ("" when the layer decides) and
// whether key is known.
func Default(key string) (string, bool) {
	o, err := Lookup(key)
	if err != nil {
		return "", false
	}
	return o.Default, true
}

// All returns every option, sorted by key.
func All() []Option {
	ix := idx()
	out := make([]Option, len(ix.sorted))
	for i, o := range ix.sorted {
		out[i] = o.clone()
	}
	return out
}

// Effective returns the value of key in a volume's options: the set value
// (under its full key or short alias) or else the default.
func Effective(opts map[string]string, key string) string {
	o, err := Lookup(key)
	if err != nil {
		return ""
	}
	if v, ok := opts[o.Key]; ok {
		return v
	}
	_, suffix, _ := strings.Cut(o.Key, ".")
	if v, ok := opts[suffix]; ok && suffix != "" {
		return v
	}
	return o.Default
}

// Check validates the combination of a volume's options, which single
// values cannot show (cache-min-file-size above cache-max-file-size, a
// client cache timeout above features.cache-invalidation-timeout).
func Check(opts map[string]string) error {
	minS, err1 := ParseSize(orZero(Effective(opts, "performance.cache-min-file-size")))
	maxS, err2 := ParseSize(orZero(Effective(opts, "performance.cache-max-file-size")))
	if err1 == nil && err2 == nil && maxS != 0 && minS > maxS {
		return fmt.Errorf("cache-min-file-size (%d) is greater than cache-max-file-size (%d)", minS, maxS)
	}
	return checkInvalidationTimeouts(opts)
}

// checkInvalidationTimeouts refuses client cache timeouts longer than the
// time bricks remember a client's interest: a cache relying on upcalls
// would keep for up to its timeout what no brick tells it of any more.
// Caches that do not rely on upcalls are bounded by their own timeouts.
func checkInvalidationTimeouts(opts map[string]string) error {
	on := func(key string) bool {
		b, err := ParseBool(Effective(opts, key))
		return err == nil && b
	}
	if !on("features.cache-invalidation") {
		return nil
	}
	limit, err := ParseTime(Effective(opts, "features.cache-invalidation-timeout"))
	if err != nil {
		return nil // refused as a single value
	}
	for _, c := range []struct{ key, uses string }{
		{"performance.md-cache-timeout", "performance.cache-invalidation"},
		{"performance.nl-cache-timeout", "performance.nl-cache"},
	} {
		t, err := ParseTime(Effective(opts, c.key))
		if err == nil && t > limit && on(c.uses) {
			return fmt.Errorf("%s (%d) exceeds features.cache-invalidation-timeout (%d): clients would trust caches bricks no longer correct; raise features.cache-invalidation-timeout first or set both at once", c.key, t, limit)
		}
	}
	return nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
