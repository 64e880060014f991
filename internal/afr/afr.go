// Package afr is the replicate layer ("cluster/replicate"): every change
// goes to all replicas of a set, reads come from one healthy replica, and
// GlusterFS's changelog xattrs on each brick record which replica missed
// what, so that self-heal knows sources from sinks and split-brain is
// detected rather than served.
//
// A change is a transaction: lock (inodelk or entrylk on every replica
// that is up), pre-op (mark trusted.afr.dirty), the operation on every
// replica, post-op (on the replicas that succeeded, accuse the ones that
// did not in trusted.afr.VOL-client-N, then clear dirty), unlock. Writes
// through one FD keep the lock and the dirty mark between writes (eager
// locking) and run the post-op once the stream pauses; so do the creates
// and deletes of one client in one directory (eager.go), and a new file
// is created dirty and locked by its create (fresh.go). The post-op also
// releases the lock on the brick (locks.ReleaseKey), and at close rides
// on the file's release (fop.XattropReleaser).
package afr

import (
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// Type is the volfile type of the replicate layer.
const Type = "cluster/replicate"

// AFR replicates over its children.
type AFR struct {
	name     string
	children []fop.Layer
	keys     []string // trusted.afr.<child name>: where others' accusations of a child live
	emit     func(fop.Event)
	log      *slog.Logger

	arbiter int // the arbiter replica, or -1
	opts    atomic.Pointer[options]

	mu       sync.Mutex
	up       []bool
	reported []bool
	conns    []uint64 // times each replica came up: a lock held across a reconnection is gone
	wasUp    bool
	childUp  []func(child int) // see OnChildUp

	postOps atomic.Uint64 // data post-ops done (see readable.go)

	inodes  sync.Map // fop.GFID -> *inode
	healing sync.Map // fop.GFID -> struct{}: heals in progress
}

// options are the layer's tunables. Reconfigure replaces them whole, so
// that every call sees one consistent set.
type options struct {
	quorumType   string // none, auto, fixed
	quorumCount  int
	favorite     string // favorite-child-policy: none, size, mtime, ctime, majority
	postOpDelay  time.Duration
	eagerLock    bool
	selfHealData bool
	selfHealMeta bool
	selfHealEnt  bool
	bgHeals      chan struct{} // slots of background heals (background-self-heal-count)
}

// o returns the current options.
func (r *AFR) o() *options { return r.opts.Load() }

// defaultBackgroundHeals is GlusterFS's cluster.background-self-heal-count.
const defaultBackgroundHeals = 8

// inode is what AFR knows of an object: which replicas are good to read.
type inode struct {
	mu       sync.Mutex
	dir      bool
	readable []bool // data (files) or entry (directories) readability
	metaOK   []bool
	missed   []miss   // replicas that missed this client's writes (readable.go)
	conns    []uint64 // the replicas' connection counts when readable was judged
	tx       txnState // this client's eager write transaction (files)
}

// Keys of the changelog.
const (
	DirtyKey  = "trusted.afr.dirty"
	keyPrefix = "trusted.afr."
)

var _ fop.Notifier = (*AFR)(nil)

// New builds a replicate layer. Options (GlusterFS's names):
// quorum-type none|auto|fixed (auto by default for three or more
// replicas), quorum-count N, favorite-child-policy
// none|size|mtime|ctime|majority, arbiter-count 0|1 (the last of three
// replicas holds no data), post-op-delay-secs (default 1),
// eager-lock (on; off ends each write's transaction at once),
// background-self-heal-count (8 heals at once), data-self-heal,
// metadata-self-heal, entry-self-heal (on).
func New(a *graph.Args) (fop.Layer, error) {
	if len(a.Children) < 1 {
		return nil, fmt.Errorf("%s needs at least one subvolume", Type)
	}
	r := &AFR{
		name:     a.Name,
		children: a.Children,
		emit:     a.Emit,
		log:      a.Logger,
		up:       make([]bool, len(a.Children)),
		reported: make([]bool, len(a.Children)),
		conns:    make([]uint64, len(a.Children)),
		arbiter:  -1,
	}
	switch a.Options["arbiter-count"] {
	case "", "0":
	case "1":
		if len(a.Children) != 3 {
			return nil, fmt.Errorf("arbiter-count 1 needs 3 replicas, not %d", len(a.Children))
		}
		r.arbiter = len(a.Children) - 1
	default:
		return nil, fmt.Errorf("arbiter-count: %q is not 0 or 1", a.Options["arbiter-count"])
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for i := range a.Children {
		name := fmt.Sprintf("%s-client-%d", a.Name, i)
		if i < len(a.ChildNames) {
			name = a.ChildNames[i]
		}
		r.keys = append(r.keys, keyPrefix+name)
	}
	if err := r.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	return r, nil
}

func isOn(v string) bool {
	switch v {
	case "on", "yes", "true", "enable", "1":
		return true
	}
	return false
}

// Reconfigure applies the options of a new volfile (all of them: one not
// given is back to its default), all or none.
func (r *AFR) Reconfigure(opts map[string]string) error {
	o := &options{quorumType: "none", favorite: "none", postOpDelay: time.Second, eagerLock: true,
		selfHealData: true, selfHealMeta: true, selfHealEnt: true}
	if len(r.children) >= 3 {
		o.quorumType = "auto"
	}
	if v, ok := opts["quorum-type"]; ok {
		switch v {
		case "none", "auto", "fixed":
			o.quorumType = v
		default:
			return fmt.Errorf("quorum-type: %q is not none, auto or fixed", v)
		}
	}
	if v, ok := opts["quorum-count"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > len(r.children) {
			return fmt.Errorf("quorum-count: %q is not between 1 and %d", v, len(r.children))
		}
		o.quorumCount = n
	}
	if v, ok := opts["favorite-child-policy"]; ok {
		switch v {
		case "none", "size", "mtime", "ctime", "majority":
			o.favorite = v
		default:
			return fmt.Errorf("favorite-child-policy: %q is not none, size, mtime, ctime or majority", v)
		}
	}
	if v, ok := opts["post-op-delay-secs"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("post-op-delay-secs: %q is not a number of seconds", v)
		}
		o.postOpDelay = time.Duration(n) * time.Second
	}
	heals := defaultBackgroundHeals
	if v, ok := opts["background-self-heal-count"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("background-self-heal-count: %q is not a count", v)
		}
		heals = n
	}
	// Keep the slots while the count stays; with a new count, heals
	// holding a slot of the old channel give it back there.
	if cur := r.o(); cur != nil && cap(cur.bgHeals) == heals {
		o.bgHeals = cur.bgHeals
	} else {
		o.bgHeals = make(chan struct{}, heals)
	}
	for key, dst := range map[string]*bool{"eager-lock": &o.eagerLock, "data-self-heal": &o.selfHealData, "metadata-self-heal": &o.selfHealMeta, "entry-self-heal": &o.selfHealEnt} {
		if v, ok := opts[key]; ok {
			*dst = isOn(v)
		}
	}
	r.opts.Store(o)
	return nil
}

// Notify tracks replicas; the set is up while any replica is.
func (r *AFR) Notify(child fop.Layer, ev fop.Event) {
	r.mu.Lock()
	var hooks []func(int)
	came := -1
	for i, c := range r.children {
		if c == child {
			if ev == fop.ChildUp && !r.up[i] {
				came, hooks = i, r.childUp
				r.conns[i]++
			}
			r.reported[i] = true
			r.up[i] = ev == fop.ChildUp
		}
	}
	any := false
	for _, u := range r.up {
		any = any || u
	}
	var send fop.Event
	if any && !r.wasUp {
		r.wasUp, send = true, fop.ChildUp
	} else if !any && r.wasUp {
		r.wasUp, send = false, fop.ChildDown
	}
	r.mu.Unlock()
	if send != 0 && r.emit != nil {
		r.emit(send)
	}
	for _, fn := range hooks {
		go fn(came)
	}
}

// upSet returns which children are up. Children that never reported (a
// graph without protocol/client below) count as up.
func (r *AFR) upSet() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]bool, len(r.children))
	for i := range out {
		out[i] = r.up[i] || !r.reported[i]
	}
	return out
}

// connCounts returns how many times each replica came up.
func (r *AFR) connCounts() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint64(nil), r.conns...)
}

// andNot returns the replicas in a and not in b.
func andNot(a, b []bool) []bool {
	out := make([]bool, len(a))
	for i := range a {
		out[i] = a[i] && !b[i]
	}
	return out
}

func count(set []bool) int {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	return n
}

// quorum reports whether the replicas in set may accept a change: with
// "auto", more than half, or exactly half including the first replica;
// with "fixed", at least quorum-count.
func (r *AFR) quorum(set []bool) bool {
	n := count(set)
	o := r.o()
	switch o.quorumType {
	case "auto":
		total := len(r.children)
		return 2*n > total || (2*n == total && set[0])
	case "fixed":
		return n >= o.quorumCount
	}
	return n > 0
}

func (r *AFR) inode(g fop.GFID) *inode {
	if v, ok := r.inodes.Load(g); ok {
		return v.(*inode)
	}
	v, _ := r.inodes.LoadOrStore(g, &inode{})
	return v.(*inode)
}

// readChild picks the replica to read g from: one that is up and
// readable, spread over replicas by GFID. -1 means no replica can be
// trusted (split-brain) or none is up.
func (r *AFR) readChild(g fop.GFID, meta bool) int {
	up := r.upSet()
	in := r.inode(g)
	in.mu.Lock()
	var cands []int
	for i := range r.children {
		if up[i] && in.canRead(i, meta) && (meta || in.dir || !r.isArbiter(i)) {
			cands = append(cands, i)
		}
	}
	in.mu.Unlock()
	if len(cands) == 0 {
		return -1
	}
	h := fnv.New32a()
	h.Write(g[:])
	return cands[int(h.Sum32()%uint32(len(cands)))]
}
