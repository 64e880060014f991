package mgmt

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInodeSize makes ext4 and xfs file system images with chosen inode
// sizes and reads them back as volume status detail does.
func TestInodeSize(t *testing.T) {
	for _, c := range []struct {
		fs, want string
		mkfs     []string
	}{
		{"ext4", "256", []string{"mkfs.ext4", "-q", "-F", "-I", "256"}},
		{"ext4", "512", []string{"mkfs.ext4", "-q", "-F", "-I", "512"}},
		{"ext3", "128", []string{"mkfs.ext3", "-q", "-F", "-I", "128"}},
		{"xfs", "512", []string{"mkfs.xfs", "-q", "-f", "-i", "size=512"}},
	} {
		if _, err := exec.LookPath(c.mkfs[0]); err != nil {
			t.Logf("no %s: %s not checked", c.mkfs[0], c.fs)
			continue
		}
		img := filepath.Join(t.TempDir(), "img")
		if err := os.WriteFile(img, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, 300<<20); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(c.mkfs[0], append(c.mkfs[1:], img)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c.mkfs, err, out)
		}
		if got := inodeSize(img, c.fs); got != c.want {
			t.Errorf("%s made with %v: inode size %q, want %s", c.fs, c.mkfs, got, c.want)
		}
	}
	if got := inodeSize("/nonexistent", "ext4"); got != "" {
		t.Errorf("unreadable device: %q, want empty (N/A)", got)
	}
	if got := inodeSize("pool/fs", "zfs"); got != "N/A" {
		t.Errorf("zfs: %q, want N/A", got)
	}
}
