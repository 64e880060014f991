package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/volgen"
	"github.com/gluster-go/gluster-go/test/cluster"
)

// startupWait bounds how long a process may take to come up before the test
// gives up on it. It is a hang guard, not a performance check.
const startupWait = 60 * time.Second

// harness starts bricks and mounts from the binaries test/cluster builds
// once per run, each stopped and unmounted when the test that started it
// ends. It runs glusterfsd without glusterd, from volfiles it writes.
type harness struct {
	bin  string // directory holding the binaries
	work string // everything else; searchable by every user
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for FUSE mounts")
	}
	return &harness{bin: cluster.Build(t), work: searchableTempDir(t)}
}

// searchableTempDir returns a temp dir that other users can reach, so that
// mounts under it serve unprivileged tests.
func searchableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// brick is a running glusterfsd.
type brick struct {
	path string
	port int
	log  string
}

// brickPath returns a fresh directory for a brick.
func (h *harness) brickPath(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(h.work, "bricks", name)
	must(t, os.MkdirAll(p, 0o755))
	return p
}

// startVolume starts glusterfsd for every brick of v (bricks on 127.0.0.1
// under the harness) with the volfiles glusterd would generate, and
// returns the path of the client volfile, pointed at the bricks' ports.
func (h *harness) startVolume(t *testing.T, v *volgen.Volume) string {
	t.Helper()
	env := volgen.Env{Types: volgen.TypesOf(layers.Registry())}
	client, warnings, err := volgen.ClientVolfile(v, env)
	if err != nil {
		t.Fatalf("client volfile of %s: %v", v.Name, err)
	}
	for _, w := range warnings {
		t.Logf("volgen: %s", w)
	}
	for i := range v.Bricks {
		f, _, err := volgen.BrickVolfile(v, i, env)
		if err != nil {
			t.Fatalf("brick volfile %d of %s: %v", i, v.Name, err)
		}
		b := h.runBrick(t, v.Bricks[i].Path, f.String())
		c := client.Volume(fmt.Sprintf("%s-client-%d", v.Name, i))
		if c == nil {
			t.Fatalf("client volfile of %s has no %s-client-%d:\n%s", v.Name, v.Name, i, client)
		}
		c.SetOption("remote-port", strconv.Itoa(b.port))
	}
	path := filepath.Join(h.work, v.Name+".client.vol")
	writeVolfile(t, path, client.String())
	return path
}

// runBrick runs glusterfsd on a free port with the given brick volfile
// and returns once it accepts connections.
func (h *harness) runBrick(t *testing.T, path, volfileText string) *brick {
	t.Helper()
	name := filepath.Base(path)
	b := &brick{path: path, port: freePort(t)}
	b.log = filepath.Join(h.work, "log", "brick-"+name+".log")
	must(t, os.MkdirAll(filepath.Dir(b.log), 0o755))
	volfile := filepath.Join(h.work, name+".brick.vol")
	writeVolfile(t, volfile, volfileText)

	cmd := exec.Command(filepath.Join(h.bin, "glusterfsd"), "-N", "-f", volfile,
		"--brick-port", strconv.Itoa(b.port), "--listen-host", "127.0.0.1",
		"--brick-name", b.path, "-l", b.log, "-p", filepath.Join(h.work, name+".brick.pid"))
	cmd.Stdout, cmd.Stderr = logWriter(t, b.log+".out")
	cmd.SysProcAttr = diesWithTest()
	must(t, cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			dumpLog(t, b.log)
			dumpLog(t, b.log+".out")
		}
	})

	if err := cluster.WaitListen("127.0.0.1", b.port, exited); err != nil {
		t.Fatalf("glusterfsd of %s: %v", path, err)
	}
	return b
}

// mount is a glusterfs client process serving a mount point.
type mount struct {
	dir string
	log string
	pid int
	cmd *exec.Cmd // set when started with -N
}

// mountDaemon runs `glusterfs --volfile=VF MNT`, which returns once the
// mount answers, leaving the client in the background.
func (h *harness) mountDaemon(t *testing.T, volfile, dir string) *mount {
	t.Helper()
	m := h.newMount(t, dir)
	pidFile := m.log + ".pid"
	cmd := exec.Command(filepath.Join(h.bin, "glusterfs"), "--volfile="+volfile, "-l", m.log, "-p", pidFile, m.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		dumpLog(t, m.log)
		t.Fatalf("glusterfs --volfile=%s %s: %v\n%s", volfile, m.dir, err, out)
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("glusterfs returned without writing its pid file: %v", err)
	}
	m.pid, err = strconv.Atoi(strings.TrimSpace(string(pid)))
	must(t, err)
	m.checkMounted(t)
	return m
}

// mountForeground runs `glusterfs -N --volfile=VF MNT` and waits until the
// mount shows up.
func (h *harness) mountForeground(t *testing.T, volfile, dir string) *mount {
	t.Helper()
	m := h.newMount(t, dir)
	m.cmd = exec.Command(filepath.Join(h.bin, "glusterfs"), "-N", "--volfile="+volfile, "-l", m.log, m.dir)
	m.cmd.Stdout, m.cmd.Stderr = logWriter(t, m.log+".out")
	m.cmd.SysProcAttr = diesWithTest()
	must(t, m.cmd.Start())
	m.pid = m.cmd.Process.Pid
	t.Cleanup(func() {
		if m.cmd.ProcessState == nil {
			m.cmd.Process.Kill()
			m.cmd.Wait()
		}
	})
	deadline := time.Now().Add(startupWait)
	for !m.mounted() {
		if !processAlive(m.pid) || time.Now().After(deadline) {
			dumpLog(t, m.log)
			dumpLog(t, m.log+".out")
			t.Fatalf("glusterfs -N did not mount %s", m.dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.checkMounted(t)
	return m
}

// newMount prepares a mount point (dir, or a fresh one when dir is "") and
// registers its cleanup: unmount, then stop the client.
func (h *harness) newMount(t *testing.T, dir string) *mount {
	t.Helper()
	m := &mount{dir: dir}
	if dir == "" {
		f, err := os.MkdirTemp(h.work, "mnt")
		must(t, err)
		must(t, os.Chmod(f, 0o755))
		m.dir = f
	}
	must(t, os.MkdirAll(filepath.Join(h.work, "log"), 0o755))
	lf, err := os.CreateTemp(filepath.Join(h.work, "log"), "mount-*.log")
	must(t, err)
	lf.Close()
	m.log = lf.Name()
	t.Cleanup(func() {
		if t.Failed() {
			dumpLog(t, m.log)
			dumpLog(t, m.log+".out")
		}
		// A dead mount may lie under a live one: unmount all of them.
		for i := 0; i < 4 && m.mounted(); i++ {
			if err := cluster.Unmount(m.dir); err != nil {
				t.Error(err)
				break
			}
		}
		if m.pid != 0 && m.cmd == nil && processAlive(m.pid) {
			syscall.Kill(m.pid, syscall.SIGKILL)
		}
	})
	return m
}

func (m *mount) mounted() bool { return cluster.Mounted(m.dir) }

// checkMounted checks the mount table entry and that the mount answers.
func (m *mount) checkMounted(t *testing.T) {
	t.Helper()
	out, err := exec.Command("findmnt", "-n", "-o", "FSTYPE", "--mountpoint", m.dir).CombinedOutput()
	if types := strings.Fields(string(out)); err != nil || len(types) != 1 || types[0] != "fuse.glusterfs" {
		t.Fatalf("mounts on %s: %q (%v), want one fuse.glusterfs", m.dir, out, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(m.dir, &st); err != nil {
		t.Fatalf("stat %s: %v", m.dir, err)
	}
}

// waitGone waits until the process exits and the mount is gone.
func (m *mount) waitGone(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(startupWait)
	for processAlive(m.pid) || m.mounted() {
		if time.Now().After(deadline) {
			t.Fatalf("after unmounting %s: client alive %v, mounted %v", m.dir, processAlive(m.pid), m.mounted())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processAlive reports whether pid runs (a zombie counts as gone).
func processAlive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// diesWithTest makes a child get SIGKILL when the test process dies, so
// that a test killed by its timeout (which skips cleanups) leaves no
// servers behind.
func diesWithTest() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeVolfile(t *testing.T, path, text string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(text), 0o644))
}

// logWriter opens a file for a child's stdout and stderr.
func logWriter(t *testing.T, path string) (*os.File, *os.File) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	return f, f
}

// dumpLog shows the tail of a log when a test failed.
func dumpLog(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || len(b) == 0 {
		return
	}
	const tail = 8 << 10
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	t.Logf("--- %s (tail):\n%s", path, b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
