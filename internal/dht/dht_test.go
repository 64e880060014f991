package dht

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// newVolume builds dht over n in-process bricks.
func newVolume(t *testing.T, n int) (*DHT, []string) {
	t.Helper()
	return newLockedVolume(t, n, map[string]string{})
}

func mkdir(t *testing.T, d *DHT, parent fop.GFID, name, path string) fop.Attr {
	t.Helper()
	a, _, err := d.Mkdir(context.Background(), &fop.Loc{Parent: parent, Name: name, Path: path, GFID: fop.NewGFID()}, 0o755, 0, nil)
	if err != nil {
		t.Fatalf("mkdir %s: %v", path, err)
	}
	return a
}

func create(t *testing.T, d *DHT, parent fop.GFID, name, data string) fop.Attr {
	t.Helper()
	ctx := context.Background()
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR)
	a, _, err := d.Create(ctx, &fop.Loc{Parent: parent, Name: name, GFID: g}, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o644, 0, fd, nil)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if _, _, err := d.Write(ctx, fd, []byte(data), 0); err != nil {
		t.Fatal(err)
	}
	d.Release(ctx, fd)
	return a
}

// bricksHolding returns the bricks on which rel exists as a regular file
// that is not a linkto (mode 01000).
func bricksHolding(t *testing.T, dirs []string, rel string) (data, linkto []int) {
	for i, dir := range dirs {
		st, err := os.Lstat(filepath.Join(dir, rel))
		if err != nil {
			continue
		}
		if st.Mode()&os.ModeSticky != 0 && st.Mode().Perm() == 0 && st.Size() == 0 {
			linkto = append(linkto, i)
		} else {
			data = append(data, i)
		}
	}
	return data, linkto
}

func listAll(t *testing.T, d *DHT, dir fop.GFID) []string {
	t.Helper()
	ctx := context.Background()
	fd := fop.NewFD(dir, syscall.O_RDONLY)
	if err := d.Opendir(ctx, &fop.Loc{GFID: dir}, fd); err != nil {
		t.Fatal(err)
	}
	defer d.Releasedir(ctx, fd)
	var names []string
	var off uint64
	for {
		ents, err := d.Readdir(ctx, fd, off, 7, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			break
		}
		for _, e := range ents {
			off = e.Off
			if e.Name != "." && e.Name != ".." {
				names = append(names, e.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}

func TestPlacementFollowsLayout(t *testing.T) {
	d, dirs := newVolume(t, 3)
	ctx := context.Background()
	if _, _, err := d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	l, err := d.layoutOf(ctx, fop.RootGFID)
	if err != nil {
		t.Fatal(err)
	}
	if h, o := l.Anomalies(); h != 0 || o != 0 {
		t.Fatalf("root layout has %d holes, %d overlaps", h, o)
	}
	used := map[int]bool{}
	for i := 0; i < 60; i++ {
		name := fmt.Sprintf("file-%d", i)
		create(t, d, fop.RootGFID, name, name)
		data, linkto := bricksHolding(t, dirs, name)
		want := l.Search(HashName(name))
		if len(data) != 1 || data[0] != want || len(linkto) != 0 {
			t.Fatalf("%s: data on %v, linkto on %v, want data on %d only", name, data, linkto, want)
		}
		used[want] = true
	}
	if len(used) != 3 {
		t.Fatalf("60 files used bricks %v, want all 3", used)
	}
}

func TestRenameLeavesLinkto(t *testing.T) {
	d, dirs := newVolume(t, 3)
	ctx := context.Background()
	d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil)
	l, _ := d.layoutOf(ctx, fop.RootGFID)
	src := "a"
	dst := ""
	for i := 0; dst == ""; i++ {
		n := fmt.Sprintf("b%d", i)
		if l.Search(HashName(n)) != l.Search(HashName(src)) {
			dst = n
		}
	}
	create(t, d, fop.RootGFID, src, "payload")
	if _, _, _, err := d.Rename(ctx, &fop.Loc{Parent: fop.RootGFID, Name: src}, &fop.Loc{Parent: fop.RootGFID, Name: dst}, 0); err != nil {
		t.Fatal(err)
	}
	data, linkto := bricksHolding(t, dirs, dst)
	if len(data) != 1 || data[0] != l.Search(HashName(src)) {
		t.Fatalf("data moved: on %v", data)
	}
	if len(linkto) != 1 || linkto[0] != l.Search(HashName(dst)) {
		t.Fatalf("linkto on %v, want %d", linkto, l.Search(HashName(dst)))
	}
	if got := listAll(t, d, fop.RootGFID); len(got) != 1 || got[0] != dst {
		t.Fatalf("listing = %v, want [%s]", got, dst)
	}
	// A fresh DHT (another client) finds the file through the linkto.
	d2, err := New(&graph.Args{Children: d.children, ChildNames: d.names, Options: map[string]string{"lookup-unhashed": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := d2.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: dst}, nil)
	if err != nil || a.Size != uint64(len("payload")) {
		t.Fatalf("lookup through linkto: %v size %d", err, a.Size)
	}
	if _, err := d.Unlink(ctx, &fop.Loc{Parent: fop.RootGFID, Name: dst}); err != nil {
		t.Fatal(err)
	}
	if data, linkto := bricksHolding(t, dirs, dst); len(data)+len(linkto) != 0 {
		t.Fatalf("after unlink: data %v linkto %v", data, linkto)
	}
}

func TestDirsEverywhereAndListedOnce(t *testing.T) {
	d, dirs := newVolume(t, 3)
	sub := mkdir(t, d, fop.RootGFID, "sub", "/sub")
	for _, dir := range dirs {
		if st, err := os.Stat(filepath.Join(dir, "sub")); err != nil || !st.IsDir() {
			t.Fatalf("sub missing on brick %s: %v", dir, err)
		}
	}
	var want []string
	for i := 0; i < 50; i++ {
		n := fmt.Sprintf("f%02d", i)
		create(t, d, sub.GFID, n, n)
		want = append(want, n)
	}
	mkdir(t, d, sub.GFID, "inner", "/sub/inner")
	want = append(want, "inner")
	sort.Strings(want)
	got := listAll(t, d, sub.GFID)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listing\n got %v\nwant %v", got, want)
	}
	if _, err := d.Rmdir(context.Background(), &fop.Loc{Parent: fop.RootGFID, Name: "sub"}); fop.Errno(err) != syscall.ENOTEMPTY {
		t.Fatalf("rmdir of non-empty dir: %v, want ENOTEMPTY", err)
	}
}

func TestDirHealOnLookup(t *testing.T) {
	d, dirs := newVolume(t, 2)
	ctx := context.Background()
	d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil)
	l, _ := d.layoutOf(ctx, fop.RootGFID)
	name := ""
	for i := 0; name == ""; i++ {
		if n := fmt.Sprintf("d%d", i); l.Search(HashName(n)) == 0 {
			name = n
		}
	}
	// Brick 1 is down while the directory is made: mkdir still succeeds
	// because the hashed brick is up.
	d.Notify(d.children[0], fop.ChildUp)
	d.Notify(d.children[1], fop.ChildDown)
	mkdir(t, d, fop.RootGFID, name, "/"+name)
	if _, err := os.Stat(filepath.Join(dirs[1], name)); !os.IsNotExist(err) {
		t.Fatalf("directory on the down brick: %v", err)
	}
	// When it returns, the next lookup recreates the directory there.
	d.Notify(d.children[1], fop.ChildUp)
	if _, _, err := d.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: name, Path: "/" + name}, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dirs[1], name)); err != nil || !st.IsDir() {
		t.Fatalf("directory not healed: %v", err)
	}
}

func TestStatfsSums(t *testing.T) {
	d, _ := newVolume(t, 2)
	st, err := d.Statfs(context.Background(), &fop.Loc{GFID: fop.RootGFID})
	if err != nil {
		t.Fatal(err)
	}
	one, _ := d.children[0].Statfs(context.Background(), &fop.Loc{GFID: fop.RootGFID})
	if st.Blocks != 2*one.Blocks {
		t.Fatalf("blocks %d, want 2 x %d", st.Blocks, one.Blocks)
	}
}

func TestOffsetTransform(t *testing.T) {
	d, _ := newVolume(t, 3)
	// Small cookies (xfs, tmpfs) come back exactly.
	for _, c := range []uint64{0, 1, 12345, 1 << 40, 1<<60 - 1} {
		for i := 0; i < 3; i++ {
			off := d.encodeOff(i, c)
			gi, gc := d.decodeOff(off)
			if gi != i || gc != c || off >= 1<<63 {
				t.Fatalf("offset (%d,%#x) -> %#x -> (%d,%#x)", i, c, off, gi, gc)
			}
		}
	}
	// ext4's 63-bit hash cookies, EOF included, keep the child and all
	// but their lowest bits, and never become negative.
	for _, c := range []uint64{1 << 62, 0x611b831155f19d34, 1<<63 - 1} {
		for i := 0; i < 3; i++ {
			off := d.encodeOff(i, c)
			gi, gc := d.decodeOff(off)
			if off >= 1<<63 || gi != i || gc > c || c-gc >= 8 {
				t.Fatalf("offset (%d,%#x) -> %#x -> (%d,%#x)", i, c, off, gi, gc)
			}
		}
	}
}

func TestDownBrickOnlyHidesItsOwnFiles(t *testing.T) {
	d, _ := newVolume(t, 2)
	ctx := context.Background()
	d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil)
	l, _ := d.layoutOf(ctx, fop.RootGFID)
	on := map[int]string{}
	for i := 0; len(on) < 2; i++ {
		n := fmt.Sprintf("f%d", i)
		if _, ok := on[l.Search(HashName(n))]; !ok {
			on[l.Search(HashName(n))] = n
			create(t, d, fop.RootGFID, n, n)
		}
	}
	d.Notify(d.children[0], fop.ChildUp)
	d.Notify(d.children[1], fop.ChildDown)
	if _, _, err := d.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: on[0]}, nil); err != nil {
		t.Fatalf("file on the up brick: %v", err)
	}
	if _, _, err := d.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: on[1]}, nil); fop.Errno(err) != syscall.ENOTCONN {
		t.Fatalf("file on the down brick: %v, want ENOTCONN", err)
	}
	g := fop.NewGFID()
	_, _, err := d.Create(ctx, &fop.Loc{Parent: fop.RootGFID, Name: on[1] + "x", GFID: g}, syscall.O_CREAT|syscall.O_RDWR, 0o644, 0, fop.NewFD(g, 0), nil)
	if h := l.Search(HashName(on[1] + "x")); h == 1 && fop.Errno(err) != syscall.ENOTCONN {
		t.Fatalf("create hashing to the down brick: %v, want ENOTCONN", err)
	}
}

// TestMkdirWhileBrickDownHealsLayout makes a directory while a brick that
// is not its hashed one is down, and checks the layout covers the ring
// without it, then takes it in once it returns.
func TestMkdirWhileBrickDownHealsLayout(t *testing.T) {
	d, dirs := newVolume(t, 3)
	ctx := context.Background()
	d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil)
	for i := range d.children {
		d.Notify(d.children[i], fop.ChildUp)
	}
	var name string
	for i := 0; ; i++ {
		name = fmt.Sprintf("d%d", i)
		if h, _ := d.hashed(ctx, fop.RootGFID, name); h != 2 {
			break
		}
	}
	d.Notify(d.children[2], fop.ChildDown)
	a := mkdir(t, d, fop.RootGFID, name, "/"+name)
	l, _ := d.layoutOf(ctx, a.GFID)
	if h, o := l.Anomalies(); h != 0 || o != 0 || l.Ranges[2].Set {
		t.Fatalf("layout while brick 2 is down: %+v", l.Ranges)
	}
	if _, err := os.Stat(filepath.Join(dirs[2], name)); err == nil {
		t.Fatal("directory made on the down brick")
	}
	d.Notify(d.children[2], fop.ChildUp)
	if _, _, err := d.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: name, Path: "/" + name}, nil); err != nil {
		t.Fatal(err)
	}
	l, _ = d.layoutOf(ctx, a.GFID)
	if h, o := l.Anomalies(); h != 0 || o != 0 || !l.Ranges[2].Set {
		t.Fatalf("layout after brick 2 returned: %+v", l.Ranges)
	}
	if _, err := os.Stat(filepath.Join(dirs[2], name)); err != nil {
		t.Fatalf("directory not healed onto the returned brick: %v", err)
	}
}
