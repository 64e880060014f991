package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelperRunsGlusterfs builds the helper next to a fake glusterfs that
// records its arguments, and runs it as mount(8) would.
func TestHelperRunsGlusterfs(t *testing.T) {
	dir := t.TempDir()
	helper := filepath.Join(dir, "mount.glusterfs")
	build := exec.Command("go", "build", "-o", helper, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	record := filepath.Join(dir, "args")
	fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + record + "\n[ -z \"$FAIL\" ]\n"
	if err := os.WriteFile(filepath.Join(dir, "glusterfs"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink to the helper still finds glusterfs next to its target.
	link := filepath.Join(t.TempDir(), "mount.glusterfs")
	if err := os.Symlink(helper, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link, "127.0.0.2:/gv0", "/mnt/x", "-o", "rw,_netdev,backupvolfile-server=127.0.0.3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	want := "--volfile-server=127.0.0.2\n--volfile-server=127.0.0.3\n--volfile-id=gv0\n/mnt/x\n"
	if string(got) != want {
		t.Errorf("glusterfs got\n%s\nwant\n%s", got, want)
	}

	cmd = exec.Command(link, "127.0.0.2:/gv0", "/mnt/x")
	cmd.Env = append(os.Environ(), "FAIL=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure || !strings.Contains(string(out), "Mount failed") {
		t.Errorf("failing glusterfs: %v\n%s", err, out)
	}

	out, err = exec.Command(link, "nonsense").CombinedOutput()
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
		t.Errorf("bad usage: %v\n%s", err, out)
	}
	out, err = exec.Command(link, "--version").Output()
	if err != nil || !strings.Contains(string(out), "gluster-go") {
		t.Errorf("--version: %v %q", err, out)
	}
}
