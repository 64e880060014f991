package fuse

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/locks"
	"github.com/gluster-go/gluster-go/internal/posix"
	"github.com/gluster-go/gluster-go/internal/volfile"
	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestMain lets the POSIX suite re-run this binary as another user.
func TestMain(m *testing.M) { posixtest.Main(m) }

// mountPosix mounts a one-brick storage/posix graph in a directory that
// every user can reach.
func mountPosix(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	for d := base; d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	brick := filepath.Join(base, "brick")
	if err := os.Mkdir(brick, 0o755); err != nil {
		t.Fatal(err)
	}
	// features/locks over storage/posix, the bottom of a brick graph.
	vf, err := volfile.Parse(strings.NewReader(fmt.Sprintf(
		"volume b-posix\n type %s\n option directory %s\nend-volume\n"+
			"volume b-locks\n type %s\n subvolumes b-posix\nend-volume\n", posix.Type, brick, locks.Type)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(vf, graph.Registry{posix.Type: posix.New, locks.Type: locks.New}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return mount(t, g.Top)
}

// TestPOSIX runs the conformance suite through the bridge over a real
// brick directory, as root and as an unprivileged user.
func TestPOSIX(t *testing.T) {
	dir := mountPosix(t)
	cfg := posixtest.Config{ReaddirEntries: 5000}
	mk := func(name string) string {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("Root", func(t *testing.T) { posixtest.Run(t, mk("root"), cfg) })
	t.Run("User", func(t *testing.T) { posixtest.RunAsUser(t, mk("user"), posixtest.Nobody(), cfg) })
	t.Run("InternalXattrsHidden", func(t *testing.T) { posixtest.InternalXattrsHidden(t, mk("internal")) })
}
