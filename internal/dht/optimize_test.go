package dht

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// rpcs returns the lookups and getxattrs counted since the last call.
func rpcs(counters []*countingLayer) (lookups, getxattrs int64) {
	for _, c := range counters {
		lookups += c.lookups.Swap(0)
		getxattrs += c.getxattrs.Swap(0)
	}
	return lookups, getxattrs
}

// TestLookupOptimize: with lookup-optimize, a miss on the hashed brick in
// a directory a rebalance settled is final (one lookup, which the brick checks against
// our copy of the layout, not a lookup on every brick); once a rebalance has laid the
// directory out anew, a client whose copy of the layout is older notices
// it and looks everywhere (the file may have moved), until the rebalance
// has settled every range.
func TestLookupOptimize(t *testing.T) {
	ctx := context.Background()
	d, dirs := newVolume(t, 3)
	name, h, data, _ := misplaced(t, d)
	c, counters := countingClient(t, d, "lookup-optimize", "on")
	rpcs(counters)
	missing := &fop.Loc{Parent: fop.RootGFID, Name: "no-such-file"}
	if _, _, err := c.Lookup(ctx, missing, nil); fop.Errno(err) != syscall.ENOENT {
		t.Fatalf("negative lookup: %v", err)
	}
	// A new volume's root is not settled (its bricks may hold files;
	// GlusterFS marks it DHT_LAYOUT_HASH_INVALID too).
	if l, _ := rpcs(counters); l < 3 {
		t.Fatalf("negative lookup in a new volume's root: %d lookups, want every brick asked", l)
	}
	root := &fop.Loc{GFID: fop.RootGFID, Path: "/"}
	const first = 0x1000_0000
	if err := d.FixLayout(ctx, root, first); err != nil {
		t.Fatal(err)
	}
	if err := d.SettleLayout(ctx, root, first, []int{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	c.lookupDir(ctx, root, nil)
	rpcs(counters)
	if _, _, err := c.Lookup(ctx, missing, nil); fop.Errno(err) != syscall.ENOENT {
		t.Fatalf("negative lookup: %v", err)
	}
	if l, g := rpcs(counters); l != 1 || g != 0 {
		t.Fatalf("negative lookup under a settled layout: %d lookups, %d getxattrs; want 1 and 0", l, g)
	}
	// A file off its hashed brick whose linkto is gone breaks the
	// invariant lookup-optimize relies on: a settled layout hides it.
	if err := os.Remove(filepath.Join(dirs[h], name)); err != nil {
		t.Fatal(err)
	}
	loc := &fop.Loc{Parent: fop.RootGFID, Name: name}
	if _, _, err := c.Lookup(ctx, loc, nil); fop.Errno(err) != syscall.ENOENT {
		t.Fatalf("lookup under a settled layout: %v, want ENOENT", err)
	}
	// A rebalance lays the root out anew: c's copy is stale, the check
	// of the layout on the hashed brick says so, and c looks everywhere
	// (and leaves a linkto).
	const commit = 0x1234_5674
	if err := d.FixLayout(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, commit); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Lookup(ctx, loc, nil); err != nil {
		t.Fatalf("lookup after the layout changed: %v", err)
	}
	if got := linktoOn(t, d, h, name); got != d.names[data] {
		t.Fatalf("linkto names %q, want %q", got, d.names[data])
	}
	rpcs(counters)
	if _, _, err := c.Lookup(ctx, missing, nil); fop.Errno(err) != syscall.ENOENT {
		t.Fatalf("negative lookup: %v", err)
	}
	if l, _ := rpcs(counters); l < 3 {
		t.Fatalf("negative lookup during a rebalance: %d lookups, want every brick asked", l)
	}
	// Settled on two bricks of three: not yet trusted.
	if err := d.SettleLayout(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, commit, []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	c.lookupDir(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil)
	rpcs(counters)
	c.Lookup(ctx, missing, nil)
	if l, _ := rpcs(counters); l < 3 {
		t.Fatalf("negative lookup, layout partly settled: %d lookups, want every brick asked", l)
	}
	if err := d.SettleLayout(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, commit, []int{2}); err != nil {
		t.Fatal(err)
	}
	c.lookupDir(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil)
	rpcs(counters)
	c.Lookup(ctx, missing, nil)
	if l, g := rpcs(counters); l != 1 || g != 0 {
		t.Fatalf("negative lookup, layout settled: %d lookups, %d getxattrs; want 1 and 0", l, g)
	}
	// Another node of the same rebalance lays the root out late: the
	// settled marks stay.
	if err := d.FixLayout(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, commit); err != nil {
		t.Fatal(err)
	}
	c.lookupDir(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil)
	rpcs(counters)
	c.Lookup(ctx, missing, nil)
	if l, g := rpcs(counters); l != 1 || g != 0 {
		t.Fatalf("negative lookup after a late fix-layout: %d lookups, %d getxattrs; want 1 and 0", l, g)
	}
}

func TestSettled(t *testing.T) {
	r := func(commit uint32) Range { return Range{Start: 1, Stop: 2, Commit: commit, Set: true} }
	for _, tc := range []struct {
		l    Layout
		want bool
	}{
		{Layout{Ranges: []Range{r(commitMkdir), r(commitMkdir), {}}}, true},
		{Layout{Ranges: []Range{r(commitHashInvalid), r(commitHashInvalid)}}, false},
		{Layout{Ranges: []Range{r(commitPartial), r(commitPartial)}}, false},
		{Layout{Ranges: []Range{r(0x44), r(0x44)}}, false},
		{Layout{Ranges: []Range{r(0x45), r(0x44)}}, false},
		{Layout{Ranges: []Range{r(0x45), r(0x45)}}, true},
		{Layout{Ranges: []Range{r(0x45), r(0x45)}, User: true}, false},
		{Layout{Ranges: []Range{{}, {}}}, false},
	} {
		if got := tc.l.settled(); got != tc.want {
			t.Errorf("%+v settled = %v, want %v", tc.l, got, tc.want)
		}
	}
}

// TestCreateUnderStaleLayout: a client creating a file under its copy of
// a layout that a rebalance has just replaced is refused by the brick it
// hashed to (which checks the range it was sent) and places the file again
// under the new layout, so that once the rebalance settles the directory,
// other clients trusting misses still find the file.
func TestCreateUnderStaleLayout(t *testing.T) {
	ctx := context.Background()
	d, dirs := newVolume(t, 3)
	root := &fop.Loc{GFID: fop.RootGFID, Path: "/"}
	if _, _, err := d.Lookup(ctx, root, nil); err != nil {
		t.Fatal(err)
	}
	c, _ := countingClient(t, d, "lookup-optimize", "on")
	l, _ := c.layoutOf(ctx, fop.RootGFID)
	var name string
	for i := 0; name == ""; i++ {
		if n := fmt.Sprintf("f%d", i); l.Search(HashName(n)) == 2 {
			name = n
		}
	}
	// The rebalance (remove-brick of brick 2) lays the root out anew;
	// c has not heard of it yet.
	if err := d.Reconfigure(map[string]string{"decommissioned-bricks": "test-client-2"}); err != nil {
		t.Fatal(err)
	}
	const commit = 0x1234_5674
	if err := d.FixLayout(ctx, root, commit); err != nil {
		t.Fatal(err)
	}
	create(t, c, fop.RootGFID, name, "payload")
	if _, err := os.Lstat(filepath.Join(dirs[2], name)); !os.IsNotExist(err) {
		t.Fatalf("the brick being removed got the new name (%v)", err)
	}
	if err := d.SettleLayout(ctx, root, commit, []int{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	other, _ := countingClient(t, d, "lookup-optimize", "on")
	if a, _, err := other.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: name}, nil); err != nil || a.Size != uint64(len("payload")) {
		t.Fatalf("lookup by another client: %v, size %d", err, a.Size)
	}
}
