package dht

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// TestMigrateHardLinks removes the brick holding a file with four names:
// every name moves to one brick, still one file (same GFID, four links,
// the content), the removed brick keeps no data, and a write
// through an FD opened before the move reaches the moved file.
func TestMigrateHardLinks(t *testing.T) {
	ctx := context.Background()
	d, dirs := newLockedVolume(t, 3, map[string]string{})
	root := &fop.Loc{GFID: fop.RootGFID, Path: "/"}
	if _, _, err := d.Lookup(ctx, root, nil); err != nil {
		t.Fatal(err)
	}
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR)
	if _, _, err := d.Create(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "h0", GFID: g}, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Write(ctx, fd, []byte("shared content"), 0); err != nil {
		t.Fatal(err)
	}
	names := []string{"h0"}
	for i := 1; i < 4; i++ {
		n := fmt.Sprintf("h%d", i)
		if _, _, err := d.Link(ctx, &fop.Loc{GFID: g}, &fop.Loc{Parent: fop.RootGFID, Name: n, Path: "/" + n}); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	data, _ := bricksHolding(t, dirs, "h0")
	if len(data) != 1 {
		t.Fatalf("h0 data on %v", data)
	}
	src := data[0]
	if err := d.Reconfigure(map[string]string{"decommissioned-bricks": d.names[src]}); err != nil {
		t.Fatal(err)
	}
	if err := d.FixLayout(ctx, root, 5); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, n := range names {
		ok, _, err := d.Migrate(ctx, fop.RootGFID, "/", n, src, false)
		if err != nil {
			t.Fatalf("migrate %s: %v", n, err)
		}
		if ok {
			moved++
		}
	}
	if moved != 1 {
		t.Fatalf("the data moved %d times, want once", moved)
	}
	var on []int
	for _, n := range names {
		data, linkto := bricksHolding(t, dirs, n)
		if len(data) != 1 || data[0] == src {
			t.Fatalf("%s: data on %v, linkto on %v (removed brick %d)", n, data, linkto, src)
		}
		on = append(on, data[0])
		a, _, err := d.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: n}, nil)
		if err != nil || a.GFID != g || a.Nlink != 4 {
			t.Fatalf("%s: gfid %v nlink %d err %v; want %v, 4 links", n, a.GFID, a.Nlink, err, g)
		}
		if got := string(readAll(t, d, n)); got != "shared content" {
			t.Fatalf("%s: %q", n, got)
		}
	}
	if len(slices.Compact(on)) != 1 {
		t.Fatalf("names on bricks %v, want one", on)
	}
	if _, _, err := d.Write(ctx, fd, []byte("SHARED"), 0); err != nil {
		t.Fatal(err)
	}
	d.Release(ctx, fd)
	if got := string(readAll(t, d, "h3")); got != "SHARED content" {
		t.Fatalf("after a write through the old FD: %q", got)
	}
}
