package upcall

import (
	"context"
	"errors"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/bricktest"
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// rig is an upcall layer over a real brick, recording what it emits.
type rig struct {
	u   *Upcall
	mu  sync.Mutex
	got []fop.Upcall
	now time.Time
}

func newRig(t *testing.T, opts map[string]string) *rig {
	t.Helper()
	bricks, _, _ := bricktest.Bricks(t, 1, "v", nil)
	r := &rig{now: time.Unix(1000, 0)}
	if opts == nil {
		opts = map[string]string{"cache-invalidation": "on"}
	}
	l, err := New(&graph.Args{Name: "v-upcall", Options: opts, Children: bricks, EmitUpcall: func(u *fop.Upcall) {
		r.mu.Lock()
		r.got = append(r.got, *u)
		r.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.u = l.(*Upcall)
	r.u.now = func() time.Time { return r.now }
	return r
}

// take returns and clears what was emitted.
func (r *rig) take() []fop.Upcall {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.got
	r.got = nil
	return g
}

func as(client string) context.Context {
	return fop.WithCaller(context.Background(), &fop.Caller{Client: client})
}

func (r *rig) lookupMissing(t *testing.T, client, name string) {
	t.Helper()
	_, _, err := r.u.Lookup(as(client), &fop.Loc{Parent: fop.RootGFID, Name: name}, nil)
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("lookup %s: %v", name, err)
	}
}

func (r *rig) create(t *testing.T, client, name string) fop.Attr {
	t.Helper()
	loc := &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: fop.NewGFID()}
	fd := fop.NewFD(loc.GFID, syscall.O_RDWR)
	a, _, err := r.u.Create(as(client), loc, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	r.u.Release(as(client), fd)
	return a
}

func TestCreateTellsOtherClientsEachTime(t *testing.T) {
	r := newRig(t, nil)
	r.lookupMissing(t, "A", "f")
	r.lookupMissing(t, "C", "f")
	r.create(t, "B", "f")
	got := r.take()
	var clients []string
	for _, u := range got {
		if u.GFID != fop.RootGFID || u.Flags&fop.UpcallEntry == 0 || u.Name != "f" {
			t.Errorf("upcall %+v", u)
		}
		clients = append(clients, u.Client)
	}
	slices.Sort(clients)
	if !slices.Equal(clients, []string{"A", "C"}) {
		t.Fatalf("told %v, want A and C (not B, who created)", clients)
	}
	// A and C dropped only the name f of the directory and go on
	// trusting its other names: a second create is told too.
	r.create(t, "B", "g")
	if got := r.take(); len(got) != 2 {
		t.Fatalf("second create told %+v, want A and C", got)
	}
}

func TestWriteTellsReaders(t *testing.T) {
	r := newRig(t, nil)
	a := r.create(t, "B", "f")
	r.take()
	if _, err := r.u.Stat(as("A"), &fop.Loc{GFID: a.GFID}); err != nil {
		t.Fatal(err)
	}
	fd := fop.NewFD(a.GFID, syscall.O_RDWR)
	if err := r.u.Open(as("B"), &fop.Loc{GFID: a.GFID}, syscall.O_RDWR, fd); err != nil {
		t.Fatal(err)
	}
	defer r.u.Release(as("B"), fd)
	if _, _, err := r.u.Write(as("B"), fd, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	got := r.take()
	if len(got) != 1 || got[0].Client != "A" || got[0].GFID != a.GFID || got[0].Flags&fop.UpcallAttr == 0 {
		t.Fatalf("write told %+v", got)
	}
	// Removing it tells whoever looked at the directory and the file.
	r.u.Stat(as("A"), &fop.Loc{GFID: a.GFID})
	r.lookupMissing(t, "A", "zz")
	if _, err := r.u.Unlink(as("B"), &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: a.GFID}); err != nil {
		t.Fatal(err)
	}
	got = r.take()
	if len(got) != 2 {
		t.Fatalf("unlink told %+v", got)
	}
}

func TestInterestExpiresAndGoesWithTheClient(t *testing.T) {
	r := newRig(t, map[string]string{"cache-invalidation": "on", "cache-invalidation-timeout": "10"})
	r.lookupMissing(t, "A", "f")
	r.now = r.now.Add(11 * time.Second)
	r.create(t, "B", "f")
	if got := r.take(); len(got) != 0 {
		t.Fatalf("expired interest told %+v", got)
	}
	r.lookupMissing(t, "A", "g")
	r.u.ForgetClient("A")
	r.create(t, "B", "g")
	if got := r.take(); len(got) != 0 {
		t.Fatalf("forgotten client told %+v", got)
	}
}

func TestOffTellsNobody(t *testing.T) {
	r := newRig(t, map[string]string{})
	r.lookupMissing(t, "A", "f")
	r.create(t, "B", "f")
	if got := r.take(); len(got) != 0 {
		t.Fatalf("off, told %+v", got)
	}
	// Turned on live.
	if err := r.u.Reconfigure(map[string]string{"cache-invalidation": "on"}); err != nil {
		t.Fatal(err)
	}
	r.lookupMissing(t, "A", "g")
	r.create(t, "B", "g")
	if got := r.take(); len(got) != 1 {
		t.Fatalf("on, told %+v", got)
	}
}

// An object pushed out of the full table is invalidated for the clients
// that still hold interest in it.
// An object pushed out of the table is forgotten silently (a client that
// creates more than the table holds is not sent its own files back), but
// a later change of it is still told, once, to the clients whose live
// interest went; a client whose filter is full is told at eviction.
func TestEvictionIsQuietButChangesAreTold(t *testing.T) {
	r := newRig(t, nil)
	a := r.create(t, "B", "f")
	b := r.create(t, "B", "g")
	r.u.ForgetClient("B")
	r.take()
	r.u.max = 2
	r.u.Stat(as("A"), &fop.Loc{GFID: a.GFID})
	r.u.Stat(as("A"), &fop.Loc{GFID: b.GFID})
	r.lookupMissing(t, "A", "h") // the root pushes a (least recent) out
	if got := r.take(); len(got) != 0 {
		t.Fatalf("eviction told %+v", got)
	}
	truncate := func() []fop.Upcall {
		t.Helper()
		if _, err := r.u.Truncate(as("B"), &fop.Loc{GFID: a.GFID}, 1); err != nil {
			t.Fatal(err)
		}
		return r.take()
	}
	if got := truncate(); len(got) != 1 || got[0].Client != "A" || got[0].GFID != a.GFID {
		t.Fatalf("change of an evicted object told %+v", got)
	}
	if got := truncate(); len(got) != 0 {
		t.Fatalf("second change told %+v", got)
	}
	r.u.Stat(as("A"), &fop.Loc{GFID: a.GFID})
	if got := truncate(); len(got) != 1 || got[0].Client != "A" {
		t.Fatalf("change after A called again told %+v", got)
	}
	// Past the timeout the filters are dropped: nothing to tell.
	r.u.Stat(as("A"), &fop.Loc{GFID: b.GFID})
	r.lookupMissing(t, "A", "h2")
	r.take()
	r.now = r.now.Add(3 * DefaultTimeout)
	if got := truncate(); len(got) != 0 {
		t.Fatalf("change after the timeout told %+v", got)
	}

	// Full filters: evictions are told at once.
	r.u.Stat(as("A"), &fop.Loc{GFID: a.GFID})
	r.u.Stat(as("A"), &fop.Loc{GFID: b.GFID})
	for range maxFilters {
		r.u.gone["A"] = append(r.u.gone["A"], &bloom{n: filterCapacity, last: r.now.UnixNano()})
	}
	r.lookupMissing(t, "A", "h3")
	if got := r.take(); len(got) != 1 || got[0].Client != "A" || got[0].GFID != a.GFID {
		t.Fatalf("eviction with a full filter told %+v", got)
	}
}

func TestBloomHasWhatWasAdded(t *testing.T) {
	b := new(bloom)
	gs := make([]fop.GFID, 1000)
	for i := range gs {
		gs[i] = fop.NewGFID()
		b.add(gs[i])
	}
	b.add(fop.RootGFID)
	for _, g := range append(gs, fop.RootGFID) {
		if !b.has(g) {
			t.Fatalf("%s added, not found", g)
		}
	}
	fp := 0
	for range 10000 {
		if b.has(fop.NewGFID()) {
			fp++
		}
	}
	if fp > 10 { // about 1e-12 expected with 1,001 of 2^20 bits set
		t.Fatalf("%d false positives in 10,000", fp)
	}
}

// Entries listed with their attributes are watched too: the client's
// kernel caches those attributes.
func TestReaddirplusWatchesEntries(t *testing.T) {
	r := newRig(t, nil)
	a := r.create(t, "B", "f")
	r.take()
	fd := fop.NewFD(fop.RootGFID, syscall.O_RDONLY)
	if err := r.u.Opendir(as("A"), &fop.Loc{GFID: fop.RootGFID}, fd); err != nil {
		t.Fatal(err)
	}
	if _, err := r.u.Readdir(as("A"), fd, 0, 100, true, nil); err != nil {
		t.Fatal(err)
	}
	r.u.Releasedir(as("A"), fd)
	if _, err := r.u.Setattr(as("B"), &fop.Loc{GFID: a.GFID}, &fop.SetAttr{Valid: fop.SetMode, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if got := r.take(); len(got) != 1 || got[0].Client != "A" || got[0].GFID != a.GFID {
		t.Fatalf("setattr after readdirplus told %+v", got)
	}
}

func TestTruncatingOpenTells(t *testing.T) {
	r := newRig(t, nil)
	a := r.create(t, "B", "f")
	r.take()
	r.u.Stat(as("A"), &fop.Loc{GFID: a.GFID})
	fd := fop.NewFD(a.GFID, syscall.O_RDWR|syscall.O_TRUNC)
	if err := r.u.Open(as("B"), &fop.Loc{GFID: a.GFID}, syscall.O_RDWR|syscall.O_TRUNC, fd); err != nil {
		t.Fatal(err)
	}
	r.u.Release(as("B"), fd)
	if got := r.take(); len(got) != 1 || got[0].Client != "A" || got[0].GFID != a.GFID {
		t.Fatalf("open O_TRUNC told %+v", got)
	}
}

func TestForgetClientKeepsOthers(t *testing.T) {
	r := newRig(t, nil)
	r.lookupMissing(t, "A", "f")
	r.lookupMissing(t, "C", "f")
	r.lookupMissing(t, "A", "f") // a second look refreshes, adds nothing
	r.u.ForgetClient("A")
	r.create(t, "B", "f")
	if got := r.take(); len(got) != 1 || got[0].Client != "C" {
		t.Fatalf("after A went, told %+v", got)
	}
}

// between runs hook once, between a lookup below the upcall layer and its
// return: a change made there raced the lookup.
type between struct {
	fop.Layer
	hook func()
}

func (b *between) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	a, d, err := b.Layer.Lookup(ctx, loc, xreq)
	if h := b.hook; h != nil {
		b.hook = nil
		h()
	}
	return a, d, err
}

// A change that lands between a first lookup by name and the registration
// of the lookup's interest told nobody: the lookup must not return what it
// read before the change.
func TestChangeRacingFirstLookup(t *testing.T) {
	r := newRig(t, nil)
	a := r.create(t, "B", "f")
	mid := &between{Layer: r.u.Next}
	r.u.Next = mid
	mid.hook = func() {
		if _, err := r.u.Truncate(as("B"), &fop.Loc{GFID: a.GFID}, 100); err != nil {
			t.Error(err)
		}
	}
	got, _, err := r.u.Lookup(as("A"), &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != 100 {
		t.Fatalf("lookup raced by a truncate returned size %d, and A was told %v", got.Size, r.take())
	}
	// A's interest is registered: the next change is told.
	r.take()
	if _, err := r.u.Truncate(as("B"), &fop.Loc{GFID: a.GFID}, 7); err != nil {
		t.Fatal(err)
	}
	if up := r.take(); len(up) != 1 || up[0].Client != "A" || up[0].GFID != a.GFID {
		t.Fatalf("after the lookup, B's truncate told %v", up)
	}
}

func TestChangeLogForgetsConservatively(t *testing.T) {
	var l changeLog
	g, h := fop.NewGFID(), fop.NewGFID()
	l.add(g, "B")
	if l.changedSince(g, "A", 1) || !l.changedSince(g, "A", 0) || l.changedSince(g, "B", 0) {
		t.Fatal("wrong answer for a logged change")
	}
	l.add(g, "A")
	if !l.changedSince(g, "A", 0) {
		t.Fatal("a change by another client hidden by the caller's own")
	}
	for range recentChanges {
		l.add(h, "B")
	}
	if !l.changedSince(g, "A", 0) || l.changedSince(g, "A", l.seq) {
		t.Fatal("a forgotten change must count as a change since anything older")
	}
	if len(l.last) != 1 || len(l.ring) != recentChanges {
		t.Fatalf("log holds %d objects, %d changes", len(l.last), len(l.ring))
	}
}
