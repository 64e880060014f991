package posix

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

var testVolID = fop.GFID{0xaa, 0xbb, 15: 7}

type brick struct {
	*Posix
	t   testing.TB
	dir string
	ctx context.Context
}

// newBrick opens a fresh brick in a temp dir (ext4 under /tmp: real
// trusted.* xattrs, so the tests need root).
func newBrick(t testing.TB) *brick {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("storage/posix needs root (trusted.* xattrs, setfsuid)")
	}
	dir := filepath.Join(t.TempDir(), "brick")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return openBrick(t, dir, 16)
}

func openBrick(t testing.TB, dir string, cache int) *brick {
	t.Helper()
	p, err := OpenBrick(dir, &testVolID, cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &brick{Posix: p, t: t, dir: dir, ctx: context.Background()}
}

func asUser(uid, gid uint32, groups ...uint32) context.Context {
	return fop.WithCaller(context.Background(), &fop.Caller{UID: uid, GID: gid, Groups: groups})
}

func at(parent fop.GFID, name string) *fop.Loc {
	return &fop.Loc{Parent: parent, Name: name, GFID: fop.NewGFID()}
}

func byGFID(g fop.GFID) *fop.Loc { return &fop.Loc{GFID: g} }

func (b *brick) mkdir(ctx context.Context, parent fop.GFID, name string, mode uint32) fop.Attr {
	b.t.Helper()
	a, _, err := b.Mkdir(ctx, at(parent, name), mode, 0, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return a
}

func (b *brick) create(ctx context.Context, parent fop.GFID, name string, mode uint32, data string) fop.Attr {
	b.t.Helper()
	fd := fop.NewFD(fop.GFID{}, unix.O_RDWR)
	a, _, err := b.Create(ctx, at(parent, name), unix.O_RDWR, mode, 0, fd, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	defer b.Release(ctx, fd)
	if data != "" {
		if _, _, err := b.Write(ctx, fd, []byte(data), 0); err != nil {
			b.t.Fatal(err)
		}
	}
	return a
}

func (b *brick) handle(g fop.GFID) string {
	xx, yy, n := handleParts(g)
	return filepath.Join(b.dir, gfidDir, xx, yy, n)
}

func diskGFID(t *testing.T, path string) fop.GFID {
	t.Helper()
	var g fop.GFID
	n, err := unix.Lgetxattr(path, xattrGFID, g[:])
	if err != nil || n != 16 {
		t.Fatalf("trusted.gfid of %s: %v (%d bytes)", path, err, n)
	}
	return g
}

func wantErrno(t *testing.T, err error, want syscall.Errno) {
	t.Helper()
	if got := fop.Errno(err); got != want {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
}

func TestVolumeID(t *testing.T) {
	b := newBrick(t)
	var got fop.GFID
	if _, err := unix.Getxattr(b.dir, xattrVolumeID, got[:]); err != nil || got != testVolID {
		t.Fatalf("volume-id not stamped: %v %x", err, got)
	}
	if g := diskGFID(t, b.dir); g != fop.RootGFID {
		t.Fatalf("root gfid %s", g)
	}
	if l, err := os.Readlink(b.handle(fop.RootGFID)); err != nil || l != "../../.." {
		t.Fatalf("root handle %q %v", l, err)
	}
	// Reopening with the same id works (and leaves the root handle be);
	// another id is refused.
	var before, after unix.Stat_t
	unix.Lstat(b.handle(fop.RootGFID), &before)
	openBrick(t, b.dir, 4)
	unix.Lstat(b.handle(fop.RootGFID), &after)
	if before.Ino != after.Ino {
		t.Fatal("root handle rewritten on reopen")
	}
	other := fop.GFID{1}
	if _, err := OpenBrick(b.dir, &other, 4, nil); err == nil {
		t.Fatal("brick of another volume accepted")
	}
	// A non-empty directory without id is an unmounted disk's mount point
	// or someone's data: refused.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644)
	if _, err := OpenBrick(dir, &testVolID, 4, nil); err == nil {
		t.Fatal("non-empty unstamped brick accepted")
	}
}

func TestCreateLookupHandles(t *testing.T) {
	b := newBrick(t)
	d := b.mkdir(b.ctx, fop.RootGFID, "dir", 0o755)
	f := b.create(b.ctx, d.GFID, "file", 0o644, "hello")
	if f.Ino != fop.InoOf(f.GFID) || f.Size != 0 {
		t.Fatalf("create attr %+v", f)
	}
	// On disk: the file at its volume path, its gfid, hard-linked handle.
	path := filepath.Join(b.dir, "dir", "file")
	if g := diskGFID(t, path); g != f.GFID {
		t.Fatalf("disk gfid %s != %s", g, f.GFID)
	}
	var st1, st2 unix.Stat_t
	unix.Lstat(path, &st1)
	unix.Lstat(b.handle(f.GFID), &st2)
	if st1.Ino != st2.Ino || st1.Nlink != 2 || f.Nlink != 1 {
		t.Fatalf("handle is not a hard link: %d/%d nlink %d", st1.Ino, st2.Ino, st1.Nlink)
	}
	want := "../../00/00/00000000-0000-0000-0000-000000000001/dir"
	if l, err := os.Readlink(b.handle(d.GFID)); err != nil || l != want {
		t.Fatalf("dir handle %q %v", l, err)
	}
	// Lookup by name and by gfid alone, with xattrs requested.
	a, x, err := b.Lookup(b.ctx, &fop.Loc{Parent: d.GFID, Name: "file"}, fop.Dict{xattrGFID: nil, "user.none": nil})
	if err != nil || a.GFID != f.GFID || a.Size != 5 || !bytes.Equal(x[xattrGFID], f.GFID[:]) {
		t.Fatalf("lookup by name: %+v %v %v", a, x, err)
	}
	if _, ok := x["user.none"]; ok {
		t.Fatal("absent xattr returned")
	}
	a, _, err = b.Lookup(b.ctx, byGFID(f.GFID), nil)
	if err != nil || a.GFID != f.GFID || a.Size != 5 {
		t.Fatalf("lookup by gfid: %+v %v", a, err)
	}
	// A fresh brick instance (cold cache) resolves the directory by gfid.
	cold := openBrick(t, b.dir, 4)
	a, _, err = cold.Lookup(cold.ctx, byGFID(d.GFID), nil)
	if err != nil || !a.IsDir() || a.GFID != d.GFID {
		t.Fatalf("cold lookup of dir: %+v %v", a, err)
	}
	_, _, err = b.Lookup(b.ctx, &fop.Loc{Parent: d.GFID, Name: "nope"}, nil)
	wantErrno(t, err, unix.ENOENT)
	_, _, err = b.Lookup(b.ctx, byGFID(fop.NewGFID()), nil)
	wantErrno(t, err, unix.ENOENT)
	// Create of an existing name: EEXIST with O_EXCL, opens it without.
	fd := fop.NewFD(fop.GFID{}, 0)
	_, _, err = b.Create(b.ctx, at(d.GFID, "file"), unix.O_RDWR|unix.O_EXCL, 0o644, 0, fd, nil)
	wantErrno(t, err, unix.EEXIST)
	a, _, err = b.Create(b.ctx, at(d.GFID, "file"), unix.O_RDWR, 0o644, 0, fd, nil)
	if err != nil || a.GFID != f.GFID {
		t.Fatalf("create existing: %+v %v", a, err)
	}
	b.Release(b.ctx, fd)
}

func TestEntryTypes(t *testing.T) {
	b := newBrick(t)
	s, _, err := b.Symlink(b.ctx, at(fop.RootGFID, "sl"), "/etc/passwd", 0, fop.Dict{"trusted.x": []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	if target, err := b.Readlink(b.ctx, byGFID(s.GFID)); err != nil || target != "/etc/passwd" {
		t.Fatalf("readlink %q %v", target, err)
	}
	// A symlink object's handle is a hard link to the symlink, not a dir.
	a, err := b.Stat(b.ctx, byGFID(s.GFID))
	if err != nil || a.Type() != unix.S_IFLNK {
		t.Fatalf("stat symlink by gfid: %+v %v", a, err)
	}
	// Opening it never follows it out of the brick.
	err = b.Open(b.ctx, byGFID(s.GFID), unix.O_RDONLY, fop.NewFD(s.GFID, 0))
	wantErrno(t, err, unix.ELOOP)
	x, err := b.Getxattr(b.ctx, byGFID(s.GFID), "trusted.x")
	if err != nil || string(x["trusted.x"]) != "1" {
		t.Fatalf("xdata xattr on symlink: %v %v", x, err)
	}
	n, _, err := b.Mknod(b.ctx, at(fop.RootGFID, "fifo"), unix.S_IFIFO|0o640, 0o022, 0, nil)
	if err != nil || n.Type() != unix.S_IFIFO || n.Mode&0o777 != 0o640 {
		t.Fatalf("mknod fifo: %+v %v", n, err)
	}
	c, _, err := b.Mknod(b.ctx, at(fop.RootGFID, "null"), unix.S_IFCHR|0o666, 0o022, unix.Mkdev(1, 3), nil)
	if err != nil || c.Type() != unix.S_IFCHR || c.Rdev != unix.Mkdev(1, 3) || c.Mode&0o777 != 0o644 {
		t.Fatalf("mknod chr: %+v %v", c, err)
	}
	if g := diskGFID(t, filepath.Join(b.dir, "null")); g != c.GFID {
		t.Fatal("device without gfid")
	}
	// Hard link by gfid.
	f := b.create(b.ctx, fop.RootGFID, "f", 0o600, "x")
	l, parent, err := b.Link(b.ctx, byGFID(f.GFID), at(fop.RootGFID, "f2"))
	if err != nil || l.GFID != f.GFID || l.Nlink != 2 || !parent.IsDir() {
		t.Fatalf("link: %+v %v", l, err)
	}
	d := b.mkdir(b.ctx, fop.RootGFID, "d", 0o755)
	_, _, err = b.Link(b.ctx, byGFID(d.GFID), at(fop.RootGFID, "d2"))
	wantErrno(t, err, unix.EPERM)
}

func TestUnlinkKeepsOpenFile(t *testing.T) {
	b := newBrick(t)
	f := b.create(b.ctx, fop.RootGFID, "f", 0o644, "data")
	b.Link(b.ctx, byGFID(f.GFID), at(fop.RootGFID, "f2"))
	fd := fop.NewFD(f.GFID, unix.O_RDWR)
	if err := b.Open(b.ctx, byGFID(f.GFID), unix.O_RDWR, fd); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unlink(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(b.handle(f.GFID)); err != nil {
		t.Fatal("handle dropped while a name is left")
	}
	if _, err := b.Unlink(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(b.handle(f.GFID)); !os.IsNotExist(err) {
		t.Fatalf("handle left after last unlink: %v", err)
	}
	if a, err := b.Fstat(b.ctx, fd); err != nil || a.Nlink != 0 || a.Size != 4 {
		t.Fatalf("fstat of unlinked file: %+v %v", a, err)
	}
	// The open fd still reads and writes.
	if _, _, err := b.Write(b.ctx, fd, []byte("more"), 4); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := b.Read(b.ctx, fd, buf, 0)
	if err != nil || string(buf[:n]) != "datamore" {
		t.Fatalf("read after unlink: %q %v", buf[:n], err)
	}
	if err := b.Fsetxattr(b.ctx, fd, fop.Dict{"user.k": []byte("v")}, 0); err != nil {
		t.Fatal(err)
	}
	// Calls by GFID still reach it while it is open.
	if a, err := b.Stat(b.ctx, byGFID(f.GFID)); err != nil || a.Nlink != 0 || a.Size != 8 {
		t.Fatalf("stat by gfid of an open unlinked file: %+v %v", a, err)
	}
	if a, err := b.Setattr(b.ctx, byGFID(f.GFID), &fop.SetAttr{Valid: fop.SetMode, Mode: 0o600}); err != nil || a.Mode&0o777 != 0o600 {
		t.Fatalf("setattr by gfid of an open unlinked file: %+v %v", a, err)
	}
	if x, err := b.Getxattr(b.ctx, byGFID(f.GFID), "user.k"); err != nil || string(x["user.k"]) != "v" {
		t.Fatalf("getxattr by gfid of an open unlinked file: %v %v", x, err)
	}
	fd2 := fop.NewFD(f.GFID, 0)
	if err := b.Open(b.ctx, byGFID(f.GFID), unix.O_RDONLY, fd2); err != nil {
		t.Fatal(err)
	}
	b.Release(b.ctx, fd2)
	b.Release(b.ctx, fd)
	_, err = b.Stat(b.ctx, byGFID(f.GFID))
	wantErrno(t, err, unix.ENOENT)
	_, err = b.Unlink(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f"})
	wantErrno(t, err, unix.ENOENT)
}

func TestRenameAndRmdir(t *testing.T) {
	b := newBrick(t)
	a := b.mkdir(b.ctx, fop.RootGFID, "a", 0o755)
	sub := b.mkdir(b.ctx, a.GFID, "sub", 0o755)
	f := b.create(b.ctx, sub.GFID, "f", 0o644, "x")
	other := b.mkdir(b.ctx, fop.RootGFID, "other", 0o755)

	obj, op, np, err := b.Rename(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "a"}, &fop.Loc{Parent: other.GFID, Name: "moved"}, 0)
	if err != nil || obj.GFID != a.GFID || op.GFID != fop.RootGFID || np.GFID != other.GFID {
		t.Fatalf("rename: %+v %v", obj, err)
	}
	if l, _ := os.Readlink(b.handle(a.GFID)); l != dirHandleTarget(other.GFID, "moved") {
		t.Fatalf("dir handle not rewritten: %q", l)
	}
	// Cold resolution goes through the rewritten chain.
	cold := openBrick(t, b.dir, 2)
	for _, g := range []fop.GFID{sub.GFID, f.GFID, a.GFID} {
		if _, err := cold.Stat(cold.ctx, byGFID(g)); err != nil {
			t.Fatalf("stat %s after rename: %v", g, err)
		}
	}
	// Rename a file over another: the replaced file's handle goes.
	g := b.create(b.ctx, fop.RootGFID, "g", 0o644, "")
	if _, _, _, err := b.Rename(b.ctx, &fop.Loc{Parent: sub.GFID, Name: "f"}, &fop.Loc{Parent: fop.RootGFID, Name: "g"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(b.handle(g.GFID)); !os.IsNotExist(err) {
		t.Fatal("replaced file's handle left")
	}
	_, _, _, err = b.Rename(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "g"}, &fop.Loc{Parent: fop.RootGFID, Name: "other"}, unix.RENAME_NOREPLACE)
	wantErrno(t, err, unix.EEXIST)
	// Exchange two directories: both handles follow.
	x := b.mkdir(b.ctx, fop.RootGFID, "x", 0o755)
	if _, _, _, err := b.Rename(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "x"}, &fop.Loc{Parent: other.GFID, Name: "moved"}, unix.RENAME_EXCHANGE); err != nil {
		t.Fatal(err)
	}
	if l, _ := os.Readlink(b.handle(x.GFID)); l != dirHandleTarget(other.GFID, "moved") {
		t.Fatalf("exchanged handle %q", l)
	}
	if l, _ := os.Readlink(b.handle(a.GFID)); l != dirHandleTarget(fop.RootGFID, "x") {
		t.Fatalf("exchanged handle %q", l)
	}
	// rmdir: ENOTEMPTY, then the handle goes and the gfid is gone.
	_, err = b.Rmdir(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "x"})
	wantErrno(t, err, unix.ENOTEMPTY)
	if _, err := b.Rmdir(b.ctx, &fop.Loc{Parent: a.GFID, Name: "sub"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(b.handle(sub.GFID)); !os.IsNotExist(err) {
		t.Fatal("rmdir left the handle")
	}
	_, err = b.Stat(b.ctx, byGFID(sub.GFID))
	wantErrno(t, err, unix.ENOENT)
	_, _, err = b.Mkdir(b.ctx, at(sub.GFID, "in-removed"), 0o755, 0, nil)
	wantErrno(t, err, unix.ENOENT)
}

func TestReaddirOffsets(t *testing.T) {
	b := newBrick(t)
	d := b.mkdir(b.ctx, fop.RootGFID, "big", 0o755)
	const n = 10000
	names := make([]string, n)
	dpath := filepath.Join(b.dir, "big")
	for i := range names {
		names[i] = "f" + itoa(i)
		b.create(b.ctx, d.GFID, names[i], 0o644, "")
	}
	fd := fop.NewFD(d.GFID, 0)
	if err := b.Opendir(b.ctx, byGFID(d.GFID), fd); err != nil {
		t.Fatal(err)
	}
	defer b.Releasedir(b.ctx, fd)
	var all []fop.DirEntry
	off := uint64(0)
	for {
		es, err := b.Readdir(b.ctx, fd, off, 333, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		all = append(all, es...)
		off = es[len(es)-1].Off
	}
	var got []string
	dots := 0
	for _, e := range all {
		if e.Name == "." || e.Name == ".." {
			dots++
			if e.Type != unix.S_IFDIR || (e.Name == "." && e.Ino != fop.InoOf(d.GFID)) || (e.Name == ".." && e.Ino != 1) {
				t.Fatalf("entry %+v", e)
			}
			continue
		}
		got = append(got, e.Name)
		if e.Ino == 0 || e.Type != unix.S_IFREG {
			t.Fatalf("entry %+v", e)
		}
	}
	if dots != 2 {
		t.Fatalf(". and .. listed %d times", dots)
	}
	slices.Sort(got)
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("readdir returned %d names, want %d", len(got), len(want))
	}
	// Resume after an arbitrary earlier entry on another fd: exactly the
	// rest follows, with attributes and GFIDs (readdirplus).
	fd2 := fop.NewFD(d.GFID, 0)
	if err := b.Opendir(b.ctx, byGFID(d.GFID), fd2); err != nil {
		t.Fatal(err)
	}
	defer b.Releasedir(b.ctx, fd2)
	k := 4321
	var rest []fop.DirEntry
	off = all[k].Off
	for {
		es, err := b.Readdir(b.ctx, fd2, off, 1000, true, fop.Dict{xattrGFID: nil})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		rest = append(rest, es...)
		off = es[len(es)-1].Off
	}
	if len(rest) != len(all)-k-1 {
		t.Fatalf("resumed listing has %d entries, want %d", len(rest), len(all)-k-1)
	}
	for i, e := range rest {
		if e.Name != all[k+1+i].Name || e.Attr == nil {
			t.Fatalf("entry %d: %+v", i, e)
		}
		if e.Name == "." || e.Name == ".." {
			continue
		}
		if e.Attr.GFID != diskGFID(t, filepath.Join(dpath, e.Name)) ||
			!bytes.Equal(e.Xattrs[xattrGFID], e.Attr.GFID[:]) || e.Ino != fop.InoOf(e.Attr.GFID) {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	// Going back to an old cookie on the same fd works too.
	es, err := b.Readdir(b.ctx, fd, all[9].Off, 1, false, nil)
	if err != nil || len(es) != 1 || es[0].Name != all[10].Name {
		t.Fatalf("seek back: %+v %v", es, err)
	}
}

func TestRootHidesGlusterfs(t *testing.T) {
	b := newBrick(t)
	b.create(b.ctx, fop.RootGFID, "visible", 0o644, "")
	fd := fop.NewFD(fop.RootGFID, 0)
	if err := b.Opendir(b.ctx, byGFID(fop.RootGFID), fd); err != nil {
		t.Fatal(err)
	}
	defer b.Releasedir(b.ctx, fd)
	es, err := b.Readdir(b.ctx, fd, 0, 100, true, nil)
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
		if e.Name == ".." && (e.Attr == nil || e.Attr.GFID != fop.RootGFID) {
			t.Fatalf(".. of the root: %+v", e)
		}
	}
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{".", "..", "visible"}) {
		t.Fatalf("root listing: %v %v", names, err)
	}
	_, _, err = b.Lookup(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: gfidDir}, nil)
	wantErrno(t, err, unix.ENOENT)
	if a, err := b.Stat(b.ctx, byGFID(fop.RootGFID)); err != nil || a.Nlink != 2 || a.Ino != 1 {
		t.Fatalf("root attr (.glusterfs is no subdirectory): %+v %v", a, err)
	}
	for _, op := range []func() error{
		func() error { _, _, err := b.Mkdir(b.ctx, at(fop.RootGFID, gfidDir), 0o755, 0, nil); return err },
		func() error { _, err := b.Rmdir(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: gfidDir}); return err },
		func() error {
			_, _, _, err := b.Rename(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "visible"}, &fop.Loc{Parent: fop.RootGFID, Name: gfidDir}, 0)
			return err
		},
	} {
		wantErrno(t, op(), unix.EPERM)
	}
}

func TestEscapeAttempts(t *testing.T) {
	b := newBrick(t)
	outside := filepath.Dir(b.dir) // the temp dir holding the brick
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("secret"), 0o600)

	for _, name := range []string{"..", ".", "a/b", "../x", "/etc", "", "x\x00y"} {
		_, _, err := b.Mkdir(b.ctx, at(fop.RootGFID, name), 0o755, 0, nil)
		wantErrno(t, err, unix.EINVAL)
		_, _, err = b.Lookup(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: name}, nil)
		if fop.Errno(err) != unix.EINVAL {
			t.Fatalf("lookup %q: %v", name, err)
		}
	}
	// A symlink that points out of the brick, used as a parent.
	s, _, err := b.Symlink(b.ctx, at(fop.RootGFID, "out"), outside, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = b.Lookup(b.ctx, &fop.Loc{Parent: s.GFID, Name: "secret"}, nil)
	wantErrno(t, err, unix.ENOTDIR)
	_, _, err = b.Create(b.ctx, at(s.GFID, "planted"), unix.O_RDWR, 0o644, 0, fop.NewFD(fop.GFID{}, 0), nil)
	wantErrno(t, err, unix.ENOTDIR)
	// Tampered handles: a directory handle re-pointed out of the brick.
	d := b.mkdir(b.ctx, fop.RootGFID, "d", 0o755)
	for _, target := range []string{outside, "../../../..", "../../../../secret", "../../00/00/00000000-0000-0000-0000-000000000001/../.."} {
		h := b.handle(d.GFID)
		os.Remove(h)
		os.Symlink(target, h)
		cold := openBrick(t, b.dir, 2)
		if _, _, err := cold.Lookup(cold.ctx, &fop.Loc{Parent: d.GFID, Name: "secret"}, nil); err == nil {
			t.Fatalf("handle -> %q: lookup through it succeeded", target)
		}
		_, _, err := cold.Create(cold.ctx, at(d.GFID, "planted"), unix.O_RDWR, 0o644, 0, fop.NewFD(fop.GFID{}, 0), nil)
		if err == nil {
			t.Fatalf("handle -> %q: create through it succeeded", target)
		}
	}
	// A file handle swapped for a symlink to a file outside.
	f := b.create(b.ctx, fop.RootGFID, "f", 0o644, "mine")
	os.Remove(b.handle(f.GFID))
	os.Symlink(secret, b.handle(f.GFID))
	fd := fop.NewFD(f.GFID, 0)
	if err := b.Open(b.ctx, byGFID(f.GFID), unix.O_RDONLY, fd); err == nil {
		buf := make([]byte, 16)
		n, _ := b.Read(b.ctx, fd, buf, 0)
		t.Fatalf("opened a tampered file handle, read %q", buf[:n])
	}
	if _, err := b.Setattr(b.ctx, byGFID(f.GFID), &fop.SetAttr{Valid: fop.SetMode, Mode: 0o777}); err == nil {
		if st, _ := os.Stat(secret); st.Mode().Perm() == 0o777 {
			t.Fatal("chmod followed a tampered handle out of the brick")
		}
	}
	// .glusterfs/xx/yy replaced by a symlink leading out: a brick opened
	// now neither stats through it nor links a new handle there.
	h := b.create(b.ctx, fop.RootGFID, "h", 0o644, "")
	hxx, hyy, _ := handleParts(h.GFID)
	yyPath := filepath.Join(b.dir, gfidDir, hxx, hyy)
	os.Rename(yyPath, filepath.Join(outside, "moved-yy"))
	os.Symlink(filepath.Join(outside, "moved-yy"), yyPath)
	cold := openBrick(t, b.dir, 16)
	_, err = cold.Stat(cold.ctx, byGFID(h.GFID))
	wantErrno(t, err, unix.ELOOP)
	twin := at(fop.RootGFID, "twin")
	twin.GFID[0], twin.GFID[1] = h.GFID[0], h.GFID[1]
	_, _, err = cold.Create(cold.ctx, twin, unix.O_RDWR, 0o644, 0, fop.NewFD(fop.GFID{}, 0), nil)
	wantErrno(t, err, unix.ELOOP)
	if ents, _ := os.ReadDir(filepath.Join(outside, "moved-yy")); len(ents) != 1 {
		t.Fatalf("moved yy holds %d entries, want h's handle only", len(ents))
	}
	os.Remove(yyPath)
	os.Rename(filepath.Join(outside, "moved-yy"), yyPath)
	// .glusterfs/xx replaced by a symlink leading out.
	g := b.create(b.ctx, fop.RootGFID, "g", 0o644, "")
	xx, _, _ := handleParts(g.GFID)
	os.Rename(filepath.Join(b.dir, gfidDir, xx), filepath.Join(outside, "moved-xx"))
	os.Symlink(filepath.Join(outside, "moved-xx"), filepath.Join(b.dir, gfidDir, xx))
	// A brick opened now meets the symlink. b keeps the fd of the real xx
	// directory it opened before, wherever it went, never the link.
	_, err = openBrick(t, b.dir, 16).Stat(b.ctx, byGFID(g.GFID))
	wantErrno(t, err, unix.ELOOP)
	if data, _ := os.ReadFile(secret); string(data) != "secret" {
		t.Fatal("secret changed")
	}
	var names []string
	ents, _ := os.ReadDir(outside)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"brick", "moved-xx", "secret"}) {
		t.Fatalf("outside the brick: %v", names)
	}
}

func TestNonRootCaller(t *testing.T) {
	b := newBrick(t)
	nobody := asUser(65534, 65534)
	other := asUser(65533, 65533)

	// The root directory is root's 0755: nobody cannot create there.
	_, _, err := b.Mkdir(nobody, at(fop.RootGFID, "x"), 0o755, 0, nil)
	wantErrno(t, err, unix.EACCES)

	tmp := b.mkdir(b.ctx, fop.RootGFID, "tmp", 0o1777)
	f := b.create(nobody, tmp.GFID, "mine", 0o644, "hi")
	if f.UID != 65534 || f.GID != 65534 {
		t.Fatalf("file owned by %d:%d", f.UID, f.GID)
	}
	// Sticky directory: another user cannot remove or rename it.
	_, err = b.Unlink(other, &fop.Loc{Parent: tmp.GFID, Name: "mine"})
	wantErrno(t, err, unix.EPERM)
	_, _, _, err = b.Rename(other, &fop.Loc{Parent: tmp.GFID, Name: "mine"}, &fop.Loc{Parent: tmp.GFID, Name: "theirs"}, 0)
	wantErrno(t, err, unix.EPERM)
	// Only the owner changes mode; nobody gives nothing away.
	_, err = b.Setattr(other, byGFID(f.GFID), &fop.SetAttr{Valid: fop.SetMode, Mode: 0o777})
	wantErrno(t, err, unix.EPERM)
	_, err = b.Setattr(nobody, byGFID(f.GFID), &fop.SetAttr{Valid: fop.SetUID, UID: 0})
	wantErrno(t, err, unix.EPERM)
	a, err := b.Setattr(nobody, byGFID(f.GFID), &fop.SetAttr{Valid: fop.SetMode | fop.SetMtime, Mode: 0o600, Mtime: fop.Timespec{Sec: 1000}})
	if err != nil || a.Mode&0o7777 != 0o600 || a.Mtime.Sec != 1000 {
		t.Fatalf("owner setattr: %+v %v", a, err)
	}
	// Explicit times need ownership; "now" needs write access.
	_, err = b.Setattr(other, byGFID(f.GFID), &fop.SetAttr{Valid: fop.SetAtimeNow | fop.SetMtimeNow})
	wantErrno(t, err, unix.EACCES)
	// Reading a 0600 file of someone else.
	err = b.Open(other, byGFID(f.GFID), unix.O_RDONLY, fop.NewFD(f.GFID, 0))
	wantErrno(t, err, unix.EACCES)
	err = b.Access(other, byGFID(f.GFID), unix.R_OK)
	wantErrno(t, err, unix.EACCES)
	if err := b.Access(nobody, byGFID(f.GFID), unix.R_OK|unix.W_OK); err != nil {
		t.Fatal(err)
	}
	_, err = b.Truncate(other, byGFID(f.GFID), 0)
	wantErrno(t, err, unix.EACCES)
	// Supplementary groups count: a group-writable dir of group 4242.
	gd := b.mkdir(b.ctx, fop.RootGFID, "group", 0o2770)
	// (mkdir(2) ignores S_ISGID in mode; chmod sets it.)
	if _, err := b.Setattr(b.ctx, byGFID(gd.GFID), &fop.SetAttr{Valid: fop.SetGID | fop.SetMode, GID: 4242, Mode: 0o2770}); err != nil {
		t.Fatal(err)
	}
	_, _, err = b.Mkdir(other, at(gd.GFID, "no"), 0o755, 0, nil)
	wantErrno(t, err, unix.EACCES)
	member := asUser(65533, 65533, 4242)
	sub, _, err := b.Mkdir(member, at(gd.GFID, "yes"), 0o755, 0, nil)
	if err != nil || sub.GID != 4242 || sub.Mode&unix.S_ISGID == 0 {
		t.Fatalf("setgid inheritance: %+v %v", sub, err)
	}
	// Writing to a setuid file as a non-owner clears the setuid bit.
	exe := b.create(b.ctx, tmp.GFID, "exe", 0o4777, "")
	if exe.Mode&unix.S_ISUID == 0 {
		b.Setattr(b.ctx, byGFID(exe.GFID), &fop.SetAttr{Valid: fop.SetMode, Mode: 0o4777})
	}
	fd := fop.NewFD(exe.GFID, unix.O_WRONLY)
	if err := b.Open(nobody, byGFID(exe.GFID), unix.O_WRONLY, fd); err != nil {
		t.Fatal(err)
	}
	_, wa, err := b.Write(nobody, fd, []byte("x"), 0)
	b.Release(b.ctx, fd)
	if err != nil || wa.Mode&unix.S_ISUID != 0 {
		t.Fatalf("suid not cleared by write: %o %v", wa.Mode, err)
	}
	// Listing a directory needs read permission on it.
	priv := b.mkdir(nobody, tmp.GFID, "private", 0o700)
	err = b.Opendir(other, byGFID(priv.GFID), fop.NewFD(priv.GFID, 0))
	wantErrno(t, err, unix.EACCES)
	dfd := fop.NewFD(priv.GFID, 0)
	if err := b.Opendir(nobody, byGFID(priv.GFID), dfd); err != nil {
		t.Fatal(err)
	}
	b.Releasedir(nobody, dfd)
	_, _, err = b.Lookup(other, &fop.Loc{Parent: priv.GFID, Name: "x"}, nil)
	wantErrno(t, err, unix.EACCES)
	// Mknod of a device needs privilege.
	_, _, err = b.Mknod(nobody, at(tmp.GFID, "dev"), unix.S_IFCHR|0o666, 0, unix.Mkdev(1, 3), nil)
	wantErrno(t, err, unix.EPERM)
	// user.* xattrs follow file permissions; handles stay root's.
	err = b.Setxattr(other, byGFID(f.GFID), fop.Dict{"user.a": []byte("b")}, 0)
	wantErrno(t, err, unix.EACCES)
	if err := b.Setxattr(nobody, byGFID(f.GFID), fop.Dict{"user.a": []byte("b")}, 0); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Lstat(b.handle(f.GFID), &st)
	if st.Uid != 65534 || st.Nlink != 2 {
		t.Fatalf("handle %+v", st)
	}
	// The identity switch did not leak into this thread or others.
	if os.Geteuid() != 0 {
		t.Fatal("euid changed")
	}
	root := b.mkdir(b.ctx, fop.RootGFID, "after", 0o755)
	if root.UID != 0 || root.GID != 0 {
		t.Fatalf("root call after switches made %d:%d", root.UID, root.GID)
	}
}

func TestXattrs(t *testing.T) {
	b := newBrick(t)
	f := b.create(b.ctx, fop.RootGFID, "f", 0o644, "")
	loc := byGFID(f.GFID)
	if err := b.Setxattr(b.ctx, loc, fop.Dict{"user.a": []byte("1"), "trusted.afr.v-client-0": make([]byte, 12)}, 0); err != nil {
		t.Fatal(err)
	}
	err := b.Setxattr(b.ctx, loc, fop.Dict{"user.a": []byte("2")}, unix.XATTR_CREATE)
	wantErrno(t, err, unix.EEXIST)
	all, err := b.Getxattr(b.ctx, loc, "")
	if err != nil || string(all["user.a"]) != "1" || len(all["trusted.afr.v-client-0"]) != 12 || !bytes.Equal(all[xattrGFID], f.GFID[:]) {
		t.Fatalf("getxattr all: %v %v", all, err)
	}
	_, err = b.Getxattr(b.ctx, loc, "user.none")
	wantErrno(t, err, unix.ENODATA)
	err = b.Setxattr(b.ctx, loc, fop.Dict{xattrGFID: make([]byte, 16)}, 0)
	wantErrno(t, err, unix.EPERM)
	if err := b.Removexattr(b.ctx, loc, "user.a"); err != nil {
		t.Fatal(err)
	}
	// A large value.
	big := bytes.Repeat([]byte("v"), 3000)
	if err := b.Setxattr(b.ctx, loc, fop.Dict{"user.big": big}, 0); err != nil {
		t.Fatal(err)
	}
	if x, err := b.Getxattr(b.ctx, loc, "user.big"); err != nil || !bytes.Equal(x["user.big"], big) {
		t.Fatal("big xattr", err)
	}
	// Directories, by gfid.
	d := b.mkdir(b.ctx, fop.RootGFID, "d", 0o755)
	if err := b.Setxattr(b.ctx, byGFID(d.GFID), fop.Dict{"trusted.glusterfs.dht": []byte{0, 0, 0, 1}}, 0); err != nil {
		t.Fatal(err)
	}
	if x, err := b.Getxattr(b.ctx, byGFID(d.GFID), "trusted.glusterfs.dht"); err != nil || len(x["trusted.glusterfs.dht"]) != 4 {
		t.Fatal("dir xattr", x, err)
	}
	// Xattrop adds element-wise, 32- and 64-bit.
	key := "trusted.afr.v-client-1"
	delta := []byte{0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff}
	if _, err := b.Xattrop(b.ctx, loc, fop.XattropAddArray32, fop.Dict{key: delta}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Xattrop(b.ctx, loc, fop.XattropAddArray32, fop.Dict{key: delta})
	want := []byte{0, 0, 0, 2, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe}
	if err != nil || !bytes.Equal(got[key], want) {
		t.Fatalf("xattrop: %x %v", got[key], err)
	}
	fd := fop.NewFD(f.GFID, 0)
	b.Open(b.ctx, loc, unix.O_RDONLY, fd)
	defer b.Release(b.ctx, fd)
	got, err = b.Fxattrop(b.ctx, fd, fop.XattropAddArray64, fop.Dict{"trusted.ec.size": {0, 0, 0, 0, 0, 0, 1, 0}})
	if err != nil || !bytes.Equal(got["trusted.ec.size"], []byte{0, 0, 0, 0, 0, 0, 1, 0}) {
		t.Fatalf("fxattrop64: %x %v", got, err)
	}
	_, err = b.Xattrop(b.ctx, loc, fop.XattropAddArray64, fop.Dict{key: make([]byte, 8)})
	wantErrno(t, err, unix.EINVAL)
}

func TestDataOps(t *testing.T) {
	b := newBrick(t)
	fd := fop.NewFD(fop.GFID{}, 0)
	_, _, err := b.Create(b.ctx, at(fop.RootGFID, "f"), unix.O_RDWR|unix.O_APPEND, 0o644, 0o022, fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release(b.ctx, fd)
	b.Write(b.ctx, fd, []byte("abc"), 0)
	_, a, err := b.Write(b.ctx, fd, []byte("def"), 0) // O_APPEND: lands at the end
	if err != nil || a.Size != 6 {
		t.Fatalf("append write: %+v %v", a, err)
	}
	a, err = b.Fallocate(b.ctx, fd, 0, 0, 1<<20)
	if err != nil || a.Size != 1<<20 {
		t.Fatalf("fallocate: %+v %v", a, err)
	}
	if a, err = b.Ftruncate(b.ctx, fd, 3<<20); err != nil || a.Size != 3<<20 {
		t.Fatalf("ftruncate: %+v %v", a, err)
	}
	hole, err := b.Seek(b.ctx, fd, 0, unix.SEEK_HOLE)
	if err != nil || hole < 6 || hole > 3<<20 {
		t.Fatalf("seek hole: %d %v", hole, err)
	}
	if _, err := b.Discard(b.ctx, fd, 0, 4096); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if n, _ := b.Read(b.ctx, fd, buf, 0); n != 6 || !bytes.Equal(buf, make([]byte, 6)) {
		t.Fatalf("after discard: %q", buf)
	}
	weak, strong, err := b.Rchecksum(b.ctx, fd, 0, 4096)
	if err != nil || weak != 0x10000001 || len(strong) != 32 {
		t.Fatalf("rchecksum %x %x %v", weak, strong, err)
	}
	if _, err := b.Fsync(b.ctx, fd, true); err != nil {
		t.Fatal(err)
	}
	if a, err := b.Truncate(b.ctx, &fop.Loc{GFID: fd.GFID}, 10); err != nil || a.Size != 10 {
		t.Fatalf("truncate: %+v %v", a, err)
	}
	n, err := b.Read(b.ctx, fd, make([]byte, 100), 0)
	if err != nil || n != 10 {
		t.Fatalf("short read at eof: %d %v", n, err)
	}
	st, err := b.Statfs(b.ctx, byGFID(fop.RootGFID))
	if err != nil || st.Blocks == 0 || st.Namemax != 255 {
		t.Fatalf("statfs %+v %v", st, err)
	}
	a, err = b.Setattr(b.ctx, byGFID(fd.GFID), &fop.SetAttr{Valid: fop.SetAtimeNow | fop.SetMtime, Mtime: fop.Timespec{Sec: 42, Nsec: 7}})
	if err != nil || a.Mtime != (fop.Timespec{Sec: 42, Nsec: 7}) || a.Atime.Sec < 1e9 {
		t.Fatalf("setattr times: %+v %v", a, err)
	}
	// The released fd is gone.
	b.Release(b.ctx, fd)
	_, err = b.Read(b.ctx, fd, buf, 0)
	wantErrno(t, err, unix.EBADF)
}

func TestLookupAdoptsUnmanagedFile(t *testing.T) {
	b := newBrick(t)
	os.WriteFile(filepath.Join(b.dir, "raw"), []byte("x"), 0o644)
	req := fop.NewGFID()
	a, _, err := b.Lookup(b.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "raw"}, fop.Dict{"gfid-req": req[:]})
	if err != nil || a.GFID != req {
		t.Fatalf("lookup of unmanaged file: %+v %v", a, err)
	}
	if _, err := os.Lstat(b.handle(req)); err != nil {
		t.Fatal("no handle made")
	}
}

func TestErrorsCarryPath(t *testing.T) {
	b := newBrick(t)
	_, err := b.Stat(b.ctx, &fop.Loc{Path: "/some/where", GFID: fop.NewGFID()})
	if err == nil || !errors.Is(err, unix.ENOENT) || !bytes.Contains([]byte(err.Error()), []byte("stat /some/where")) {
		t.Fatalf("error %v", err)
	}
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// TestConcurrentIdentities checks that callers' identities never leak
// between concurrent calls (threads are switched and restored per call).
func TestConcurrentIdentities(t *testing.T) {
	b := newBrick(t)
	tmp := b.mkdir(b.ctx, fop.RootGFID, "tmp", 0o1777)
	uids := []uint32{0, 65534, 1000, 0, 65533, 1001}
	errs := make(chan error, len(uids))
	for w, uid := range uids {
		go func() {
			ctx := asUser(uid, uid)
			if uid == 0 {
				ctx = b.ctx
			}
			for i := range 200 {
				name := "w" + itoa(w) + "-" + itoa(i)
				fd := fop.NewFD(fop.GFID{}, 0)
				a, _, err := b.Create(ctx, at(tmp.GFID, name), unix.O_RDWR, 0o644, 0, fd, nil)
				if err != nil {
					errs <- err
					return
				}
				b.Release(ctx, fd)
				if a.UID != uid || a.GID != uid {
					errs <- errors.New(name + ": created with another identity")
					return
				}
			}
			errs <- nil
		}()
	}
	for range uids {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestLookupRacingCreate looks names up while they are being created: a
// lookup must never see a new file without its GFID and stamp another one
// (the create would then fail, or the two would disagree).
func TestLookupRacingCreate(t *testing.T) {
	b := newBrick(t)
	for i := range 200 {
		name := "f" + strconv.Itoa(i)
		looked := make(chan fop.GFID)
		go func() {
			for {
				a, _, err := b.Lookup(b.ctx, at(fop.RootGFID, name), nil)
				if err == nil {
					looked <- a.GFID
					return
				}
				if err := fop.Errno(err); err != unix.ENOENT {
					t.Errorf("lookup %s: %v", name, err)
					looked <- fop.GFID{}
					return
				}
			}
		}()
		fd := fop.NewFD(fop.GFID{}, unix.O_WRONLY)
		a, _, err := b.Create(b.ctx, at(fop.RootGFID, name), unix.O_WRONLY|unix.O_EXCL, 0o644, 0, fd, nil)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		b.Release(b.ctx, fd)
		if g := <-looked; g != a.GFID {
			t.Fatalf("%s: lookup saw GFID %s, create made %s", name, g, a.GFID)
		}
		if g := diskGFID(t, filepath.Join(b.dir, name)); g != a.GFID {
			t.Fatalf("%s: GFID on disk %s, create made %s", name, g, a.GFID)
		}
		if _, err := os.Lstat(b.handle(a.GFID)); err != nil {
			t.Fatalf("%s: handle: %v", name, err)
		}
	}
}

// TestCreateReadOnly: a file created read-only with mode 0 is readable
// through the creator's fd, which does not write.
func TestCreateReadOnly(t *testing.T) {
	b := newBrick(t)
	ctx := asUser(1000, 1000)
	if err := os.Chmod(b.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	fd := fop.NewFD(fop.GFID{}, unix.O_RDONLY)
	a, _, err := b.Create(ctx, at(fop.RootGFID, "ro"), unix.O_RDONLY, 0, 0, fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.UID != 1000 || a.GID != 1000 || a.Mode&0o7777 != 0 {
		t.Fatalf("attributes %+v", a)
	}
	if _, err := b.Read(ctx, fd, make([]byte, 4), 0); err != nil {
		t.Fatalf("read of a fresh read-only file: %v", err)
	}
	_, _, err = b.Write(ctx, fd, []byte("x"), 0)
	wantErrno(t, err, unix.EBADF)
	b.Release(ctx, fd)
}

// TestLookupContent: a lookup asking for content gets a small file's bytes
// exactly, nothing for a file over the limit or an empty request.
func TestLookupContent(t *testing.T) {
	b := newBrick(t)
	b.create(b.ctx, fop.RootGFID, "small", 0o644, "hello")
	b.create(b.ctx, fop.RootGFID, "big", 0o644, strings.Repeat("x", 100))
	xreq := fop.Dict{fop.ContentKey: fop.ContentLimit(64)}
	_, x, err := b.Lookup(b.ctx, at(fop.RootGFID, "small"), xreq)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(x[fop.ContentKey]); got != "hello" {
		t.Fatalf("content %q, want %q", got, "hello")
	}
	_, x, err = b.Lookup(b.ctx, at(fop.RootGFID, "big"), xreq)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := x[fop.ContentKey]; ok {
		t.Fatalf("content of a file over the limit: %d bytes", len(v))
	}
}
