package posix

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// FuzzEntryName hands arbitrary names and symlink targets to the entry
// operations and checks that nothing ever lands outside the brick, and
// that whatever succeeds is a plain entry of the directory asked for.
func FuzzEntryName(f *testing.F) {
	for _, s := range []string{"a", "..", ".", "../x", "a/b", "/etc", ".glusterfs", "x\x00", "...", " ", "..\\.."} {
		f.Add(s, "../../..")
	}
	b := newBrick(f)
	outside := filepath.Dir(b.dir)
	before, _ := os.ReadDir(outside)
	n := 0
	f.Fuzz(func(t *testing.T, name, target string) {
		n++
		d, _, err := b.Mkdir(b.ctx, at(fop.RootGFID, "d"+strconv.Itoa(n)), 0o755, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		where := filepath.Join(b.dir, "d"+strconv.Itoa(n))
		bad := validName(name)
		ok := bad == nil
		check := func(op string, err error) {
			if err != nil {
				if !ok && fop.Errno(err) != bad {
					t.Fatalf("%s %.80q: %v, want %v", op, name, fop.Errno(err), bad)
				}
				return
			}
			if !ok {
				t.Fatalf("%s %.80q succeeded", op, name)
			}
			if _, err := os.Lstat(filepath.Join(where, name)); err != nil {
				t.Fatalf("%s %q: not in its directory: %v", op, name, err)
			}
		}
		s, _, err := b.Symlink(b.ctx, at(d.GFID, name), target, 0, nil)
		check("symlink", err)
		if err == nil {
			// A symlink is never a parent, wherever it points.
			_, _, err := b.Mkdir(b.ctx, at(s.GFID, "x"), 0o755, 0, nil)
			if fop.Errno(err) != unix.ENOTDIR {
				t.Fatalf("mkdir under symlink -> %q: %v", target, err)
			}
			if _, err := b.Unlink(b.ctx, &fop.Loc{Parent: d.GFID, Name: name}); err != nil {
				t.Fatalf("unlink %q: %v", name, err)
			}
		}
		_, _, err = b.Mkdir(b.ctx, at(d.GFID, name), 0o755, 0, nil)
		check("mkdir", err)
		_, _, err = b.Lookup(b.ctx, &fop.Loc{Parent: d.GFID, Name: name}, nil)
		check("lookup", err)
		after, _ := os.ReadDir(outside)
		if !slices.EqualFunc(before, after, func(a, b os.DirEntry) bool { return a.Name() == b.Name() }) {
			t.Fatalf("entries appeared outside the brick: %v", after)
		}
	})
}
