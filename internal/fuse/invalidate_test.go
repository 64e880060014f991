package fuse

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// TestInvalidateDropsKernelCaches: with names and attributes cached by the
// kernel for an hour, a change made behind its back (another client) shows
// only once Invalidate says so.
func TestInvalidateDropsKernelCaches(t *testing.T) {
	m := newMemFS()
	o := DefaultOptions()
	o.EntryTimeout, o.AttrTimeout = time.Hour, time.Hour
	fs, dir := mountFS(t, m, o)
	ctx := context.Background()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := m.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Attributes: the size changes behind the kernel's back.
	if _, err := m.Truncate(ctx, &fop.Loc{GFID: a.GFID}, 5); err != nil {
		t.Fatal(err)
	}
	if st, _ = os.Stat(p); st.Size() != 0 {
		t.Fatalf("the kernel did not cache the attributes (size %d): the test proves nothing", st.Size())
	}
	fs.Invalidate(&fop.Upcall{GFID: a.GFID, Flags: fop.UpcallAttr})
	if !eventually(func() bool { st, err := os.Stat(p); return err == nil && st.Size() == 5 }) {
		t.Fatal("size not refreshed after an attribute invalidation")
	}

	// Entries: the name goes behind the kernel's back.
	if _, err := m.Unlink(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: a.GFID}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the kernel did not cache the entry (%v): the test proves nothing", err)
	}
	fs.Invalidate(&fop.Upcall{GFID: fop.RootGFID, Flags: fop.UpcallEntry, Name: "f"})
	if !eventually(func() bool { _, err := os.Stat(p); return errors.Is(err, os.ErrNotExist) }) {
		t.Fatal("name still there after an entry invalidation")
	}
}

// eventually polls cond; the invalidation is sent by a goroutine. The
// bound is a hang guard.
func eventually(cond func() bool) bool {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}
