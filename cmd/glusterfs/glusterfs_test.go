package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bin is the glusterfs binary under test, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "glusterfs-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "glusterfs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// setup is one test's brick, volfile, mount point and log.
type setup struct {
	brick, volfile, mnt, log, pidFile string
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	d := t.TempDir()
	s := &setup{
		brick:   filepath.Join(d, "brick"),
		volfile: filepath.Join(d, "vol.vol"),
		mnt:     filepath.Join(d, "mnt"),
		log:     filepath.Join(d, "client.log"),
		pidFile: filepath.Join(d, "client.pid"),
	}
	for _, p := range []string{s.brick, s.mnt} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(s.volfile, []byte(posixVolfile(s.brick)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if pid, err := s.pid(); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = unix.Unmount(s.mnt, unix.MNT_DETACH)
		if t.Failed() {
			if log, err := os.ReadFile(s.log); err == nil {
				t.Logf("client log:\n%s", log)
			}
		}
	})
	return s
}

func posixVolfile(brick string) string {
	return fmt.Sprintf("volume vol\n    type storage/posix\n    option directory %s\nend-volume\n", brick)
}

func (s *setup) pid() (int, error) {
	b, err := os.ReadFile(s.pidFile)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// mount runs glusterfs in the default (daemon) mode: it must return only
// once the mount answers.
func (s *setup) mount(t *testing.T, args ...string) {
	t.Helper()
	args = append([]string{"-l", s.log, "-p", s.pidFile}, args...)
	args = append(args, s.mnt)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("glusterfs %v: %v: %s", args, err, out)
	}
}

// mountInfo returns the fstype and source of the mount at dir, if any.
func mountInfo(t *testing.T, dir string) (fstype, source string, ok bool) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[4] != dir {
			continue
		}
		for i, x := range f {
			if x == "-" && i+2 < len(f) {
				fstype, source, ok = f[i+1], f[i+2], true
			}
		}
	}
	return fstype, source, ok
}

// waitGone waits for a process that is not our child to end and to have
// closed its files (its /dev/fuse above all).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 3000 {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		// A zombie nobody has reaped yet is gone once its other threads
		// are, which closes its descriptors.
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if bytes.Contains(stat, []byte(") Z ")) && len(fds) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d still running", pid)
}

func TestDaemonMountAndSIGTERM(t *testing.T) {
	s := newSetup(t)
	s.mount(t, "--volfile="+s.volfile)
	fstype, source, ok := mountInfo(t, s.mnt)
	if !ok || fstype != "fuse.glusterfs" || source != s.volfile {
		t.Fatalf("mount: %q %q %v", fstype, source, ok)
	}
	pid, err := s.pid()
	if err != nil {
		t.Fatal(err)
	}
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "glusterfs" {
		t.Errorf("process name %q", comm)
	}
	if err := os.WriteFile(filepath.Join(s.mnt, "hello"), []byte("world"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(s.brick, "hello")); err != nil || string(got) != "world" {
		t.Errorf("on the brick: %q %v", got, err)
	}
	// tar and cp open with O_NOFOLLOW.
	fd, err := unix.Open(filepath.Join(s.mnt, "hello"), unix.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		t.Fatalf("open O_NOFOLLOW: %v", err)
	}
	unix.Close(fd)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, _, ok := mountInfo(t, s.mnt); ok {
		t.Error("still mounted after SIGTERM")
	}
}

func TestUmountEndsClient(t *testing.T) {
	s := newSetup(t)
	s.mount(t, "--volfile="+s.volfile)
	pid, err := s.pid()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("umount", s.mnt).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v: %s", err, out)
	}
	waitGone(t, pid)
	if log, _ := os.ReadFile(s.log); !bytes.Contains(log, []byte("unmounted by the system")) {
		t.Errorf("log does not say the client saw the unmount:\n%s", log)
	}
}

func TestKilledClientMountReplaced(t *testing.T) {
	s := newSetup(t)
	s.mount(t, "--volfile="+s.volfile)
	pid, err := s.pid()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	// statfs is never answered from the kernel's caches.
	var st unix.Statfs_t
	if err := unix.Statfs(s.mnt, &st); err != syscall.ENOTCONN && err != syscall.ECONNABORTED && err != syscall.EIO {
		t.Fatalf("dead mount: statfs = %v, want ENOTCONN, ECONNABORTED or EIO", err)
	}
	if err := os.WriteFile(filepath.Join(s.brick, "kept"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.mount(t, "--volfile="+s.volfile)
	if got, err := os.ReadFile(filepath.Join(s.mnt, "kept")); err != nil || string(got) != "x" {
		t.Errorf("through the new mount: %q %v", got, err)
	}
}

func TestVolfileServer(t *testing.T) {
	var s *setup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/volfile" || r.URL.Query().Get("id") != "vol" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("wait") != "" {
			<-r.Context().Done() // no changes in this test
			return
		}
		w.Header().Set("X-Volfile-Version", "1")
		fmt.Fprint(w, posixVolfile(s.brick))
	}))
	// Registered first, so it runs after the client is gone and its long
	// poll with it.
	t.Cleanup(srv.Close)
	s = newSetup(t)
	addr := srv.Listener.Addr().String()
	// The first server is down: the client must go on to the next.
	s.mount(t, "-s", "127.0.0.1:1", "-s", addr, "--volfile-id", "vol")
	if _, source, ok := mountInfo(t, s.mnt); !ok || source != addr+":/vol" {
		t.Fatalf("mount source %q (mounted %v)", source, ok)
	}
	if err := os.Mkdir(filepath.Join(s.mnt, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(s.brick, "dir")); err != nil || !fi.IsDir() {
		t.Errorf("on the brick: %v %v", fi, err)
	}
}

func TestFailureReason(t *testing.T) {
	s := newSetup(t)
	bad := filepath.Join(t.TempDir(), "bad.vol")
	if err := os.WriteFile(bad, []byte("volume v\n type no/such\nend-volume\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-l", s.log, "--volfile="+bad, s.mnt).CombinedOutput()
	if err == nil {
		t.Fatal("mount of a bad volfile succeeded")
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "no/such") {
		t.Errorf("want a one-line reason naming the type, got %q", out)
	}
	if _, _, ok := mountInfo(t, s.mnt); ok {
		t.Error("mounted anyway")
	}
}

func TestReadOnlyAndOptions(t *testing.T) {
	s := newSetup(t)
	if err := os.WriteFile(filepath.Join(s.brick, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.mount(t, "--volfile="+s.volfile, "--read-only", "--use-readdirp=no", "--direct-io-mode=enable", "--acl", "--fopen-keep-cache",
		"--xlator-option=vol.dir-fd-cache=16", "--entry-timeout=0", "--attribute-timeout=0")
	if got, err := os.ReadFile(filepath.Join(s.mnt, "f")); err != nil || string(got) != "data" {
		t.Errorf("read: %q %v", got, err)
	}
	if ents, err := os.ReadDir(s.mnt); err != nil || len(ents) != 1 {
		t.Errorf("readdir: %v %v", ents, err)
	}
	if err := os.WriteFile(filepath.Join(s.mnt, "g"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write on a read-only mount: %v", err)
	}
}

func TestBadOption(t *testing.T) {
	s := newSetup(t)
	out, err := exec.Command(bin, "--volfile="+s.volfile, "--xlator-option=nodot", s.mnt).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "VOLUME.KEY=VALUE") {
		t.Errorf("bad --xlator-option: %v %s", err, out)
	}
}

func TestSubdirMount(t *testing.T) {
	s := newSetup(t)
	if err := os.MkdirAll(filepath.Join(s.brick, "sub", "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.mount(t, "--volfile="+s.volfile, "--subdir-mount=/sub")
	if _, source, ok := mountInfo(t, s.mnt); !ok || source != s.volfile+"/sub" {
		t.Errorf("mount source %q (mounted %v)", source, ok)
	}
	ents, err := os.ReadDir(s.mnt)
	if err != nil || len(ents) != 1 || ents[0].Name() != "inner" {
		t.Fatalf("subdir mount lists %v (%v), want [inner]", ents, err)
	}
	if err := os.WriteFile(filepath.Join(s.mnt, "inner", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.brick, "sub", "inner", "f")); err != nil {
		t.Errorf("on the brick: %v", err)
	}

	other := newSetup(t)
	out, err := exec.Command(bin, "-l", other.log, "--volfile="+other.volfile, "--subdir-mount=/nosuch", other.mnt).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "nosuch") {
		t.Errorf("mount of a missing subdir: %v %s", err, out)
	}
}

func TestStatedump(t *testing.T) {
	s := newSetup(t)
	dumps := t.TempDir()
	s.mount(t, "--volfile="+s.volfile, "--statedump-dir="+dumps)
	pid, err := s.pid()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(s.mnt, "open"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("glusterdump.%d.dump.", pid)
	for range 3000 {
		ents, _ := os.ReadDir(dumps)
		if len(ents) > 0 && strings.HasPrefix(ents[0].Name(), prefix) {
			data, err := os.ReadFile(filepath.Join(dumps, ents[0].Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), "open-files=1") || !strings.Contains(string(data), "DUMP-END-TIME") {
				t.Errorf("dump:\n%s", data)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no state dump written")
}
