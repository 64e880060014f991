package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Machine-wide files mount tests use; the helper's lock makes test
// processes of different packages take turns.
const (
	MountHelperPath = "/sbin/mount.glusterfs"
	mountHelperLock = "/tmp/gluster-go-mount-helper.lock"
	fstabPath       = "/etc/fstab"
)

// InMountNamespace runs a shell script (sh -eu) in a private mount
// namespace in which "mount -t glusterfs" runs this build's helper and, when
// fstab is not empty, /etc/fstab holds fstab. The machine's files stay as
// they are: an existing mount.glusterfs (Debian's, or a make install's) and
// the glusterfs next to it are covered by bind mounts inside the namespace
// only; only when there is none does a symlink to ours exist while the
// script runs. Mounts the script makes exist only inside the namespace, so
// the script checks and unmounts them itself; processes it leaves behind
// (clients) are killed at cleanup. Not for parallel tests.
func (c *Cluster) InMountNamespace(fstab, script string) (string, error) {
	t := c.T
	t.Helper()
	unlock, err := Flock(mountHelperLock, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	helper := filepath.Join(c.Bin, "mount.glusterfs")
	var setup []string
	if real, err := filepath.EvalSymlinks(MountHelperPath); err == nil {
		setup = append(setup, "mount --bind "+shellQuote(helper)+" "+shellQuote(real))
		// Our helper looks for glusterfs next to itself first.
		if other := filepath.Join(filepath.Dir(real), "glusterfs"); exists(other) {
			setup = append(setup, "mount --bind "+shellQuote(filepath.Join(c.Bin, "glusterfs"))+" "+shellQuote(other))
		}
	} else {
		// Absent (or a dangling symlink left by a killed test).
		prev, _ := os.Readlink(MountHelperPath)
		os.Remove(MountHelperPath)
		if err := os.Symlink(helper, MountHelperPath); err != nil {
			t.Fatal(err)
		}
		defer func() {
			os.Remove(MountHelperPath)
			if prev != "" {
				os.Symlink(prev, MountHelperPath)
			}
		}()
	}
	if fstab != "" {
		p := filepath.Join(c.Root, fmt.Sprintf("fstab-%d", time.Now().UnixNano()))
		if err := os.WriteFile(p, []byte(fstab), 0o644); err != nil {
			t.Fatal(err)
		}
		setup = append(setup, "mount --bind "+shellQuote(p)+" "+fstabPath)
	}
	full := strings.Join(append(setup, script), "\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-euc", full).CombinedOutput()
	t.Logf("$ unshare --mount sh -euc <<EOF\n%s\nEOF\n%s", full, out)
	if err != nil {
		return string(out), fmt.Errorf("mount namespace script: %w: %s", err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
