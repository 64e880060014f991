package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/test/cluster"
)

// upcallWait bounds how long client A may take to hear of client B's
// change: the brick's notification is on its way when B's call returns.
// It is a hang guard, not a performance check.
const upcallWait = 10 * time.Second

// twoClients makes a volume of the given layout ("single", "replica",
// "distribute") with options set before the start, and mounts it twice.
// Client A's kernel keeps names and attributes for 10 minutes: only the
// invalidations make it see B's changes sooner.
func twoClients(t *testing.T, layout string, opts ...string) (a, b string) {
	t.Helper()
	var c *cluster.Cluster
	switch layout {
	case "single":
		c, _ = layoutVolume(t, 1, nil, opts...)
	case "replica":
		c, _ = replicaVolume(t, 2, opts...)
	case "distribute":
		c, _ = layoutVolume(t, 3, nil, opts...)
	}
	a, err := c.TryMount("rv", []int{0}, "--entry-timeout=600", "--attribute-timeout=600")
	must(t, err)
	return a, c.Mount("rv", 0)
}

// eventually polls cond until it holds or upcallWait passes.
func eventually(cond func() bool) bool {
	for end := time.Now().Add(upcallWait); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// exists says whether p is in A's view: an open without O_CREAT succeeds
// and its directory lists it.
func exists(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	f.Close()
	names, _ := os.ReadDir(filepath.Dir(p))
	return slices.ContainsFunc(names, func(e os.DirEntry) bool { return e.Name() == filepath.Base(p) })
}

// mustBeAbsent asserts that A does not see p (its negative caches answer).
func mustBeAbsent(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat %s before it exists: %v", p, err)
	}
}

// TestUpcallNewNamesSeenByOtherClient: client A knows a directory's
// content (it made the directory, it listed it, it looked a name up and
// found nothing); client B creates names in it; A sees them at once,
// though nl-cache would otherwise answer ENOENT for nl-cache-timeout.
func TestUpcallNewNamesSeenByOtherClient(t *testing.T) {
	for _, layout := range []string{"single", "replica", "distribute"} {
		t.Run(layout, func(t *testing.T) {
			a, b := twoClients(t, layout, "features.cache-invalidation-timeout", "600", "performance.nl-cache-timeout", "600")
			// A made the directory: nl-cache knows it is empty.
			must(t, os.Mkdir(filepath.Join(a, "made"), 0o755))
			mustBeAbsent(t, filepath.Join(a, "made", "x"))
			// B made this one; A listed it to the end.
			must(t, os.Mkdir(filepath.Join(b, "listed"), 0o755))
			must(t, os.WriteFile(filepath.Join(b, "listed", "old"), nil, 0o644))
			if _, err := os.ReadDir(filepath.Join(a, "listed")); err != nil {
				t.Fatal(err)
			}
			mustBeAbsent(t, filepath.Join(a, "listed", "x"))
			// A looked names up in the root and found nothing.
			for i := range 3 {
				mustBeAbsent(t, filepath.Join(a, "n"+strconv.Itoa(i)))
			}
			for round := range 3 {
				for _, p := range []string{"made/x" + strconv.Itoa(round), "listed/x" + strconv.Itoa(round), "n" + strconv.Itoa(round)} {
					mustBeAbsent(t, filepath.Join(a, p))
					must(t, os.WriteFile(filepath.Join(b, p), []byte("from b"), 0o644))
					if !eventually(func() bool { return exists(filepath.Join(a, p)) }) {
						t.Fatalf("round %d: client A does not see %s, created by client B", round, p)
					}
				}
			}
			// B grows a file A has looked at, then removes it.
			p := filepath.Join("listed", "old")
			if st, err := os.Stat(filepath.Join(a, p)); err != nil || st.Size() != 0 {
				t.Fatalf("A's stat of %s: %v", p, err)
			}
			must(t, os.WriteFile(filepath.Join(b, p), []byte("grown"), 0o644))
			if !eventually(func() bool { st, err := os.Stat(filepath.Join(a, p)); return err == nil && st.Size() == 5 }) {
				t.Fatalf("client A does not see the new size of %s", p)
			}
			must(t, os.Remove(filepath.Join(b, p)))
			if !eventually(func() bool { _, err := os.Stat(filepath.Join(a, p)); return errors.Is(err, os.ErrNotExist) }) {
				t.Fatalf("client A still sees %s, removed by client B", p)
			}
		})
	}
}

// TestUpcallOffLeavesNLCacheStale shows what the test above guards
// against: with nl-cache on and the bricks' invalidations off, client A
// goes on answering ENOENT for a name client B created.
func TestUpcallOffLeavesNLCacheStale(t *testing.T) {
	a, b := twoClients(t, "single", "features.cache-invalidation", "off", "performance.nl-cache-timeout", "600")
	must(t, os.Mkdir(filepath.Join(a, "made"), 0o755))
	p := filepath.Join("made", "x")
	mustBeAbsent(t, filepath.Join(a, p))
	must(t, os.WriteFile(filepath.Join(b, p), []byte("from b"), 0o644))
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && !exists(filepath.Join(a, p)) {
		time.Sleep(20 * time.Millisecond)
	}
	if exists(filepath.Join(a, p)) {
		t.Fatal("client A saw client B's name without invalidations: nl-cache is not in the graph, or the check above proves nothing")
	}
}

// laView is what a client sees of a file: the fields another client's
// change must show in, and the content. Inode numbers come from GFIDs, so
// a file replaced by a new one has a new ino on every client.
type laView struct {
	ino, nlink  uint64
	mode        os.FileMode
	size        int64
	data        string
	notExisting bool
}

func viewOf(p string) laView {
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return laView{notExisting: true}
	}
	if err != nil {
		return laView{data: "stat: " + err.Error()}
	}
	sys := st.Sys().(*syscall.Stat_t)
	v := laView{ino: sys.Ino, nlink: uint64(sys.Nlink), mode: st.Mode(), size: st.Size()}
	if b, err := os.ReadFile(p); err != nil {
		v.data = "read: " + err.Error()
	} else {
		v.data = string(b)
	}
	return v
}

// laFiles is how many files client A stats: well over lookup-ahead's
// trigger, so the directory is listed and the later ones are answered
// from the listing.
const laFiles = 40

// laChanges has client B change files of dir (named f0..) in every way
// that must reach client A: attributes, size, removal, a rename over an
// existing name, a new file (new GFID) under an old name.
func laChanges(t *testing.T, dir string) (changed []string) {
	f := func(i int) string { return filepath.Join(dir, "f"+strconv.Itoa(i)) }
	must(t, os.Chmod(f(0), 0o600))
	must(t, os.Truncate(f(1), 2))
	af, err := os.OpenFile(f(2), os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = af.WriteString(" and more from b")
	must(t, err)
	must(t, af.Close())
	must(t, os.Remove(f(3)))
	must(t, os.Rename(f(4), f(5)))
	must(t, os.Remove(f(6)))
	must(t, os.WriteFile(f(6), []byte("a new file"), 0o640))
	for i := range 7 {
		changed = append(changed, "f"+strconv.Itoa(i))
	}
	return changed
}

// laSetup makes a directory of laFiles files from client B and has
// client A stat each of them by name, cold, so lookup-ahead lists it.
func laSetup(t *testing.T, a, b string) {
	must(t, os.Mkdir(filepath.Join(b, "la"), 0o755))
	for i := range laFiles {
		must(t, os.WriteFile(filepath.Join(b, "la", "f"+strconv.Itoa(i)), []byte("content "+strconv.Itoa(i)), 0o644))
	}
	for i := range laFiles {
		p := "f" + strconv.Itoa(i)
		if va, vb := viewOf(filepath.Join(a, "la", p)), viewOf(filepath.Join(b, "la", p)); va != vb {
			t.Fatalf("before the changes, %s: client A sees %+v, client B %+v", p, va, vb)
		}
	}
}

// TestUpcallLookupAheadSeesOtherClientsChanges: client A stats many files
// of a directory (lookup-ahead lists it with readdirplus), client B
// changes some of them; A sees each change at once, though md-cache and
// lookup-ahead trust what they have for a minute: only the bricks'
// invalidations can explain it.
func TestUpcallLookupAheadSeesOtherClientsChanges(t *testing.T) {
	for _, layout := range []string{"single", "replica", "distribute"} {
		t.Run(layout, func(t *testing.T) {
			a, b := twoClients(t, layout, "features.cache-invalidation-timeout", "600", "performance.md-cache-timeout", "60")
			laSetup(t, a, b)
			for _, p := range laChanges(t, filepath.Join(b, "la")) {
				var va, vb laView
				if !eventually(func() bool {
					va, vb = viewOf(filepath.Join(a, "la", p)), viewOf(filepath.Join(b, "la", p))
					return va == vb
				}) {
					t.Errorf("%s: client A sees %+v, client B %+v", p, va, vb)
				}
			}
			// The files B left alone are as they were, on both.
			for i := 7; i < laFiles; i++ {
				p := "f" + strconv.Itoa(i)
				if va, vb := viewOf(filepath.Join(a, "la", p)), viewOf(filepath.Join(b, "la", p)); va != vb {
					t.Errorf("%s (unchanged): client A sees %+v, client B %+v", p, va, vb)
				}
			}
		})
	}
}

// TestUpcallOffLeavesLookupAheadStale shows the test above can fail: with
// the bricks' invalidations off, client A goes on answering from its
// caches for md-cache-timeout.
func TestUpcallOffLeavesLookupAheadStale(t *testing.T) {
	a, b := twoClients(t, "single", "features.cache-invalidation", "off", "performance.md-cache-timeout", "60")
	laSetup(t, a, b)
	changed := laChanges(t, filepath.Join(b, "la"))
	time.Sleep(2 * time.Second) // what an upcall would have taken
	stale := 0
	for _, p := range changed {
		if viewOf(filepath.Join(a, "la", p)) != viewOf(filepath.Join(b, "la", p)) {
			stale++
		}
	}
	if stale == 0 {
		t.Fatal("client A saw all of client B's changes without invalidations: the check above proves nothing")
	}
	t.Logf("%d of %d changes unseen by client A without invalidations", stale, len(changed))
}
