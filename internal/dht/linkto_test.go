package dht

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// countingLayer counts the lookups (and getxattrs) that reach a brick.
type countingLayer struct {
	fop.Layer
	lookups, getxattrs atomic.Int64
}

func (c *countingLayer) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	c.getxattrs.Add(1)
	return c.Layer.Getxattr(ctx, loc, name)
}

func (c *countingLayer) Lookup(ctx context.Context, loc *fop.Loc, x fop.Dict) (fop.Attr, fop.Dict, error) {
	c.lookups.Add(1)
	return c.Layer.Lookup(ctx, loc, x)
}

// misplaced makes, on a 3-brick volume, a file whose data sits on another
// brick than its name's hashed one (a rename), and returns the name, its
// hashed brick, the brick with the data and the third brick.
func misplaced(t *testing.T, d *DHT) (name string, h, data, other int) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	l, _ := d.layoutOf(ctx, fop.RootGFID)
	src := "a"
	data = l.Search(HashName(src))
	for i := 0; name == ""; i++ {
		if n := fmt.Sprintf("b%d", i); l.Search(HashName(n)) != data {
			name = n
		}
	}
	h = l.Search(HashName(name))
	other = 3 - h - data
	create(t, d, fop.RootGFID, src, "payload")
	if _, _, _, err := d.Rename(ctx, &fop.Loc{Parent: fop.RootGFID, Name: src}, &fop.Loc{Parent: fop.RootGFID, Name: name}, 0); err != nil {
		t.Fatal(err)
	}
	return name, h, data, other
}

// countingClient is another client of d's bricks, counting its lookups.
func countingClient(t *testing.T, d *DHT, opts ...string) (*DHT, []*countingLayer) {
	t.Helper()
	counters := make([]*countingLayer, len(d.children))
	children := make([]fop.Layer, len(d.children))
	for i, c := range d.children {
		counters[i] = &countingLayer{Layer: c}
		children[i] = counters[i]
	}
	o := map[string]string{}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	l, err := New(&graph.Args{Children: children, ChildNames: d.names, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Lookup(context.Background(), &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	return l.(*DHT), counters
}

// linktoOn returns the subvolume the linkto for name on child i names, or
// "" if i has no linkto by that name.
func linktoOn(t *testing.T, d *DHT, i int, name string) string {
	t.Helper()
	a, x, err := d.children[i].Lookup(context.Background(), &fop.Loc{Parent: fop.RootGFID, Name: name}, fop.Dict{LinktoKey: nil})
	if err != nil || !isLinkto(&a, x) {
		return ""
	}
	return linktoTarget(x)
}

func lookupCost(t *testing.T, d *DHT, counters []*countingLayer, name string) (int64, error) {
	t.Helper()
	for _, c := range counters {
		c.lookups.Store(0)
	}
	a, _, err := d.Lookup(context.Background(), &fop.Loc{Parent: fop.RootGFID, Name: name}, nil)
	if err == nil && a.Size != uint64(len("payload")) {
		t.Fatalf("lookup %s: size %d", name, a.Size)
	}
	var n int64
	for _, c := range counters {
		n += c.lookups.Load()
	}
	return n, err
}

// TestLookupEverywhereCreatesLinkto: a file whose hashed brick lost its
// linkto is found by a lookup everywhere, which leaves a linkto there, so
// that the next lookup asks the hashed brick and follows one hop.
func TestLookupEverywhereCreatesLinkto(t *testing.T) {
	d, dirs := newVolume(t, 3)
	name, h, data, _ := misplaced(t, d)
	if err := os.Remove(filepath.Join(dirs[h], name)); err != nil {
		t.Fatal(err)
	}
	// A missing linkto is what lookup-optimize must not meet (see
	// TestLookupOptimize): this client looks everywhere.
	c, counters := countingClient(t, d, "lookup-optimize", "off")
	if n, err := lookupCost(t, c, counters, name); err != nil || n != 3 {
		t.Fatalf("first lookup: %v, %d brick lookups, want 3 (everywhere)", err, n)
	}
	if got := linktoOn(t, d, h, name); got != d.names[data] {
		t.Fatalf("linkto on the hashed brick names %q, want %q", got, d.names[data])
	}
	a, _, err := d.children[h].Lookup(context.Background(), &fop.Loc{Parent: fop.RootGFID, Name: name}, nil)
	b, _, err2 := d.children[data].Lookup(context.Background(), &fop.Loc{Parent: fop.RootGFID, Name: name}, nil)
	if err != nil || err2 != nil || a.GFID != b.GFID {
		t.Fatalf("linkto GFID %v (%v), data GFID %v (%v)", a.GFID, err, b.GFID, err2)
	}
	if n, err := lookupCost(t, c, counters, name); err != nil || n != 2 || counters[h].lookups.Load() != 1 || counters[data].lookups.Load() != 1 {
		t.Fatalf("second lookup: %v, %d brick lookups, want 2 (hashed brick, one hop)", err, n)
	}
}

// TestStaleLinktoReplaced: a linkto naming a removed subvolume, or a brick
// without the file, is replaced by one naming the brick with the data.
func TestStaleLinktoReplaced(t *testing.T) {
	for _, tc := range []struct{ what, target string }{
		{"removed subvolume", "test-client-9"},
		{"brick without the file", ""},
	} {
		t.Run(tc.what, func(t *testing.T) {
			d, _ := newVolume(t, 3)
			name, h, data, other := misplaced(t, d)
			target := tc.target
			if target == "" {
				target = d.names[other]
			}
			loc := &fop.Loc{Parent: fop.RootGFID, Name: name}
			if err := d.children[h].Setxattr(context.Background(), loc, fop.Dict{LinktoKey: append([]byte(target), 0)}, 0); err != nil {
				t.Fatal(err)
			}
			c, counters := countingClient(t, d)
			if _, err := lookupCost(t, c, counters, name); err != nil {
				t.Fatalf("lookup through a stale linkto: %v", err)
			}
			if got := linktoOn(t, d, h, name); got != d.names[data] {
				t.Fatalf("linkto on the hashed brick names %q, want %q", got, d.names[data])
			}
			if n, err := lookupCost(t, c, counters, name); err != nil || n != 2 {
				t.Fatalf("next lookup: %v, %d brick lookups, want 2", err, n)
			}
		})
	}
}

// TestDanglingLinktoRemoved: a linkto naming a removed subvolume, for a
// file no brick holds, goes on lookup.
func TestDanglingLinktoRemoved(t *testing.T) {
	d, dirs := newVolume(t, 3)
	name, h, data, _ := misplaced(t, d)
	if err := os.Remove(filepath.Join(dirs[data], name)); err != nil {
		t.Fatal(err)
	}
	loc := &fop.Loc{Parent: fop.RootGFID, Name: name}
	if err := d.children[h].Setxattr(context.Background(), loc, fop.Dict{LinktoKey: []byte("test-client-9\x00")}, 0); err != nil {
		t.Fatal(err)
	}
	c, _ := countingClient(t, d)
	if _, _, err := c.Lookup(context.Background(), loc, nil); fop.Errno(err) != syscall.ENOENT {
		t.Fatalf("lookup: %v, want ENOENT", err)
	}
	if d, l := bricksHolding(t, dirs, name); len(d)+len(l) != 0 {
		t.Fatalf("left behind: data %v, linkto %v", d, l)
	}
}
