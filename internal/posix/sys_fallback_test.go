package posix

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// The /proc fallbacks (kernels without the *xattrat calls) must reach the
// object itself — a symlink, not its target — as the native calls do.
func TestProcFallbackReachesTheObjectItself(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "target"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	for _, name := range []string{"link", "target"} {
		err := viaProc(dfd, name, unix.AT_SYMLINK_NOFOLLOW, func(p string) error {
			return unix.Setxattr(p, "trusted.which", []byte(name), 0)
		})
		if err != nil {
			t.Fatalf("fallback setxattr on %s: %v", name, err)
		}
	}
	buf := make([]byte, 16)
	for _, name := range []string{"link", "target"} {
		n, err := sysgetxattrat(dfd, name, unix.AT_SYMLINK_NOFOLLOW, "trusted.which", buf)
		if err != nil || string(buf[:n]) != name {
			t.Fatalf("%s holds %q (%v): the fallback wrote through the symlink", name, buf[:n], err)
		}
	}
	err = viaProc(dfd, "link", unix.AT_SYMLINK_NOFOLLOW, func(p string) error { return chmodProc(p, 0o600) })
	if err != unix.EOPNOTSUPP {
		t.Fatalf("fallback chmod of a symlink: %v, want EOPNOTSUPP", err)
	}
}
