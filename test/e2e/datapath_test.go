package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/volgen"
	"github.com/gluster-go/gluster-go/test/contract"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestDatapath mounts a one-brick volume through real glusterfsd and
// glusterfs processes, runs the POSIX suite on it as root and as an
// unprivileged user, and checks how mounts end. ReaddirLarge lists 100,000
// entries unless -short or a -timeout under 20 minutes asks for less.
func TestDatapath(t *testing.T) {
	h := newHarness(t)
	const vol = "dpvol"
	path := h.brickPath(t, vol)
	b := h.runBrick(t, path, contract.BrickVolfile(vol, path, uuid.NewString()))
	volfile := filepath.Join(h.work, vol+".client.vol")
	writeVolfile(t, volfile, contract.ClientVolfile(vol, "127.0.0.1", b.port, b.path))

	t.Run("Posix", func(t *testing.T) {
		cfg := posixtest.Config{ReaddirEntries: posixtest.DefaultReaddirEntries}
		if testing.Short() || !haveTime(t, 20*time.Minute) {
			t.Logf("ReaddirLarge lists %d entries; run without -short and with -timeout 30m or more for %d", smallReaddir, cfg.ReaddirEntries)
			cfg.ReaddirEntries = smallReaddir
		}
		runSuite(t, h.mountDaemon(t, volfile, ""), cfg)
	})

	t.Run("SIGTERM", func(t *testing.T) {
		m := h.mountForeground(t, volfile, "")
		must(t, m.cmd.Process.Signal(syscall.SIGTERM))
		if err := m.cmd.Wait(); err != nil {
			t.Errorf("glusterfs -N after SIGTERM: %v", err)
		}
		m.waitGone(t)
	})

	t.Run("Umount", func(t *testing.T) {
		m := h.mountDaemon(t, volfile, "")
		if out, err := exec.Command("umount", m.dir).CombinedOutput(); err != nil {
			t.Fatalf("umount %s: %v\n%s", m.dir, err, out)
		}
		m.waitGone(t)
	})

	t.Run("FusermountU", func(t *testing.T) {
		fusermount, err := exec.LookPath("fusermount3")
		if err != nil {
			if fusermount, err = exec.LookPath("fusermount"); err != nil {
				t.Skip("no fusermount installed")
			}
		}
		m := h.mountDaemon(t, volfile, "")
		if out, err := exec.Command(fusermount, "-u", m.dir).CombinedOutput(); err != nil {
			t.Fatalf("fusermount -u %s: %v\n%s", m.dir, err, out)
		}
		m.waitGone(t)
	})

	t.Run("RemountAfterSIGKILL", func(t *testing.T) {
		dead := h.mountForeground(t, volfile, "")
		f := filepath.Join(dead.dir, "survivor")
		must(t, os.WriteFile(f, []byte("kept"), 0o644))
		must(t, dead.cmd.Process.Kill())
		dead.cmd.Wait()
		var st unix.Stat_t
		if err := unix.Stat(dead.dir, &st); !errors.Is(err, unix.ENOTCONN) {
			t.Errorf("stat of a mount whose client was killed: %v, want ENOTCONN", err)
		}
		// A new client on the same mount point replaces the dead mount.
		m := h.mountDaemon(t, volfile, dead.dir)
		if got, err := os.ReadFile(f); err != nil || string(got) != "kept" {
			t.Errorf("file through the new mount: %q, %v", got, err)
		}
		if err := os.WriteFile(filepath.Join(m.dir, "after"), []byte("x"), 0o644); err != nil {
			t.Errorf("write through the new mount: %v", err)
		}
	})
}

// TestDatapathLocal runs the POSIX suite on a client whose graph has the
// brick's storage layers directly under FUSE, without the network. A test
// that fails in TestDatapath but passes here points at the protocol layers.
func TestDatapathLocal(t *testing.T) {
	h := newHarness(t)
	volfile := filepath.Join(h.work, "local.vol")
	writeVolfile(t, volfile, `volume local-posix
    type storage/posix
    option directory `+h.brickPath(t, "local")+`
    option volume-id `+uuid.NewString()+`
end-volume

volume local-locks
    type features/locks
    subvolumes local-posix
end-volume
`)
	runSuite(t, h.mountDaemon(t, volfile, ""), posixtest.Config{ReaddirEntries: smallReaddir})
}

// TestDatapathVolumes runs the POSIX suite on volumes of several types,
// built from the volfiles glusterd generates (internal/volgen). It is long:
// -short skips it, and so does a -timeout too short to finish it.
func TestDatapathVolumes(t *testing.T) {
	if testing.Short() {
		t.Skip("long: three volumes, each through the whole suite twice")
	}
	if !haveTime(t, 30*time.Minute) {
		t.Skip("needs -timeout 40m or more")
	}
	h := newHarness(t)
	for _, tc := range []struct {
		name            string
		bricks, replica int
	}{
		{"Distribute", 2, 0},
		{"Replicate", 2, 2},
		{"DistributedReplicate", 4, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &volgen.Volume{Name: strings.ToLower(tc.name), ID: uuid.NewString(), ReplicaCount: tc.replica}
			for i := range tc.bricks {
				v.Bricks = append(v.Bricks, volgen.Brick{Host: "127.0.0.1", Path: h.brickPath(t, fmt.Sprintf("%s-b%d", v.Name, i))})
			}
			runSuite(t, h.mountDaemon(t, h.startVolume(t, v), ""), posixtest.Config{ReaddirEntries: smallReaddir})
		})
	}
}

// smallReaddir is the ReaddirLarge size of the runs that are not the main
// one.
const smallReaddir = 5000

// haveTime reports whether the test binary's -timeout leaves d to run a
// long test: a timeout panic skips the cleanups and leaves mounts behind.
func haveTime(t *testing.T, d time.Duration) bool {
	deadline, ok := t.Deadline()
	return !ok || time.Until(deadline) >= d
}

// runSuite runs the whole POSIX suite on a mount: as root, as nobody, and
// the check that brick internals stay hidden.
func runSuite(t *testing.T, m *mount, cfg posixtest.Config) {
	t.Run("Root", func(t *testing.T) { posixtest.Run(t, mkdir(t, m.dir, "root"), cfg) })
	t.Run("User", func(t *testing.T) {
		posixtest.RunAsUser(t, mkdir(t, m.dir, "user"), posixtest.Nobody(), cfg)
	})
	t.Run("InternalXattrsHidden", func(t *testing.T) {
		posixtest.InternalXattrsHidden(t, mkdir(t, m.dir, "internal"))
	})
}

// mkdir makes a directory that every user can search.
func mkdir(t *testing.T, parent, name string) string {
	t.Helper()
	d := filepath.Join(parent, name)
	must(t, os.Mkdir(d, 0o755))
	must(t, os.Chmod(d, 0o755))
	return d
}
