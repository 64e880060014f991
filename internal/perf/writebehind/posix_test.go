package writebehind

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/fuse"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/locks"
	"github.com/gluster-go/gluster-go/internal/perf/mdcache"
	"github.com/gluster-go/gluster-go/internal/perf/quickread"
	"github.com/gluster-go/gluster-go/internal/posix"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestMain lets the POSIX suite re-run this binary as another user.
func TestMain(m *testing.M) { posixtest.Main(m) }

// TestPOSIX runs the conformance suite on a mount whose graph has md-cache
// over quick-read over write-behind over a brick's storage layers, as a
// client graph stacks them: writes behind must not change what
// applications see.
func TestPOSIX(t *testing.T) {
	base := t.TempDir()
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
	wb, err := New(&graph.Args{Name: "wb", Children: []fop.Layer{l}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := quickread.New(&graph.Args{Name: "qr", Children: []fop.Layer{wb}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mdcache.New(&graph.Args{Name: "mdc", Children: []fop.Layer{q}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fuse.Mount(mnt, fuse.New(m, fuse.DefaultOptions()), fuse.MountOptions{FsName: "test:/wb"})
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
