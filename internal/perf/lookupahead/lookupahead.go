// Package lookupahead is the performance/lookup-ahead layer of the client
// graph (above the cluster layers, below quick-read). A program that
// stats, opens or removes many files of a directory by name, without
// listing it first (a cold cache after a mount, a build, a backup), costs
// one lookup round trip per name. Like the Linux NFS client's readdirplus
// heuristic, when lookups of several names of one directory miss in a
// short time (missTrigger within missWindow) the layer lists the
// directory with readdirplus in the background (names, GFIDs and
// attributes, in chunks) and answers the following lookups of its files
// from that listing.
//
// Correctness, as md-cache's: an entry is trusted for md-cache-timeout
// from the start of the readdir that brought it. It is dropped by every
// change this client makes to the name or the object (calls by GFID that
// change attributes, entry calls), and by the bricks' upcalls
// (features/upcall registers this client's interest in every entry a
// readdirplus returns) when another client changes it; a brick connection
// going down or up drops everything. A readdir chunk in flight while a
// name or object changed does not bring that entry back (seq).
// Directories are never answered here (distribute merges their
// attributes and layouts on lookup), nor lookups that ask for xattrs or
// content (quick-read's): those go to the bricks.
//
// Bounds: at most maxEntries entries in all (least recently used
// directories go first); a directory larger than maxDirEntries is not
// listed again for backoff, nor one whose last listing served few lookups.
package lookupahead

import (
	"container/list"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "performance/lookup-ahead"

// DefaultTimeout is md-cache's: how long a listed entry is trusted.
const DefaultTimeout = time.Second

// The heuristic and its bounds.
const (
	missTrigger   = 3           // misses in one directory that start a listing...
	missWindow    = time.Second // ...within this time
	chunk         = 512         // entries per readdirplus
	maxDirEntries = 1 << 14     // a larger directory is not listed
	maxEntries    = 1 << 16     // entries kept in all
	maxDirs       = 1 << 14     // directories tracked
	backoff       = 10 * time.Second
	// A listing that served fewer lookups than 1/lowHitRate of its
	// entries (and had at least minJudged) is not repeated for backoff.
	lowHitRate = 8
	minJudged  = 64
	// fetchTimeout bounds a background listing.
	fetchTimeout = 30 * time.Second
)

// LA is the lookup-ahead layer.
type LA struct {
	fop.Base
	emitUpcall func(*fop.Upcall)
	now        func() time.Time
	timeout    atomic.Int64 // nanoseconds; 0 turns the layer off
	fetches    sync.WaitGroup
	// Bounds (maxEntries, maxDirEntries; tests lower them).
	maxEntries, maxDir int

	mu   sync.Mutex
	dirs map[fop.GFID]*list.Element // of *dir
	lru  list.List                  // front: most recently used
	objs map[fop.GFID]map[key]struct{}
	// multi counts the entries of objects with more than one link: the
	// removal of an unknown name may be one of theirs.
	multi map[fop.GFID]int
	total int // entries kept
	// seq is bumped by every change and invalidation; a readdir chunk
	// that started at seq s does not keep names or objects changed after
	// s (changed, dir.changed), nor anything after a reset (resetAt).
	seq     uint64
	resetAt uint64
	running int                 // listings in flight
	changed map[fop.GFID]uint64 // objects changed while listings run
}

// key names one entry.
type key struct {
	dir  fop.GFID
	name string
}

// dir is what is known of one directory.
type dir struct {
	gfid    fop.GFID
	ents    map[string]*ent
	changed map[string]uint64 // names changed while a listing runs
	dropped uint64            // seq of the last drop of the whole directory
	elem    *list.Element

	misses   int
	missFrom time.Time
	fetching bool
	listed   time.Time // start of the last listing
	filled   int       // entries it brought
	hits     int       // lookups answered since
	idleTill time.Time // no listing before
}

// ent is one entry: the object's attributes.
type ent struct {
	attr fop.Attr
	at   time.Time
}

var (
	_ fop.Layer          = (*LA)(nil)
	_ graph.Reconfigurer = (*LA)(nil)
)

// New builds the layer above its single child.
func New(a *graph.Args) (fop.Layer, error) {
	next, err := a.OnlyChild()
	if err != nil {
		return nil, err
	}
	l := &LA{Base: fop.Base{Next: next}, emitUpcall: a.Upcaller(), now: time.Now,
		maxEntries: maxEntries, maxDir: maxDirEntries, dirs: map[fop.GFID]*list.Element{},
		objs: map[fop.GFID]map[key]struct{}{}, multi: map[fop.GFID]int{}, changed: map[fop.GFID]uint64{}}
	if err := l.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	return l, nil
}

// Reconfigure applies option md-cache-timeout (seconds), shared with
// md-cache: entries are attributes and are trusted as long.
func (l *LA) Reconfigure(opts map[string]string) error {
	t, err := volopt.LayerSeconds(opts, "md-cache-timeout", DefaultTimeout)
	if err != nil {
		return fmt.Errorf("%s: %w", Type, err)
	}
	l.timeout.Store(int64(t))
	return nil
}

// cached returns the attributes of name in directory g if a listing
// brought them recently enough.
func (l *LA) cached(g fop.GFID, name string) (fop.Attr, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.dirs[g]
	if e == nil {
		return fop.Attr{}, false
	}
	d := e.Value.(*dir)
	en := d.ents[name]
	if en == nil {
		return fop.Attr{}, false
	}
	if l.now().Sub(en.at) >= time.Duration(l.timeout.Load()) {
		l.forgetLocked(d, name)
		return fop.Attr{}, false
	}
	d.hits++
	l.lru.MoveToFront(e)
	return en.attr, true
}

// dirLocked returns g's record, making one.
func (l *LA) dirLocked(g fop.GFID) *dir {
	if e := l.dirs[g]; e != nil {
		l.lru.MoveToFront(e)
		return e.Value.(*dir)
	}
	d := &dir{gfid: g, ents: map[string]*ent{}, changed: map[string]uint64{}}
	d.elem = l.lru.PushFront(d)
	l.dirs[g] = d.elem
	l.trimLocked(d, l.maxEntries)
	return d
}

// live says whether d is still the record of its directory.
func (l *LA) liveLocked(d *dir) bool {
	e := l.dirs[d.gfid]
	return e != nil && e == d.elem
}

// forgetLocked drops one entry.
func (l *LA) forgetLocked(d *dir, name string) {
	en := d.ents[name]
	if en == nil {
		return
	}
	delete(d.ents, name)
	l.total--
	if en.attr.Nlink > 1 {
		if l.multi[en.attr.GFID]--; l.multi[en.attr.GFID] <= 0 {
			delete(l.multi, en.attr.GFID)
		}
	}
	k := key{d.gfid, name}
	if s := l.objs[en.attr.GFID]; s != nil {
		delete(s, k)
		if len(s) == 0 {
			delete(l.objs, en.attr.GFID)
		}
	}
}

// keepLocked adds an entry.
func (l *LA) keepLocked(d *dir, name string, a *fop.Attr, at time.Time) {
	l.forgetLocked(d, name)
	d.ents[name] = &ent{attr: *a, at: at}
	l.total++
	if a.Nlink > 1 {
		l.multi[a.GFID]++
	}
	s := l.objs[a.GFID]
	if s == nil {
		s = map[key]struct{}{}
		l.objs[a.GFID] = s
	}
	s[key{d.gfid, name}] = struct{}{}
}

// dropDirLocked forgets every entry of d and its record.
func (l *LA) dropDirLocked(d *dir) {
	for name := range d.ents {
		l.forgetLocked(d, name)
	}
	l.lru.Remove(d.elem)
	delete(l.dirs, d.gfid)
}

// trimLocked keeps the entries under limit and the directories under
// their bound, dropping least recently used directories but keep.
func (l *LA) trimLocked(keep *dir, limit int) {
	for e := l.lru.Back(); (l.total > limit || len(l.dirs) > maxDirs) && e != nil; {
		prev := e.Prev()
		if d := e.Value.(*dir); d != keep {
			l.dropDirLocked(d)
		}
		e = prev
	}
}

// nameChanged drops name of directory g: this client changed that entry,
// or another client did.
func (l *LA) nameChanged(g fop.GFID, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	e := l.dirs[g]
	if e == nil {
		return
	}
	d := e.Value.(*dir)
	l.forgetLocked(d, name)
	if d.fetching {
		d.changed[name] = l.seq
	}
}

// objChanged drops every entry of object g (its attributes changed).
func (l *LA) objChanged(g fop.GFID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.objChangedLocked(g)
}

func (l *LA) objChangedLocked(g fop.GFID) {
	l.seq++
	if l.running > 0 {
		l.changed[g] = l.seq
	}
	for k := range l.objs[g] {
		if e := l.dirs[k.dir]; e != nil {
			l.forgetLocked(e.Value.(*dir), k.name)
		}
	}
}

// unknownRemoved is the removal of a name whose object is not known here:
// it may be a hard link of any object kept with more than one link.
func (l *LA) unknownRemoved() {
	l.mu.Lock()
	defer l.mu.Unlock()
	many := make([]fop.GFID, 0, len(l.multi))
	for g := range l.multi {
		many = append(many, g)
	}
	for _, g := range many {
		l.objChangedLocked(g)
	}
}

// objectOf returns the object name of g is known to be, if any.
func (l *LA) objectOf(g fop.GFID, name string) (fop.GFID, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.dirs[g]; e != nil {
		if en := e.Value.(*dir).ents[name]; en != nil {
			return en.attr.GFID, true
		}
	}
	return fop.GFID{}, false
}

// dropDir forgets directory g.
func (l *LA) dropDir(g fop.GFID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	if e := l.dirs[g]; e != nil {
		d := e.Value.(*dir)
		d.dropped = l.seq
		for name := range d.ents {
			l.forgetLocked(d, name)
		}
	}
}

// dropAll forgets everything: listings in flight keep nothing.
func (l *LA) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	l.resetAt = l.seq
	for _, e := range l.dirs {
		d := e.Value.(*dir)
		for name := range d.ents {
			l.forgetLocked(d, name)
		}
	}
}

// isDir says whether an attribute is a directory's.
func isDir(a *fop.Attr) bool { return a.Mode&syscall.S_IFMT == syscall.S_IFDIR }
