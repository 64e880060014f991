package posixtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// refConfig keeps the reference runs quick; the e2e runs use the full size.
func refConfig() Config { return Config{ReaddirEntries: 5000} }

// TestLocal runs the table on the local file system, the reference.
func TestLocal(t *testing.T) {
	Run(t, searchableTempDir(t), refConfig())
}

// TestLocalAsUser runs the table as an unprivileged user.
func TestLocalAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as another user")
	}
	RunAsUser(t, searchableTempDir(t), Nobody(), refConfig())
}

// searchableTempDir returns a temp dir that other users can reach.
func searchableTempDir(t *testing.T) string {
	dir := t.TempDir()
	for d := dir; d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
