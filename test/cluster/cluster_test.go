package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestChecksum(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, root := range []string{a, b} {
		must(t, os.MkdirAll(filepath.Join(root, "d/e"), 0o755))
		must(t, os.WriteFile(filepath.Join(root, "d/f"), []byte("data"), 0o644))
		must(t, os.Symlink("d/f", filepath.Join(root, "l")))
	}
	// A brick's internal directory does not count.
	must(t, os.MkdirAll(filepath.Join(b, ".glusterfs/00/00"), 0o755))
	sum := func(d string) string {
		s, err := Checksum(d)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if sum(a) != sum(b) {
		t.Fatal("same trees hash differently")
	}
	must(t, os.WriteFile(filepath.Join(b, "d/f"), []byte("datA"), 0o644))
	if sum(a) == sum(b) {
		t.Error("content change not seen")
	}
	must(t, os.WriteFile(filepath.Join(b, "d/f"), []byte("data"), 0o644))
	must(t, os.Chmod(filepath.Join(b, "d/f"), 0o600))
	if sum(a) == sum(b) {
		t.Error("mode change not seen")
	}
	must(t, os.Chmod(filepath.Join(b, "d/f"), 0o644))
	must(t, os.Mkdir(filepath.Join(b, "d/e/.glusterfs"), 0o755))
	if sum(a) == sum(b) {
		t.Error("a .glusterfs below the root is user data and must count")
	}
}

func TestFlock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	unlock, err := Flock(p, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Flock(p, 0); err == nil {
		t.Fatal("second exclusive lock granted")
	}
	unlock()
	unlock2, err := Flock(p, 0)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/mnt/a\040b`); got != "/mnt/a b" {
		t.Errorf("unescape = %q", got)
	}
	if !Mounted("/proc") {
		t.Error("/proc not seen as mounted")
	}
	if Mounted(t.TempDir()) {
		t.Error("temp dir seen as mounted")
	}
}

func TestProcessesAndAlive(t *testing.T) {
	self := os.Getpid()
	if !alive(self) {
		t.Fatal("self not alive")
	}
	found := false
	for _, p := range processes() {
		if p.pid == self {
			found = strings.HasSuffix(p.args[0], filepath.Base(os.Args[0]))
		}
	}
	if !found {
		t.Error("own process not listed with its arguments")
	}
}

// TestHarness drives a two-node pool through the harness: probe, a
// one-brick volume on the second node, a mount, checksums of mount and
// brick, killing the brick and restarting a node.
func TestHarness(t *testing.T) {
	c := New(t, 2)
	c.MustGluster(0, "peer", "probe", c.Node(1).Addr)
	out := c.MustGluster(0, "peer", "status")
	if !strings.Contains(out, "Number of Peers: 1") || !strings.Contains(out, c.Node(1).Addr) {
		t.Errorf("peer status:\n%s", out)
	}
	brick := c.Brick(1, "h")
	c.MustGluster(0, "volume", "create", "h", brick, "force")
	c.MustGluster(0, "volume", "start", "h")

	mp := c.Mount("h", 0)
	must(t, os.MkdirAll(filepath.Join(mp, "a/b"), 0o755))
	must(t, os.WriteFile(filepath.Join(mp, "a/b/f"), []byte("harness"), 0o644))
	if got, want := c.MustChecksum(mp), c.MustChecksum(c.BrickDir(1, "h")); got != want {
		t.Errorf("mount and brick differ: %s vs %s", got, want)
	}
	c.Unmount(mp)
	if Mounted(mp) {
		t.Error("still mounted after Unmount")
	}

	pid, err := c.BrickPid("h", brick)
	if err != nil {
		t.Fatal(err)
	}
	c.KillBrick("h", brick)
	if alive(pid) {
		t.Errorf("brick %d alive after KillBrick", pid)
	}

	c.Restart(1)
	out = c.MustGluster(1, "peer", "status")
	if !strings.Contains(out, c.Node(0).Addr) {
		t.Errorf("peer status after restart:\n%s", out)
	}
	// Cleanup must also take a mount nobody unmounted.
	c.Mount("h", 1)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMountInfo(t *testing.T) {
	typ, _, ok := MountInfo("/proc")
	if !ok || typ != "proc" {
		t.Errorf("MountInfo(/proc) = %q, %v", typ, ok)
	}
}
