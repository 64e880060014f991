package posix

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// TestPreopParentCheck: an entry call carrying a parent check creates
// nothing when the parent's xattr differs, creates normally (without
// storing either key) when it matches, and a lookup that misses under a
// stale value says ESTALE rather than ENOENT.
func TestPreopParentCheck(t *testing.T) {
	b := newBrick(t)
	d := b.mkdir(b.ctx, fop.RootGFID, "dir", 0o755)
	const key = "trusted.test.layout"
	if err := b.Setxattr(b.ctx, byGFID(d.GFID), fop.Dict{key: []byte("v1")}, 0); err != nil {
		t.Fatal(err)
	}
	check := func(v string) fop.Dict { return fop.Dict{fop.PreopParentKey: []byte(key), key: []byte(v)} }
	fd := fop.NewFD(fop.GFID{}, unix.O_RDWR)
	_, _, err := b.Create(b.ctx, at(d.GFID, "f"), unix.O_RDWR|unix.O_EXCL, 0o644, 0, fd, check("v0"))
	wantErrno(t, err, unix.ESTALE)
	_, _, err = b.Mknod(b.ctx, at(d.GFID, "n"), unix.S_IFIFO|0o644, 0, 0, check("v0"))
	wantErrno(t, err, unix.ESTALE)
	_, _, err = b.Symlink(b.ctx, at(d.GFID, "s"), "f", 0, check("v0"))
	wantErrno(t, err, unix.ESTALE)
	if names, _ := os.ReadDir(filepath.Join(b.dir, "dir")); len(names) != 0 {
		t.Fatalf("refused creates left %v", names)
	}
	_, _, err = b.Lookup(b.ctx, &fop.Loc{Parent: d.GFID, Name: "f"}, check("v0"))
	wantErrno(t, err, unix.ESTALE)
	_, _, err = b.Lookup(b.ctx, &fop.Loc{Parent: d.GFID, Name: "f"}, check("v1"))
	wantErrno(t, err, unix.ENOENT)

	a, _, err := b.Create(b.ctx, at(d.GFID, "f"), unix.O_RDWR|unix.O_EXCL, 0o644, 0, fd, check("v1"))
	if err != nil {
		t.Fatal(err)
	}
	b.Release(b.ctx, fd)
	if _, err := getxattrAlloc(unix.AT_FDCWD, filepath.Join(b.dir, "dir", "f"), 0, key); err != unix.ENODATA {
		t.Fatalf("the checked xattr was stored on the new file (%v)", err)
	}
	if _, _, err := b.Lookup(b.ctx, &fop.Loc{Parent: d.GFID, Name: "f"}, check("v0")); err != nil {
		t.Fatalf("lookup of an existing name with a stale check: %v", err)
	}
	if _, _, err := b.Mknod(b.ctx, at(d.GFID, "n"), unix.S_IFIFO|0o644, 0, 0, check("v1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Symlink(b.ctx, at(d.GFID, "s"), "f", 0, check("v1")); err != nil {
		t.Fatal(err)
	}
	if a.GFID.IsZero() {
		t.Fatal("no gfid")
	}
}

// TestPreopParentCheckRacesLayoutChange: while creates with a check run,
// the parent's value changes; every create either was refused or made its
// name before the change, never after it under the old value.
func TestPreopParentCheckRacesLayoutChange(t *testing.T) {
	b := newBrick(t)
	d := b.mkdir(b.ctx, fop.RootGFID, "dir", 0o755)
	const key = "trusted.test.layout"
	b.Setxattr(b.ctx, byGFID(d.GFID), fop.Dict{key: []byte("old")}, 0)
	check := fop.Dict{fop.PreopParentKey: []byte(key), key: []byte("old")}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var made []string
	var listed map[string]bool
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				name := "f" + string(rune('a'+w)) + string(rune('0'+i%10)) + string(rune('a'+i/10))
				fd := fop.NewFD(fop.GFID{}, unix.O_RDWR)
				if _, _, err := b.Create(b.ctx, at(d.GFID, name), unix.O_RDWR|unix.O_EXCL, 0o644, 0, fd, check); err == nil {
					b.Release(b.ctx, fd)
					mu.Lock()
					made = append(made, name)
					mu.Unlock()
				} else if fop.Errno(err) != unix.ESTALE {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		// The change, then a listing (what a rebalance does): every name
		// made under the old value must be in it.
		if err := b.Setxattr(b.ctx, byGFID(d.GFID), fop.Dict{key: []byte("new")}, 0); err != nil {
			t.Error(err)
		}
		ents, err := os.ReadDir(filepath.Join(b.dir, "dir"))
		if err != nil {
			t.Error(err)
		}
		listed = map[string]bool{}
		for _, e := range ents {
			listed[e.Name()] = true
		}
	})
	wg.Wait()
	for _, n := range made {
		if !listed[n] {
			t.Fatalf("%s was made under the old value after it changed", n)
		}
	}
}
