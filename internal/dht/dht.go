package dht

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// Type is the volfile type of the distribute layer.
const Type = "cluster/distribute"

// DHT distributes files over its children. Directories exist on every
// child and carry a layout; a file lives on the child its name hashes to,
// or elsewhere with a linkto file on the hashed child pointing at it.
type DHT struct {
	children []fop.Layer
	names    []string
	emit     func(fop.Event)
	log      *slog.Logger

	lookupUnhashed string // "on", "off" or "auto"
	lookupOptimize bool
	minFreeDisk    float64
	weighted       bool
	// decommissioned children (remove-brick start) get no part of new
	// layouts, so nothing new lands on them and rebalance empties them.
	decommissioned atomic.Pointer[[]bool]

	mu       sync.Mutex
	up       []bool
	reported []bool
	wasUp    bool

	inodes sync.Map // fop.GFID -> *inode

	du duStats
}

// inode is what DHT remembers of an object it has looked up.
type inode struct {
	mu     sync.Mutex
	dir    bool
	layout *Layout // directories
	cached int     // files: the child holding the data
}

// dirFD is DHT's state for an open directory.
type dirFD struct {
	first  int    // the child whose listing supplies directory entries
	opened []bool // children it is open on (a brick down at opendir is not)
}

var (
	_ fop.Layer    = (*DHT)(nil)
	_ fop.Notifier = (*DHT)(nil)
)

// New builds a distribute layer. Options: lookup-unhashed (on|off|auto,
// default on), lookup-optimize (default on), min-free-disk (percent,
// default 10%), weighted-rebalance (default on).
func New(a *graph.Args) (fop.Layer, error) {
	if len(a.Children) == 0 {
		return nil, fmt.Errorf("%s needs at least one subvolume", Type)
	}
	d := &DHT{
		children:       a.Children,
		names:          a.ChildNames,
		emit:           a.Emit,
		log:            a.Logger,
		lookupUnhashed: "on",
		lookupOptimize: true, // GlusterFS's default since 6
		minFreeDisk:    10,
		weighted:       true,
		up:             make([]bool, len(a.Children)),
		reported:       make([]bool, len(a.Children)),
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if err := d.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	d.du.init(len(a.Children))
	return d, nil
}

// Reconfigure applies option changes pushed by glusterd.
func (d *DHT) Reconfigure(opts map[string]string) error {
	if v, ok := opts["lookup-unhashed"]; ok {
		switch v {
		case "on", "yes", "true", "enable":
			v = "on"
		case "off", "no", "false", "disable":
			v = "off"
		case "auto":
		default:
			return fmt.Errorf("lookup-unhashed: %q is not on, off or auto", v)
		}
		d.lookupUnhashed = v
	}
	if v, ok := opts["min-free-disk"]; ok {
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil || f < 0 || f > 100 {
			return fmt.Errorf("min-free-disk: %q is not a percentage", v)
		}
		d.minFreeDisk = f
	}
	dec := make([]bool, len(d.children))
	if v, ok := opts["decommissioned-bricks"]; ok {
		for _, name := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			i := d.childIndex(name)
			if i < 0 {
				return fmt.Errorf("decommissioned-bricks: %q is not a subvolume", name)
			}
			dec[i] = true
		}
	}
	if prev := d.decommissioned.Swap(&dec); prev != nil && !slices.Equal(*prev, dec) {
		// Layouts are about to change (remove-brick): read them anew.
		d.forgetLayouts()
	}
	if v, ok := opts["lookup-optimize"]; ok {
		d.lookupOptimize = v == "on" || v == "yes" || v == "true" || v == "enable"
	}
	if v, ok := opts["weighted-rebalance"]; ok {
		d.weighted = v == "on" || v == "yes" || v == "true" || v == "enable"
	}
	return nil
}

// Notify tracks which children are up. DHT reports itself up once every
// child has spoken and at least one is up, and down when none is.
func (d *DHT) Notify(child fop.Layer, ev fop.Event) {
	d.mu.Lock()
	for i, c := range d.children {
		if c == child {
			d.reported[i] = true
			d.up[i] = ev == fop.ChildUp
		}
	}
	all, any := true, false
	for i := range d.children {
		all = all && d.reported[i]
		any = any || d.up[i]
	}
	var send fop.Event
	switch {
	case all && any && !d.wasUp:
		d.wasUp = true
		send = fop.ChildUp
	case !any && d.wasUp:
		d.wasUp = false
		send = fop.ChildDown
	case any && !d.wasUp && ev == fop.ChildUp:
		// Not everyone has spoken yet; say up once they have, but do
		// not keep a volume unusable forever for one silent brick.
		go d.upAfterGrace()
	}
	d.mu.Unlock()
	if ev == fop.ChildUp {
		d.forgetLayouts()
	}
	if send != 0 && d.emit != nil {
		d.emit(send)
	}
}

// upGrace bounds how long a mount waits for its slowest brick.
const upGrace = 5 * time.Second

func (d *DHT) upAfterGrace() {
	time.Sleep(upGrace)
	d.mu.Lock()
	send := false
	for i := range d.children {
		if d.up[i] && !d.wasUp {
			d.wasUp, send = true, true
			break
		}
	}
	d.mu.Unlock()
	if send && d.emit != nil {
		d.emit(fop.ChildUp)
	}
}

func (d *DHT) isUp(i int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Before any event (a graph without protocol/client below) every
	// child counts as up.
	return d.up[i] || !d.reported[i]
}

func (d *DHT) firstUp() int {
	for i := range d.children {
		if d.isUp(i) {
			return i
		}
	}
	return 0
}

func (d *DHT) inode(g fop.GFID) *inode {
	if v, ok := d.inodes.Load(g); ok {
		return v.(*inode)
	}
	v, _ := d.inodes.LoadOrStore(g, &inode{cached: -1})
	return v.(*inode)
}

func (d *DHT) childIndex(name string) int {
	for i, n := range d.names {
		if n == name {
			return i
		}
	}
	return -1
}

// fanout runs fn on every child in parallel and returns each one's error.
func (d *DHT) fanout(fn func(i int, c fop.Layer) error) []error {
	errs := make([]error, len(d.children))
	if len(d.children) == 1 {
		errs[0] = fn(0, d.children[0])
		return errs
	}
	var wg sync.WaitGroup
	for i, c := range d.children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i, c)
		}()
	}
	wg.Wait()
	return errs
}

// firstErr picks the error to report from a fan-out: nil if any child
// succeeded and ignoreENOENT, else the most telling errno.
func firstErr(errs []error) error {
	var out error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if out == nil || fop.Errno(out) == syscall.ENOENT || fop.Errno(out) == syscall.ENOTCONN {
			out = err
		}
	}
	return out
}

// isLinkto reports whether attr and xattrs describe a linkto file: mode
// exactly sticky, with the linkto xattr, as GlusterFS's check_is_linkfile.
// A migration's destination is one too while its data is copied, so its
// size does not matter; an empty sticky file without the xattr is a linkto
// caught between its creation and its xattrs, never data.
func isLinkto(a *fop.Attr, x fop.Dict) bool {
	if a.Type() != syscall.S_IFREG || a.Mode&07777 != syscall.S_ISVTX {
		return false
	}
	_, ok := x[LinktoKey]
	return ok || a.Size == 0
}

func linktoTarget(x fop.Dict) string {
	return strings.TrimRight(string(x[LinktoKey]), "\x00")
}

func withKey(x fop.Dict, keys ...string) fop.Dict {
	out := fop.Dict{}
	for k, v := range x {
		out[k] = v
	}
	for _, k := range keys {
		out[k] = nil
	}
	return out
}

// dirPath is what a new directory's layout rotation hashes: its path, as
// GlusterFS does, or its GFID when the caller did not give a path.
func dirPath(loc *fop.Loc) string {
	if loc.Path != "" {
		return loc.Path
	}
	return loc.GFID.String()
}

// allUp reports whether every child is up: a layout is only
// rewritten when no child is missing, or a down brick's range would be
// handed to others and its files lost from view.
func (d *DHT) allUp() bool {
	for i := range d.children {
		if !d.isUp(i) {
			return false
		}
	}
	return true
}

// isDecommissioned reports whether child i is being emptied.
func (d *DHT) isDecommissioned(i int) bool { return (*d.decommissioned.Load())[i] }

// layoutUse says which children take part in a new layout: those up and
// not decommissioned.
func (d *DHT) layoutUse() []bool {
	dec := *d.decommissioned.Load()
	use := make([]bool, len(d.children))
	for i := range use {
		use[i] = d.isUp(i) && !dec[i]
	}
	return use
}

// forgetLayouts drops cached directory layouts so that the next lookup
// sees (and heals) a child that has come back.
func (d *DHT) forgetLayouts() {
	d.inodes.Range(func(_, v any) bool {
		in := v.(*inode)
		in.mu.Lock()
		in.layout = nil
		in.mu.Unlock()
		return true
	})
}
