package fuse

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// mount serves top on a fresh temp dir and unmounts it when the test ends.
func mount(t *testing.T, top fop.Layer) string {
	t.Helper()
	_, dir := mountFS(t, top, DefaultOptions())
	return dir
}

// mountFS is mount with options; it returns the bridge too.
func mountFS(t *testing.T, top fop.Layer, o Options) (*FS, string) {
	t.Helper()
	dir := t.TempDir()
	fs := New(top, o)
	srv, err := Mount(dir, fs, MountOptions{FsName: "test:/mem"})
	if err != nil {
		t.Skipf("cannot mount FUSE here: %v", err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Logf("unmount: %v; detaching", err)
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	if err := srv.WaitMount(); err != nil {
		t.Fatal(err)
	}
	return fs, dir
}

func TestMountType(t *testing.T) {
	dir := mount(t, newMemFS())
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && f[4] == dir {
			// ... - fstype source options
			i := slices.Index(f, "-")
			if i < 0 || f[i+1] != "fuse.glusterfs" || f[i+2] != "test:/mem" {
				t.Errorf("mountinfo: %s", line)
			}
			return
		}
	}
	t.Fatalf("%s not in mountinfo", dir)
}

func TestFileOps(t *testing.T) {
	dir := mount(t, newMemFS())
	p := filepath.Join(dir, "a")
	want := bytes.Repeat([]byte("gluster"), 100000) // several writes and reads
	if err := os.WriteFile(p, want, 0o640); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes (err %v), want %d", len(got), err, len(want))
	}
	st, err := os.Stat(p)
	if err != nil || st.Size() != int64(len(want)) || st.Mode().Perm() != 0o640 {
		t.Fatalf("stat: %v %v", st, err)
	}
	if err := os.Truncate(p, 3); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "glu" {
		t.Errorf("after truncate: %q", got)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("after chmod: %v", st.Mode())
	}

	if err := os.MkdirAll(filepath.Join(dir, "d1", "d2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, filepath.Join(dir, "d1", "d2", "b")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old name after rename: %v", err)
	}
	b := filepath.Join(dir, "d1", "d2", "b")
	if err := os.Link(b, filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	var s1, s2 syscall.Stat_t
	if err := syscall.Stat(b, &s1); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(filepath.Join(dir, "hard"), &s2); err != nil {
		t.Fatal(err)
	}
	if s1.Ino != s2.Ino || s2.Nlink != 2 {
		t.Errorf("hard link: ino %d vs %d, nlink %d", s1.Ino, s2.Ino, s2.Nlink)
	}
	if err := os.Symlink("d1/d2/b", filepath.Join(dir, "sym")); err != nil {
		t.Fatal(err)
	}
	if tgt, err := os.Readlink(filepath.Join(dir, "sym")); err != nil || tgt != "d1/d2/b" {
		t.Errorf("readlink: %q %v", tgt, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "sym")); err != nil || string(got) != "glu" {
		t.Errorf("read through symlink: %q %v", got, err)
	}

	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"d1", "hard", "sym"}) {
		t.Errorf("readdir: %v", names)
	}
	if err := os.Remove(filepath.Join(dir, "d1", "d2")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a full directory: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "d1")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "d1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after RemoveAll: %v", err)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil || sfs.Blocks != 1000 || sfs.Bsize != 4096 {
		t.Errorf("statfs: %+v %v", sfs, err)
	}
}

// TestBigDirectory lists more entries than fit in one READDIRPLUS reply.
func TestBigDirectory(t *testing.T) {
	dir := mount(t, newMemFS())
	const n = 1500
	for i := range n {
		f, err := os.Create(filepath.Join(dir, "file-with-a-longish-name-"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != n {
		t.Fatalf("listed %d entries, want %d", len(ents), n)
	}
	for _, e := range ents {
		if info, err := e.Info(); err != nil || !info.Mode().IsRegular() {
			t.Fatalf("%s: %v %v", e.Name(), info, err)
		}
	}
}

func TestXattrs(t *testing.T) {
	dir := mount(t, newMemFS())
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(p, "user.color", []byte("blue"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := unix.Getxattr(p, "user.color", buf)
	if err != nil || string(buf[:n]) != "blue" {
		t.Errorf("getxattr: %q %v", buf[:n], err)
	}
	if _, err := unix.Getxattr(p, "user.color", make([]byte, 2)); err != unix.ERANGE {
		t.Errorf("short buffer: %v", err)
	}
	// The layer below has trusted.gfid; the mount must not show it.
	n, err = unix.Listxattr(p, buf)
	if err != nil || string(buf[:n]) != "user.color\x00" {
		t.Errorf("listxattr: %q %v", buf[:n], err)
	}
	if _, err := unix.Getxattr(p, "trusted.gfid", buf); err != unix.ENODATA {
		t.Errorf("getxattr trusted.gfid: %v", err)
	}
	if err := unix.Setxattr(p, "trusted.glusterfs.dht", []byte{1}, 0); err != unix.EPERM {
		t.Errorf("setxattr trusted.*: %v", err)
	}
	if err := unix.Removexattr(p, "trusted.gfid"); err != unix.EPERM {
		t.Errorf("removexattr trusted.*: %v", err)
	}
	if err := unix.Removexattr(p, "user.color"); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Getxattr(p, "user.color", buf); err != unix.ENODATA {
		t.Errorf("after removexattr: %v", err)
	}
}

// TestCallerIdentity checks that objects are created as the calling user.
func TestCallerIdentity(t *testing.T) {
	dir := mount(t, newMemFS())
	// t.TempDir's parent is private to root; the kernel checks the
	// mount's root (default_permissions).
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "owned")
	cmd := exec.Command("touch", p)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4321, Gid: 8765}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("touch as 4321: %v: %s", err, out)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 4321 || st.Gid != 8765 {
		t.Errorf("owner %d:%d, want 4321:8765", st.Uid, st.Gid)
	}
}

// TestLocks takes open-file-description locks, whose owners differ per
// open file, and checks that a conflict is reported.
func TestLocks(t *testing.T) {
	dir := mount(t, newMemFS())
	p := filepath.Join(dir, "lk")
	f1, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f1.Close()
	f2, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	wr := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f1.Fd(), unix.F_OFD_SETLK, &wr); err != nil {
		t.Fatal(err)
	}
	again := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f2.Fd(), unix.F_OFD_SETLK, &again); err != unix.EAGAIN {
		t.Errorf("conflicting lock: %v", err)
	}
	probe := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f2.Fd(), unix.F_OFD_GETLK, &probe); err != nil || probe.Type != unix.F_WRLCK {
		t.Errorf("getlk: type %d err %v", probe.Type, err)
	}
	un := unix.Flock_t{Type: unix.F_UNLCK}
	if err := unix.FcntlFlock(f1.Fd(), unix.F_OFD_SETLK, &un); err != nil {
		t.Fatal(err)
	}
	if err := unix.FcntlFlock(f2.Fd(), unix.F_OFD_SETLK, &again); err != nil {
		t.Errorf("lock after unlock: %v", err)
	}
}

func TestReadGroups(t *testing.T) {
	p := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(p, []byte("Name:\tx\nGroups:\t4 24 1000 \nNgid:\t0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := readGroups(p)
	if err != nil || !slices.Equal(g, []uint32{4, 24, 1000}) {
		t.Errorf("readGroups = %v %v", g, err)
	}
}

func TestInodeTableForget(t *testing.T) {
	tab := newInodeTable(fop.RootGFID, "/")
	g := fop.NewGFID()
	dir := tab.ref(fop.NewGFID(), tab.root, "dir")
	n := tab.ref(g, dir, "f")
	if tab.ref(g, tab.root, "link") != n {
		t.Fatal("second lookup of a GFID got another node")
	}
	if got := tab.path(n); got != "/link" {
		t.Errorf("path = %q", got)
	}
	tab.forget(n.id, 1)
	if tab.get(n.id) != n {
		t.Fatal("node dropped while the kernel still holds one lookup")
	}
	tab.forget(n.id, 1)
	if tab.get(n.id) != nil {
		t.Fatal("node kept after its last forget")
	}
	if n2 := tab.ref(g, dir, "f"); n2.id == n.id {
		t.Error("node id reused")
	}
	tab.forget(rootID, 100)
	if tab.get(rootID) == nil {
		t.Error("root forgotten")
	}
}

// TestSetLkwInterrupted blocks another process in flock(2) behind our
// lock, kills it, and checks that the waiting layer call was cancelled.
func TestSetLkwInterrupted(t *testing.T) {
	flockBin, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("no flock(1)")
	}
	m := newMemFS()
	m.lkEvents = make(chan string, 4)
	dir := mount(t, m)
	p := filepath.Join(dir, "lk")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wr := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &wr); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(flockBin, "-x", p, "true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	next := func() string {
		select {
		case ev := <-m.lkEvents:
			return ev
		case <-time.After(time.Minute): // a hang, not a slow machine
			t.Fatal("no lock event")
			return ""
		}
	}
	if ev := next(); ev != "wait" {
		t.Fatalf("event %q, want wait", ev)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev != "cancel" {
		t.Fatalf("event %q, want cancel", ev)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("flock succeeded although the lock was held")
	}
}

// noGFID is a broken layer whose lookups return no GFID.
type noGFID struct{ *memFS }

func (l noGFID) Lookup(ctx context.Context, loc *fop.Loc, x fop.Dict) (fop.Attr, fop.Dict, error) {
	a, d, err := l.memFS.Lookup(ctx, loc, x)
	a.GFID = fop.GFID{}
	return a, d, err
}

func TestLayerWithoutGFID(t *testing.T) {
	m := newMemFS()
	if _, _, err := m.Create(context.Background(), &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: fop.NewGFID()}, 0, 0o644, 0, nil, nil); err != nil {
		t.Fatal(err)
	}
	dir := mount(t, noGFID{m})
	if _, err := os.Stat(filepath.Join(dir, "f")); !errors.Is(err, syscall.EIO) {
		t.Errorf("stat of an object without GFID: %v, want EIO", err)
	}
}

func TestInodeTableSubdirRoot(t *testing.T) {
	sub := fop.NewGFID()
	tab := newInodeTable(sub, "/sub/dir")
	n := tab.ref(fop.NewGFID(), tab.root, "f")
	if got := tab.path(n); got != "/sub/dir/f" {
		t.Errorf("path = %q", got)
	}
	if l := tab.loc(tab.root); l.GFID != sub || l.Path != "/sub/dir" {
		t.Errorf("root loc = %+v", l)
	}
	if tab.ref(sub, tab.root, "x") != tab.root {
		t.Error("the subdir's GFID got a node besides the root")
	}
}

// TestFlushOnlyWhenNeeded: closing a descriptor that wrote nothing, on a
// file never locked, costs no flush; writes and locks bring it back.
func TestFlushOnlyWhenNeeded(t *testing.T) {
	m := newMemFS()
	dir := mount(t, m)
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := m.flushes.Load(); n != 1 {
		t.Errorf("close after a write: %d flushes, want 1", n)
	}
	if _, err := os.ReadFile(p); err != nil {
		t.Fatal(err)
	}
	if n := m.flushes.Load(); n != 1 {
		t.Errorf("close after a read: %d flushes, want still 1", n)
	}
	f1, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	rd := unix.Flock_t{Type: unix.F_RDLCK}
	if err := unix.FcntlFlock(f1.Fd(), unix.F_SETLK, &rd); err != nil {
		t.Fatal(err)
	}
	f2, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	f2.Close() // must release the lock f1 took: POSIX
	if n := m.flushes.Load(); n != 2 {
		t.Errorf("close of a locked file: %d flushes, want 2", n)
	}
	f1.Close()
}

// capCounter counts the security.capability lookups that reach the graph.
type capCounter struct {
	*memFS
	caps atomic.Int64
}

func (c *capCounter) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	if name == capabilityXattr {
		c.caps.Add(1)
	}
	return c.memFS.Getxattr(ctx, loc, name)
}

// The kernel asks for security.capability before the first write to a
// file; for a file this client just created the answer is known.
func TestNewFileCapabilityAnsweredLocally(t *testing.T) {
	c := &capCounter{memFS: newMemFS()}
	dir := mount(t, c)
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := c.caps.Load(); n != 0 {
		t.Errorf("%d security.capability lookups reached the graph for a new file", n)
	}
	// Once set through this mount, it is asked for again: a
	// VFS_CAP_REVISION_2 record granting nothing.
	capv2 := make([]byte, 20)
	capv2[3] = 2
	if err := unix.Setxattr(p, capabilityXattr, capv2, 0); err != nil {
		t.Fatalf("setxattr %s: %v", capabilityXattr, err)
	}
	buf := make([]byte, 64)
	if n, err := unix.Getxattr(p, capabilityXattr, buf); err != nil || n != len(capv2) {
		t.Fatalf("getxattr after setxattr: %d, %v", n, err)
	}
}
