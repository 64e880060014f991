package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// startBrick runs a real glusterfsd serving brick on port (posix, locks,
// io-stats named by the brick path, protocol/server), stopped at cleanup.
func startBrick(t *testing.T, glusterfsd, brick string, port int) {
	t.Helper()
	dir := t.TempDir()
	vf := filepath.Join(dir, "brick.vol")
	text := fmt.Sprintf(`volume vol-posix
    type storage/posix
    option directory %[1]s
end-volume
volume vol-locks
    type features/locks
    subvolumes vol-posix
end-volume
volume %[1]s
    type debug/io-stats
    subvolumes vol-locks
end-volume
volume vol-server
    type protocol/server
    option auth.addr.%[1]s.allow 127.0.0.1
    subvolumes %[1]s
end-volume
`, brick)
	if err := os.WriteFile(vf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(glusterfsd, "-f", vf, "--brick-port", strconv.Itoa(port), "--listen-host", "127.0.0.1",
		"-l", filepath.Join(dir, "brick.log"), "-N")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "brick.log")); err == nil {
				t.Logf("brick log:\n%s", log)
			}
		}
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestEndToEnd mounts a volume served by a real glusterfsd. The client
// starts first: the mount must wait for the brick instead of failing.
func TestEndToEnd(t *testing.T) {
	glusterfsd := filepath.Join(filepath.Dir(bin), "glusterfsd")
	if out, err := exec.Command("go", "build", "-o", glusterfsd, "../glusterfsd").CombinedOutput(); err != nil {
		t.Skipf("no glusterfsd to test with: %v\n%s", err, out)
	}
	s := newSetup(t)
	port := freePort(t)
	client := fmt.Sprintf(`volume vol
    type protocol/client
    option remote-host 127.0.0.1
    option remote-port %d
    option remote-subvolume %s
    option transport-type tcp
end-volume
`, port, s.brick)
	if err := os.WriteFile(s.volfile, []byte(client), 0o644); err != nil {
		t.Fatal(err)
	}
	mounted := make(chan error, 1)
	go func() {
		// However loaded the machine, the brick comes: wait for it.
		out, err := exec.Command(bin, "-l", s.log, "-p", s.pidFile, "--up-timeout=600", "--volfile="+s.volfile, s.mnt).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, out)
		}
		mounted <- err
	}()
	startBrick(t, glusterfsd, s.brick, port)
	if err := <-mounted; err != nil {
		t.Fatalf("glusterfs: %v", err)
	}

	p := filepath.Join(s.mnt, "dir", "file")
	if err := os.Mkdir(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 3<<20+17) // several 1 MiB FUSE writes
	for i := range want {
		want[i] = byte(i * 7)
	}
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != string(want) {
		t.Fatalf("read back %d bytes (%v), want %d", len(got), err, len(want))
	}
	if onBrick, err := os.ReadFile(filepath.Join(s.brick, "dir", "file")); err != nil || len(onBrick) != len(want) {
		t.Errorf("on the brick: %d bytes, %v", len(onBrick), err)
	}
	if err := os.Rename(p, filepath.Join(s.mnt, "moved")); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(s.mnt)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[dir moved]" {
		t.Errorf("root lists %v", names)
	}
}
