// Package fusetest runs the POSIX conformance suite (test/posixtest) on a
// FUSE mount of a client graph built over one in-process brick, so that
// every layer's tests can check it changes nothing applications see.
package fusetest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/fuse"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/locks"
	"github.com/gluster-go/gluster-go/internal/posix"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// RunPOSIX builds storage/posix and features/locks in a temporary brick,
// stacks the layers under test on them with stack, mounts the result and
// runs the suite as root and as nobody. The test binary's TestMain must
// call posixtest.Main.
func RunPOSIX(t *testing.T, name string, stack func(brick fop.Layer) (fop.Layer, error)) {
	base := t.TempDir()
	// Every parent must be searchable by nobody.
	for d := base; d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	brick := filepath.Join(base, "brick")
	mnt := filepath.Join(base, "mnt")
	for _, d := range []string{brick, mnt} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p, err := posix.New(&graph.Args{Name: "p", Options: map[string]string{"directory": brick}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.(interface{ Close() error }).Close() })
	l, err := locks.New(&graph.Args{Name: "l", Children: []fop.Layer{p}})
	if err != nil {
		t.Fatal(err)
	}
	top, err := stack(l)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fuse.Mount(mnt, fuse.New(top, fuse.DefaultOptions()), fuse.MountOptions{FsName: "test:/" + name})
	if err != nil {
		t.Skipf("cannot mount FUSE here: %v", err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			_ = unix.Unmount(mnt, unix.MNT_DETACH)
		}
	})
	if err := srv.WaitMount(); err != nil {
		t.Fatal(err)
	}
	mk := func(name string) string {
		d := filepath.Join(mnt, name)
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		return d
	}
	cfg := posixtest.Config{ReaddirEntries: 1000}
	t.Run("Root", func(t *testing.T) { posixtest.Run(t, mk("root"), cfg) })
	t.Run("User", func(t *testing.T) { posixtest.RunAsUser(t, mk("user"), posixtest.Nobody(), cfg) })
}
