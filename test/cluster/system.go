package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Machine-wide files tests change, each guarded by its own lock so that
// test processes of different packages take turns.
const (
	MountHelperPath = "/sbin/mount.glusterfs"
	mountHelperLock = "/tmp/gluster-go-mount-helper.lock"
	fstabPath       = "/etc/fstab"
	fstabLock       = "/tmp/gluster-go-fstab.lock"
)

// InstallMountHelper makes "mount -t glusterfs" run this build: it points
// /sbin/mount.glusterfs at the built helper (a symlink, so the helper
// finds the glusterfs client next to its target) until the test ends. A
// helper that is not ours (Debian's glusterfs-client) is left alone and
// the test is skipped. Not for parallel tests.
func (c *Cluster) InstallMountHelper() {
	t := c.T
	t.Helper()
	unlock, err := Flock(mountHelperLock, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	if _, err := os.Lstat(MountHelperPath); err == nil {
		if !ours(MountHelperPath) {
			t.Skipf("%s exists and is not gluster-go's; not replacing it", MountHelperPath)
		}
		if err := os.Remove(MountHelperPath); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(c.Bin, "mount.glusterfs"), MountHelperPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(MountHelperPath) })
}

// ours reports whether p is a gluster-go mount helper: a symlink to a
// mount.glusterfs that is gone (left by a killed test) or that says it is
// gluster-go's.
func ours(p string) bool {
	target, err := os.Readlink(p)
	if err != nil || filepath.Base(target) != "mount.glusterfs" {
		return false
	}
	if _, err := os.Stat(target); err != nil {
		return true
	}
	out, err := exec.Command(target, "--version").Output()
	return err == nil && strings.Contains(string(out), "gluster-go")
}

// MountCommand runs mount(8) with args (e.g. "-t", "glusterfs",
// "127.0.0.2:/vol", DIR) and tracks the mount point, the last argument,
// for cleanup.
func (c *Cluster) MountCommand(args ...string) (string, error) {
	if len(args) > 0 {
		c.TrackMount(args[len(args)-1])
	}
	out, err := exec.Command("mount", args...).CombinedOutput()
	c.T.Logf("$ mount %s\n%s", strings.Join(args, " "), out)
	if err != nil {
		return string(out), fmt.Errorf("mount %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// AddFstab appends line to /etc/fstab until the test ends, when the
// original file is put back.
func AddFstab(t testing.TB, line string) {
	t.Helper()
	unlock, err := Flock(fstabLock, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	orig, err := os.ReadFile(fstabPath)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	existed := err == nil
	t.Cleanup(func() {
		if existed {
			os.WriteFile(fstabPath, orig, 0o644)
		} else {
			os.Remove(fstabPath)
		}
	})
	next := append([]byte(nil), orig...)
	if len(next) > 0 && next[len(next)-1] != '\n' {
		next = append(next, '\n')
	}
	next = append(next, line+"\n"...)
	if err := os.WriteFile(fstabPath, next, 0o644); err != nil {
		t.Fatal(err)
	}
}
