package fuse

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestMountDevice(t *testing.T) {
	info := filepath.Join(t.TempDir(), "mountinfo")
	lines := []string{
		"22 1 252:1 / / rw,relatime - ext4 /dev/vda rw",
		`50 22 0:41 / /mnt/a\040b rw - fuse.glusterfs h:/v rw`,
		`51 22 0:42 / /mnt/a\040b rw - fuse.glusterfs h:/v rw`, // mounted over the first
		"52 22 0:43 / /mnt/other rw - fuse.glusterfs h:/w rw",
	}
	if err := os.WriteFile(info, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{"/mnt/a b": "0:42", "/mnt/other/": "0:43", "/": "252:1"} {
		got, err := mountDevice(info, dir)
		if err != nil || got != want {
			t.Errorf("mountDevice(%q) = %q, %v; want %q", dir, got, err, want)
		}
	}
	if got, err := mountDevice(info, "/mnt/none"); err == nil {
		t.Errorf("mountDevice of a directory that is no mount point = %q, want an error", got)
	}
}

// The kernel would cap the mount's read-ahead at 128 KiB; Mount raises it.
func TestMountReadAhead(t *testing.T) {
	dir := mount(t, newMemFS())
	dev, err := mountDevice("/proc/self/mountinfo", dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("/sys/class/bdi/" + dev + "/read_ahead_kb")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(raw)); got != strconv.Itoa(readAhead>>10) {
		t.Errorf("read_ahead_kb = %s, want %d", got, readAhead>>10)
	}
}
